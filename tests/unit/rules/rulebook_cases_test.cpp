// The shipped config/rulebook.yaml: it loads, has the seed's rules under
// their names, and every test case in it passes.

#include <gtest/gtest.h>

#include <algorithm>

#include "rules/rulebook_tests.hpp"
#include "rules_test_util.hpp"

namespace touchpoint::core::rules {
namespace {

const std::string kShipped = std::string(TOUCHPOINT_SOURCE_DIR) + "/config/rulebook.yaml";

TEST(ShippedRulebook, LoadsWithTheSeedRules) {
  const Rulebook rb = Rulebook::load(kShipped);
  const auto names = rb.rule_names();
  for (const char* n :
       {"marketing consent required on every channel", "suppression lists",
        "10 days without marketing after a branch visit", "no offer of a product or category bought within 30 days",
        "credit_score below 500 excludes credit offers", "at most 2 marketing e-mails per rolling 7 days",
        "calls only 08:00-20:00 Europe/Berlin"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_EQ(rb.lookback_ms(), 30 * kDayMs);
  EXPECT_EQ(rb.version().rfind("sha256:", 0), 0u);
  EXPECT_EQ(rb.version().size(), 7u + 16u);
  EXPECT_GE(rb.test_count(), 30u);
}

TEST(ShippedRulebook, AllCasesPass) {
  const Rulebook rb = Rulebook::load(kShipped);
  const RulebookTests t = run_tests(rb);
  EXPECT_TRUE(t.ok()) << format_report(t);
  EXPECT_EQ(t.passed, rb.test_count());
}

TEST(RulebookCases, FailingCasesReportTheDifference) {
  const Rulebook rb = test::load_text(R"(
routing: { order: [email, post] }
rules:
  - { name: consent, kind: consent, effect: suppress, purposes: [marketing] }
  - { name: flag post, kind: condition, effect: flag, when: "channel == 'post'" }
tests:
  - name: passes
    at: 2026-03-03T10:00:00Z
    customer: { consents: [{ channel: post, status: granted }] }
    proposal: { channel: best }
    expect: { decision: send, channel: post, notes: [{ code: consent_missing, channel: email }, condition] }
  - name: wrong decision and channel
    at: 2026-03-03T10:00:00Z
    customer: {}
    proposal: { channel: email }
    expect: { decision: send, channel: post }
  - name: wrong reasons
    at: 2026-03-03T10:00:00Z
    customer: {}
    proposal: { channel: email }
    expect: { decision: suppress, reasons: [{ code: consent_missing, channel: post }, suppressed] }
  - name: wrong order
    at: 2026-03-03T10:00:00Z
    customer: {}
    proposal: { channel: best }
    expect: { decision: suppress, reasons: [no_channel, consent_missing, consent_missing], ordered: true }
  - name: reasons in any order
    at: 2026-03-03T10:00:00Z
    customer: {}
    proposal: { channel: best }
    expect: { decision: suppress, reasons: [no_channel, { code: consent_missing, channel: post }, consent_missing] }
  - name: unknown
    at: 2026-03-03T10:00:00Z
    unknown: true
    proposal: { channel: best }
    expect: { decision: suppress, channel: "", reasons: [unknown_customer] }
)");
  const RulebookTests t = run_tests(rb);
  ASSERT_EQ(t.cases.size(), 6u);
  EXPECT_EQ(t.passed, 3u);
  EXPECT_EQ(t.failed, 3u);
  EXPECT_FALSE(t.ok());
  EXPECT_TRUE(t.cases[0].passed) << t.cases[0].difference;
  EXPECT_EQ(t.cases[0].where, rb.file() + ":7");
  EXPECT_EQ(t.cases[1].difference,
            "decision: expected send, got suppress on email\n"
            "channel: expected 'post', got 'email'\n"
            "unexpected reason: consent_missing (rule 'consent') on email: no marketing consent for email");
  EXPECT_EQ(t.cases[2].difference,
            "missing reason: consent_missing on post\n"
            "missing reason: suppressed\n"
            "unexpected reason: consent_missing (rule 'consent') on email: no marketing consent for email");
  EXPECT_EQ(t.cases[3].difference,
            "reason in order: expected [no_channel, consent_missing, consent_missing], got [consent_missing@email, "
            "consent_missing@post, no_channel]");
  EXPECT_TRUE(t.cases[4].passed) << t.cases[4].difference;
  EXPECT_TRUE(t.cases[5].passed) << t.cases[5].difference;
  const std::string report = format_report(t);
  EXPECT_NE(report.find("ok   passes  (" + rb.file() + ":7)\n"), std::string::npos) << report;
  EXPECT_NE(report.find("FAIL wrong reasons  (" + rb.file() + ":17)\n       missing reason: consent_missing on post\n"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("3 passed, 3 failed\n"), std::string::npos) << report;
}

}  // namespace
}  // namespace touchpoint::core::rules
