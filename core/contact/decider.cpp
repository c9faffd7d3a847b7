#include "contact/decider.hpp"

#include <simdjson.h>

#include "util/clock.hpp"
#include "util/time_text.hpp"

namespace touchpoint::core::contact {
namespace {

constexpr size_t kMaxDepth = 8;
constexpr size_t kMaxStringBytes = 1024;

using simdjson::dom::element;
using simdjson::dom::object;

std::optional<ProposalError> parse_one(element e, size_t index, int64_t now, ParsedProposal& out) {
  auto fail = [&](std::string field, std::string message) {
    return std::optional<ProposalError>(ProposalError{index, std::move(field), std::move(message)});
  };
  object o;
  if (e.get_object().get(o) != simdjson::SUCCESS) return fail("", "a proposal must be a JSON object");
  rules::Proposal& p = out.proposal;
  bool have_customer = false, have_channel = false;
  for (auto field : o) {
    const std::string_view key = field.key;
    element v = field.value;
    auto text = [&](std::string& target) -> std::optional<ProposalError> {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return fail(std::string(key), "must be a string");
      if (s.size() > kMaxStringBytes)
        return fail(std::string(key), "is longer than " + std::to_string(kMaxStringBytes) + " bytes");
      target.assign(s);
      return std::nullopt;
    };
    std::optional<ProposalError> err;
    if (key == "customer") {
      err = text(p.customer);
      have_customer = true;
    } else if (key == "channel") {
      err = text(p.channel);
      have_channel = true;
    } else if (key == "purpose") {
      err = text(p.purpose);
    } else if (key == "campaign") {
      err = text(p.campaign);
    } else if (key == "offer") {
      err = text(p.offer);
    } else if (key == "offer_category") {
      err = text(p.offer_category);
    } else if (key == "transactional" || key == "record") {
      bool b = false;
      if (v.get_bool().get(b) != simdjson::SUCCESS) return fail(std::string(key), "must be true or false");
      (key == "record" ? out.record : p.transactional) = b;
    } else if (key == "at") {
      std::string_view s;
      int64_t ms = 0;
      if (v.get_string().get(s) == simdjson::SUCCESS) {
        std::optional<int64_t> t = parse_rfc3339_ms(s);
        if (!t) return fail("at", "must be an RFC 3339 date-time such as 2026-12-01T09:30:00Z");
        p.at = *t;
      } else if (v.get_int64().get(ms) == simdjson::SUCCESS) {
        p.at = ms;
      } else {
        return fail("at", "must be an RFC 3339 date-time or integer milliseconds");
      }
    } else {
      return fail(std::string(key),
                  "is not a proposal field (customer, channel, purpose, campaign, offer, offer_category, "
                  "transactional, at, record)");
    }
    if (err) return err;
  }
  if (!have_customer || p.customer.empty())
    return fail("customer", "is required (an e-mail, kind:value or profile id)");
  if (!have_channel || p.channel.empty()) return fail("channel", "is required (email, phone, sms, post or best)");
  if (p.purpose.empty()) return fail("purpose", "must not be empty");
  if (p.at == 0) p.at = now;
  return std::nullopt;
}

}  // namespace

std::variant<std::vector<ParsedProposal>, ProposalError> parse_proposals(std::string_view body, int64_t now,
                                                                         size_t max) {
  simdjson::dom::parser parser(body.size() + 64);
  if (parser.allocate(body.size() + 64, kMaxDepth) != simdjson::SUCCESS)
    return ProposalError{0, "", "the body is too large"};
  element root;
  simdjson::error_code ec = parser.parse(body.data(), body.size()).get(root);
  if (ec == simdjson::DEPTH_ERROR) return ProposalError{0, "", "the body is nested deeper than a proposal can be"};
  if (ec != simdjson::SUCCESS)
    return ProposalError{0, "", std::string("malformed JSON: ") + simdjson::error_message(ec)};
  std::vector<ParsedProposal> out;
  if (root.is_array()) {
    simdjson::dom::array a = root.get_array().value_unsafe();
    if (a.size() > max)
      return ProposalError{0, "", "more than " + std::to_string(max) + " proposals in one request; split them"};
    if (a.size() == 0) return ProposalError{0, "", "an empty array decides nothing"};
    size_t i = 0;
    for (element e : a) {
      ParsedProposal pp;
      if (auto err = parse_one(e, i, now, pp)) return *err;
      out.push_back(std::move(pp));
      ++i;
    }
    return out;
  }
  ParsedProposal pp;
  if (auto err = parse_one(root, 0, now, pp)) return *err;
  out.push_back(std::move(pp));
  return out;
}

Decider::Decider(customer::CustomerStore& customers, std::shared_ptr<const rules::Rulebook> rulebook)
    : customers_(customers), rulebook_(std::move(rulebook)) {}

void Decider::set_rulebook(std::shared_ptr<const rules::Rulebook> rulebook) {
  std::lock_guard<std::mutex> lk(mu_);
  rulebook_ = std::move(rulebook);
}

std::shared_ptr<const rules::Rulebook> Decider::rulebook() const {
  std::lock_guard<std::mutex> lk(mu_);
  return rulebook_;
}

rules::Decision Decider::decide(rules::Proposal p, bool record) {
  if (p.at == 0) p.at = now_ms();
  std::shared_ptr<const rules::Rulebook> rb = rulebook();
  rules::Decision d;
  std::optional<ProfileRow> row = customers_.find(p.customer);
  if (!rb) {
    d.send = false;
    d.reasons.push_back(rules::Reason{"", "no_rulebook", "no rulebook is configured (customer.rulebook)", p.channel});
  } else if (row) {
    rules::CustomerSnapshot s = customers_.snapshot_from(*row, p.at - rb->lookback_ms());
    d = rb->decide(&s, p);
  } else {
    d = rb->decide(nullptr, p);
  }
  if (record && row) {
    Json reasons = Json::array();
    for (const rules::Reason& r : d.reasons)
      reasons.push_back({{"rule", r.rule}, {"code", r.code}, {"detail", r.detail}, {"channel", r.channel}});
    Json proposal{{"customer", p.customer},          {"channel", p.channel}, {"purpose", p.purpose},
                  {"campaign", p.campaign},          {"offer", p.offer},     {"offer_category", p.offer_category},
                  {"transactional", p.transactional}};
    customers_.record_decision(DecisionRow{0, p.at, row->id, p.customer, proposal.dump(), d.send ? "send" : "suppress",
                                           d.channel, reasons.dump(), d.rulebook, now_ms()});
  }
  return d;
}

std::pair<int, Json> Decider::decide_body(std::string_view body) {
  auto parsed = parse_proposals(body, now_ms(), kMaxProposals);
  if (auto* err = std::get_if<ProposalError>(&parsed)) {
    const int status = err->message.rfind("more than", 0) == 0 ? 413 : 400;
    Json e{{"error", (err->field.empty() ? std::string() : err->field + ": ") + err->message}};
    if (!err->field.empty()) e["field"] = err->field;
    if (body.find_first_not_of(" \t\r\n") != std::string_view::npos && body[body.find_first_not_of(" \t\r\n")] == '[')
      e["index"] = err->index;
    return {status, e};
  }
  auto& proposals = std::get<std::vector<ParsedProposal>>(parsed);
  std::shared_ptr<const rules::Rulebook> rb = rulebook();
  if (rb) {
    for (size_t i = 0; i < proposals.size(); ++i) {
      const std::string problem = rb->check_proposal(proposals[i].proposal);
      if (!problem.empty()) {
        Json e{{"error", problem}};
        const size_t colon = problem.find(':');
        if (colon != std::string::npos) e["field"] = problem.substr(0, colon);
        if (proposals.size() > 1 || body[body.find_first_not_of(" \t\r\n")] == '[') e["index"] = i;
        return {400, e};
      }
    }
  }
  const bool array = body[body.find_first_not_of(" \t\r\n")] == '[';
  Json answers = Json::array();
  for (ParsedProposal& pp : proposals) answers.push_back(rules::decision_json(decide(pp.proposal, pp.record)));
  return {200, array ? answers : answers[0]};
}

}  // namespace touchpoint::core::contact
