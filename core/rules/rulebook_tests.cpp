#include "rules/rulebook_tests.hpp"

#include <algorithm>

#include "rules/rulebook_impl.hpp"

namespace touchpoint::core::rules {

namespace {

bool matches(const ExpectedReason& e, const Reason& r) {
  return e.code == r.code && (e.rule.empty() || e.rule == r.rule) && (e.channel.empty() || e.channel == r.channel);
}

std::string describe(const ExpectedReason& e) {
  std::string s = e.code;
  if (!e.rule.empty()) s += " (rule '" + e.rule + "')";
  if (!e.channel.empty()) s += " on " + e.channel;
  return s;
}

std::string describe(const Reason& r) {
  std::string s = r.code;
  if (!r.rule.empty()) s += " (rule '" + r.rule + "')";
  if (!r.channel.empty()) s += " on " + r.channel;
  if (!r.detail.empty()) s += ": " + r.detail;
  return s;
}

void compare(const std::vector<ExpectedReason>& expected, const std::vector<Reason>& actual, bool ordered,
             const std::string& what, std::vector<std::string>& diffs) {
  if (ordered) {
    bool same = expected.size() == actual.size();
    for (size_t i = 0; same && i < expected.size(); ++i) same = matches(expected[i], actual[i]);
    if (same) return;
    std::string e, a;
    for (const auto& x : expected) e += (e.empty() ? "" : ", ") + describe(x);
    for (const auto& x : actual) a += (a.empty() ? "" : ", ") + x.code + (x.channel.empty() ? "" : "@" + x.channel);
    diffs.push_back(what + " in order: expected [" + e + "], got [" + a + "]");
    return;
  }
  // Most specific expectations first, so a bare code does not take the
  // reason a {code, rule, channel} expectation needs.
  std::vector<size_t> order(expected.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto specificity = [&](size_t i) {
    return (expected[i].rule.empty() ? 0 : 1) + (expected[i].channel.empty() ? 0 : 1);
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return specificity(a) > specificity(b); });
  std::vector<bool> used(actual.size(), false);
  std::vector<bool> found(expected.size(), false);
  for (size_t i : order) {
    for (size_t k = 0; k < actual.size(); ++k) {
      if (!used[k] && matches(expected[i], actual[k])) {
        used[k] = true;
        found[i] = true;
        break;
      }
    }
  }
  for (size_t i = 0; i < expected.size(); ++i)
    if (!found[i]) diffs.push_back("missing " + what + ": " + describe(expected[i]));
  for (size_t k = 0; k < actual.size(); ++k)
    if (!used[k]) diffs.push_back("unexpected " + what + ": " + describe(actual[k]));
}

}  // namespace

RulebookTests run_tests(const Rulebook& rulebook) {
  const Rulebook::Impl& rb = rulebook.impl();
  RulebookTests out;
  for (const TestCase& tc : rb.tests) {
    CaseResult r;
    r.name = tc.name;
    r.where = rb.file + ":" + std::to_string(tc.line);
    r.actual = rulebook.decide(tc.unknown ? nullptr : &tc.customer, tc.proposal);
    std::vector<std::string> diffs;
    const Decision& d = r.actual;
    if (d.send != tc.expect_send)
      diffs.push_back(std::string("decision: expected ") + (tc.expect_send ? "send" : "suppress") + ", got " +
                      (d.send ? "send" : "suppress") + (d.channel.empty() ? "" : " on " + d.channel));
    if (tc.check_channel && d.channel != tc.expect_channel)
      diffs.push_back("channel: expected '" + tc.expect_channel + "', got '" + d.channel + "'");
    if (tc.check_reasons) compare(tc.reasons, d.reasons, tc.ordered, "reason", diffs);
    if (tc.check_notes) compare(tc.notes, d.notes, tc.ordered, "note", diffs);
    r.passed = diffs.empty();
    for (const std::string& s : diffs) r.difference += (r.difference.empty() ? "" : "\n") + s;
    (r.passed ? out.passed : out.failed)++;
    out.cases.push_back(std::move(r));
  }
  return out;
}

std::string format_report(const RulebookTests& results) {
  std::string out;
  for (const CaseResult& c : results.cases) {
    out += (c.passed ? "ok   " : "FAIL ") + c.name + "  (" + c.where + ")\n";
    if (!c.passed) {
      size_t start = 0;
      while (start <= c.difference.size()) {
        size_t nl = c.difference.find('\n', start);
        if (nl == std::string::npos) nl = c.difference.size();
        out += "       " + c.difference.substr(start, nl - start) + "\n";
        start = nl + 1;
      }
    }
  }
  out += std::to_string(results.passed) + " passed, " + std::to_string(results.failed) + " failed\n";
  return out;
}

}  // namespace touchpoint::core::rules
