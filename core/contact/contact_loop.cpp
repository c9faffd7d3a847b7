#include "contact/contact_loop.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "record/json_text.hpp"
#include "util/time_text.hpp"

namespace touchpoint::core::contact {
namespace {

constexpr size_t kMaxText = 256;
constexpr size_t kMaxUrlBytes = 2048;  // what the e-mail plugin's click tokens carry at most
constexpr size_t kMaxVarsBytes = 64 * 1024;
constexpr int64_t kDayMs = 86'400'000;

const std::set<std::string> kKinds = {"delivered",   "bounce_hard", "bounce_soft", "policy_block",    "complaint",
                                      "unsubscribe", "opened",      "clicked",     "letter_returned", "call_outcome"};
const std::set<std::string> kOutcomes = {"reached",      "no_answer",   "busy",           "voicemail", "callback",
                                         "wrong_number", "do_not_call", "not_interested", "sale"};
const std::set<std::string> kReturnReasons = {"moved", "unknown", "deceased", "refused", "insufficient_address"};

/// The defaults of docs/channels.md, by kind or "kind.sub".
std::vector<std::string> default_effects(const std::string& kind, const std::string& sub) {
  if (kind == "bounce_hard") return {"invalidate_channel", "timeline"};
  if (kind == "complaint" || kind == "unsubscribe") return {"revoke_consent", "timeline"};
  if (kind == "letter_returned") {
    if (sub == "moved") return {"update_address", "timeline"};
    if (sub == "deceased") return {"invalidate_channel", "suppress:deceased", "timeline"};
    return {"invalidate_channel", "timeline"};
  }
  if (kind == "call_outcome") {
    if (sub == "do_not_call") return {"revoke_consent", "timeline"};
    if (sub == "wrong_number") return {"invalidate_channel", "timeline"};
    if (sub == "sale") return {"purchase", "timeline"};
    if (sub == "callback") return {"callback", "timeline"};
  }
  if (kind == "delivered") return {};
  return {"timeline"};
}

/// The contact's state after a response of this kind.
std::string state_after(const std::string& kind) {
  static const std::map<std::string, std::string> m = {
      {"delivered", "delivered"},  {"bounce_hard", "bounced"},  {"bounce_soft", "soft_bounced"},
      {"policy_block", "blocked"}, {"complaint", "complained"}, {"unsubscribe", "unsubscribed"},
      {"opened", "opened"},        {"clicked", "clicked"},      {"letter_returned", "returned"},
      {"call_outcome", "answered"}};
  return m.at(kind);
}

/// Where a channel's validity lives on the profile (customer_view.cpp reads
/// it): the flag, its reason, and the attribute holding the address it is about.
struct ValidityKeys {
  std::string valid, reason, value;
};
ValidityKeys validity_keys(const std::string& channel) {
  if (channel == "email") return {"email_valid", "email_invalid_reason", "email"};
  if (channel == "post") return {"address_valid", "address_invalid_reason", "address"};
  return {"phone_valid", "phone_invalid_reason", "phone"};
}

struct Fields {
  std::string problem;
  const Json& d;
  explicit Fields(const Json& data) : d(data) {}

  bool fail(const std::string& key, const std::string& what) {
    if (problem.empty()) problem = "data." + key + " " + what;
    return false;
  }
  bool text(const char* key, std::string& out, bool required = false) {
    auto it = d.find(key);
    if (it == d.end() || it->is_null()) return required ? fail(key, "is required") : true;
    if (!it->is_string()) return fail(key, std::string("must be a string, not ") + it->type_name());
    const std::string& s = it->get_ref<const std::string&>();
    if (s.size() > kMaxText) return fail(key, "is longer than " + std::to_string(kMaxText) + " bytes");
    if (required && s.empty()) return fail(key, "must not be empty");
    out = s;
    return true;
  }
  bool flag(const char* key, bool& out) {
    auto it = d.find(key);
    if (it == d.end() || it->is_null()) return true;
    if (!it->is_boolean()) return fail(key, "must be true or false");
    out = it->get<bool>();
    return true;
  }
  bool time(const char* key, int64_t& out) {
    auto it = d.find(key);
    if (it == d.end() || it->is_null()) return true;
    std::optional<int64_t> t = time_of(*it);
    if (!t) return fail(key, "must be an RFC 3339 date-time or integer milliseconds");
    out = *t;
    return true;
  }
  bool customer(std::string& out) {
    auto it = d.find("customer");
    if (it == d.end() || it->is_null()) return fail("customer", "is required (an e-mail, kind:value or profile id)");
    if (it->is_number_integer()) {
      out = it->dump();
      return true;
    }
    return text("customer", out, true);
  }
};

bool contact_channel(const std::string& c) { return c == "email" || c == "phone" || c == "sms" || c == "post"; }

Json reasons_json(const std::vector<rules::Reason>& reasons) {
  Json a = Json::array();
  for (const rules::Reason& r : reasons)
    a.push_back({{"rule", r.rule}, {"code", r.code}, {"detail", r.detail}, {"channel", r.channel}});
  return a;
}

/// The postal address of a profile as the letter shop needs it.
Json postal_address(const Json& a) {
  if (auto it = a.find("address"); it != a.end() && it->is_object()) return *it;
  Json out = Json::object();
  for (const char* k : {"street", "zip", "city", "country"})
    if (auto it = a.find(k); it != a.end()) out[k] = *it;
  return out;
}

}  // namespace

bool known_response_kind(const std::string& kind) { return kKinds.count(kind) != 0; }
bool known_call_outcome(const std::string& outcome) { return kOutcomes.count(outcome) != 0; }
bool known_return_reason(const std::string& reason) { return kReturnReasons.count(reason) != 0; }

std::string contact_id_for(const std::string& source, const std::string& record_id) {
  std::string input = source;
  input.push_back('\0');
  input += record_id;
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), md);
  static const char* hex = "0123456789abcdef";
  std::string id = "c-";
  for (int i = 0; i < 12; ++i) {
    id.push_back(hex[md[i] >> 4]);
    id.push_back(hex[md[i] & 0xF]);
  }
  return id;
}

ContactLoop::ContactLoop(const Decider& decider, ContactConfig config) : decider_(decider), config_(std::move(config)) {
  check_config(config_);
}

void ContactLoop::check_config(const ContactConfig& config) {
  for (const auto& [key, effects] : config.effects) {
    const size_t dot = key.find('.');
    const std::string kind = key.substr(0, dot);
    const std::string sub = dot == std::string::npos ? "" : key.substr(dot + 1);
    if (!known_response_kind(kind))
      throw std::invalid_argument("customer.contacts.effects: unknown response kind '" + kind + "'");
    if (!sub.empty() && !(kind == "call_outcome" && known_call_outcome(sub)) &&
        !(kind == "letter_returned" && known_return_reason(sub)))
      throw std::invalid_argument("customer.contacts.effects: '" + key + "' names no outcome or return reason");
  }
}

void ContactLoop::set_channel_sinks(std::map<std::string, std::string> sinks) {
  std::lock_guard<std::mutex> lk(mu_);
  sinks_ = std::move(sinks);
}

void ContactLoop::set_feedback_sinks(std::vector<std::string> sinks) {
  std::lock_guard<std::mutex> lk(mu_);
  feedback_sinks_ = std::move(sinks);
}

std::string ContactLoop::sink_for(const std::string& channel) const {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = sinks_.find(channel);
  return it == sinks_.end() ? std::string() : it->second;
}

bool ContactLoop::handles(const std::string& type) const { return type == "contact_request" || type == "response"; }

void ContactLoop::apply(customer::LoopTxn& t, const Record& r, const std::string& pipeline) {
  if (r.type == "contact_request")
    apply_request(t, r, pipeline);
  else
    apply_response(t, r, pipeline);
}

std::vector<std::string> ContactLoop::effects_for(const std::string& kind, const std::string& sub) const {
  if (!sub.empty())
    if (auto it = config_.effects.find(kind + "." + sub); it != config_.effects.end()) return it->second;
  if (auto it = config_.effects.find(kind); it != config_.effects.end()) return it->second;
  return default_effects(kind, sub);
}

void ContactLoop::apply_request(customer::LoopTxn& t, const Record& r, const std::string& pipeline) {
  Fields f(r.data);
  rules::Proposal p;
  std::string template_name;
  bool holdout = false;
  int64_t not_before = 0;
  f.customer(p.customer) && f.text("channel", p.channel, true) && f.text("campaign", p.campaign, true) &&
      f.text("purpose", p.purpose, true) && f.text("offer", p.offer) && f.text("offer_category", p.offer_category) &&
      f.text("template", template_name) && f.flag("transactional", p.transactional) && f.flag("holdout", holdout) &&
      f.time("not_before", not_before);
  if (f.problem.empty() && p.channel != "best" && !contact_channel(p.channel))
    f.fail("channel", "must be email, phone, sms, post or best, not '" + p.channel.substr(0, 64) + "'");
  Json vars = Json::object();
  if (auto it = r.data.find("vars"); f.problem.empty() && it != r.data.end() && !it->is_null()) {
    if (!it->is_object())
      f.fail("vars", "must be an object");
    else if (it->dump().size() > kMaxVarsBytes)
      f.fail("vars", "is larger than " + std::to_string(kMaxVarsBytes) + " bytes");
    else
      vars = *it;
  }
  if (!f.problem.empty()) {
    t.dead_letter(r, pipeline, "invalid", f.problem);
    return;
  }
  const std::string id = contact_id_for(r.source, r.id);
  if (t.txn().contact(id)) return;  // applied before: a replay or a client's retry

  std::string error;
  std::optional<int64_t> profile = t.find(p.customer, &error);
  if (!error.empty()) {
    t.dead_letter(r, pipeline, "invalid", "data.customer: " + error);
    return;
  }
  const int64_t now = t.now();
  p.at = std::max(now, not_before);
  std::shared_ptr<const rules::Rulebook> rb = decider_.rulebook();
  rules::Decision d;
  if (!rb) {
    d.reasons.push_back(rules::Reason{"", "no_rulebook", "no rulebook is configured (customer.rulebook)", p.channel});
  } else if (profile) {
    rules::CustomerSnapshot s = t.snapshot(*profile, p.at - rb->lookback_ms());
    d = rb->decide(&s, p);
  } else {
    d = rb->decide(nullptr, p);
  }
  const std::string channel = d.channel.empty() ? p.channel : d.channel;
  std::string sink;
  if (d.send && !holdout) {
    sink = sink_for(channel);
    if (sink.empty()) {
      // Nothing stored: once a sink for the channel is configured, a replay
      // of this dead letter decides and sends it.
      t.dead_letter(r, pipeline, "no_channel",
                    "no sink sends channel '" + channel + "' (add a sink with channel: " + channel + " to a pipeline)");
      return;
    }
  }

  const Json reasons = reasons_json(d.reasons);
  if (profile) {
    Json proposal{{"customer", p.customer},           {"channel", p.channel}, {"purpose", p.purpose},
                  {"campaign", p.campaign},           {"offer", p.offer},     {"offer_category", p.offer_category},
                  {"transactional", p.transactional}, {"contact_id", id}};
    t.txn().add_decision(DecisionRow{0, p.at, *profile, p.customer, proposal.dump(), d.send ? "send" : "suppress",
                                     d.channel, reasons.dump(), d.rulebook, now});
  }
  ContactRow c;
  c.id = id;
  c.profile_id = profile.value_or(0);
  c.channel = channel;
  c.campaign = p.campaign;
  c.offer = p.offer;
  c.offer_category = p.offer_category;
  c.purpose = p.purpose;
  c.template_name = template_name;
  c.transactional = p.transactional;
  c.decision = !d.send ? "suppress" : holdout ? "holdout" : "send";
  c.reasons = reasons.dump();
  c.state = !d.send ? "suppressed" : holdout ? "holdout" : "queued";
  c.sink = sink;
  c.request_source = r.source;
  c.request_id = r.id;
  c.created_ms = c.updated_ms = now;
  t.txn().put_contact(c);
  t.txn().add_contact_event(ContactEventRow{
      id, now, "requested", Json{{"source", r.source}, {"record_id", r.id}, {"pipeline", pipeline}}.dump()});
  Json decided = rules::decision_json(d);
  if (holdout) decided["holdout"] = true;
  t.txn().add_contact_event(ContactEventRow{id, now, "decided", decided.dump()});
  if (c.state != "queued") return;

  EventRow sent;
  sent.profile_id = *profile;
  sent.at = p.at;
  sent.event_type = "message_sent";
  sent.channel = channel;
  sent.purpose = p.purpose;
  sent.product = p.offer;
  sent.category = p.offer_category;
  sent.campaign = p.campaign;
  sent.offer = p.offer;
  t.txn().add_event(sent);

  const Json a = t.attributes(*profile);
  Json data{{"contact_id", id},
            {"channel", channel},
            {"campaign", p.campaign},
            {"purpose", p.purpose},
            {"transactional", p.transactional},
            {"vars", vars}};
  if (!p.offer.empty()) data["offer"] = p.offer;
  if (!p.offer_category.empty()) data["offer_category"] = p.offer_category;
  if (!template_name.empty()) data["template"] = template_name;
  if (not_before > now) data["not_before"] = not_before;
  Json customer = a;
  customer["profile_id"] = *profile;
  data["customer"] = customer;
  if (channel == "email") {
    if (auto it = a.find("email"); it != a.end()) data["to"] = *it;
  } else if (channel == "post") {
    data["to"] = postal_address(a);
  } else if (auto it = a.find("phone"); it != a.end()) {
    data["to"] = *it;
  }
  if (rb)
    if (std::optional<Json> w = rb->contact_hours(channel)) data["calling_window"] = *w;
  Record message;
  message.id = id;
  message.type = "message";
  message.key = std::to_string(*profile);
  message.source = r.source;
  message.ts_ms = now;
  message.data = std::move(data);
  OutboxItem o;
  o.sink = sink;
  o.pipeline = pipeline;
  o.record_id = id;
  o.contact_id = id;
  o.envelope = json_text(to_json(message));
  o.next_ms = p.at;
  o.first_ms = now;
  t.queue(o);
}

void ContactLoop::apply_response(customer::LoopTxn& t, const Record& r, const std::string& pipeline) {
  Fields f(r.data);
  std::string contact_id, provider_id, channel, kind;
  int64_t at = r.ts_ms;
  f.text("contact_id", contact_id) && f.text("provider_id", provider_id) && f.text("channel", channel, true) &&
      f.text("kind", kind, true) && f.time("at", at);
  if (f.problem.empty() && !contact_channel(channel))
    f.fail("channel", "must be email, phone, sms or post, not '" + channel.substr(0, 64) + "'");
  if (f.problem.empty() && !known_response_kind(kind))
    f.fail("kind", "'" + kind.substr(0, 64) + "' is not a response kind (docs/channels.md)");
  if (f.problem.empty() && contact_id.empty() && provider_id.empty())
    f.fail("contact_id", "or data.provider_id is required to find the contact");
  Json detail = Json::object();
  if (auto it = r.data.find("detail"); f.problem.empty() && it != r.data.end() && !it->is_null()) {
    if (!it->is_object())
      f.fail("detail", "must be an object");
    else if (it->dump().size() > kMaxVarsBytes)
      f.fail("detail", "is larger than " + std::to_string(kMaxVarsBytes) + " bytes");
    else
      detail = *it;
  }
  std::string sub;
  auto detail_text = [&](const char* key) {
    auto it = detail.find(key);
    return it != detail.end() && it->is_string() ? it->get<std::string>().substr(0, kMaxText) : std::string();
  };
  if (f.problem.empty() && kind == "call_outcome") {
    sub = detail_text("outcome");
    if (!known_call_outcome(sub))
      f.problem = "data.detail.outcome '" + sub.substr(0, 64) + "' is not a call outcome (docs/channels.md)";
  }
  if (f.problem.empty() && kind == "letter_returned") {
    sub = detail_text("reason");
    if (!known_return_reason(sub))
      f.problem = "data.detail.reason '" + sub.substr(0, 64) + "' is not a return reason (docs/channels.md)";
  }
  if (!f.problem.empty()) {
    t.dead_letter(r, pipeline, "invalid", f.problem);
    return;
  }
  std::optional<ContactRow> c;
  if (!contact_id.empty()) c = t.txn().contact(contact_id);
  if (!c && !provider_id.empty()) c = t.txn().contact_by_provider(provider_id);
  if (!c) {
    t.dead_letter(r, pipeline, "unmatched",
                  "no contact matches this response (" +
                      (contact_id.empty() ? "provider_id '" + provider_id.substr(0, 64)
                                          : "contact_id '" + contact_id.substr(0, 64)) +
                      "')");
    return;
  }
  if (!t.first_time(r, pipeline, c->profile_id)) return;  // read twice: applied once

  const int64_t now = t.now();
  // A link scanner's click or a proxy's prefetch is on the record, flagged,
  // but does not move the contact: the state says what the person did.
  const auto machine_it = detail.find("machine");
  const bool machine = (kind == "opened" || kind == "clicked") && machine_it != detail.end() &&
                       machine_it->is_boolean() && machine_it->get<bool>();
  if (!machine) c->state = state_after(kind);
  c->updated_ms = now;
  t.txn().put_contact(*c);
  Json history{
      {"kind", kind}, {"at", format_rfc3339_ms(at)}, {"record_id", r.id}, {"source", r.source}, {"detail", detail}};
  t.txn().add_contact_event(ContactEventRow{c->id, now, "response:" + kind, history.dump()});
  if (c->profile_id == 0) return;

  // Effects are records of the store's own types: each keeps its lineage
  // (this response) and goes through the same rules as any other record.
  const Json customer = c->profile_id;
  auto effect = [&](const std::string& type, const std::string& suffix, Json data) {
    data["customer"] = customer;
    Record e;
    e.id = r.id + "#" + suffix;
    e.type = type;
    e.source = r.source;
    e.ts_ms = at;
    e.data = std::move(data);
    t.apply(e, pipeline);
  };
  // What the hub concluded, for the feedback sinks (the CRM should see it).
  Json applied = Json::array();
  auto invalidate = [&](const std::string& why) {
    const ValidityKeys k = validity_keys(channel);
    Json data{{k.valid, false}, {k.reason, why}};
    Json told{{"effect", "invalidate_channel"}, {"channel", channel}, {"reason", why}};
    // The verdict names the address it is about, so that a new one is valid again.
    const Json attributes = t.attributes(c->profile_id);
    if (auto v = attributes.find(k.value); v != attributes.end() && !v->is_null()) {
      data[k.value + "_invalid_for"] = *v;
      told["value"] = *v;
    }
    effect("profile", "invalidate", std::move(data));
    applied.push_back(std::move(told));
  };
  std::vector<std::string> effects = effects_for(kind, sub);
  if (kind == "letter_returned" && sub == "moved" && !detail.contains("new_address"))
    std::replace(effects.begin(), effects.end(), std::string("update_address"), std::string("invalidate_channel"));
  const std::string status = detail_text("status");
  const std::string why = kind + (sub.empty() ? "" : " " + sub) + (status.empty() ? "" : " " + status);
  for (const std::string& e : effects) {
    if (e == "invalidate_channel") {
      invalidate(why);
    } else if (e == "revoke_consent") {
      effect("consent", "consent",
             Json{{"channel", channel == "sms" ? "sms" : channel},
                  {"purpose", "marketing"},
                  {"status", "revoked"},
                  {"at", at},
                  {"evidence", Json{{"response", r.id}, {"kind", kind}, {"contact_id", c->id}}}});
      applied.push_back(Json{{"effect", "revoke_consent"}, {"channel", channel}, {"purpose", "marketing"}});
    } else if (e == "timeline") {
      // A machine's hit has its own event type, so that counting email_opened
      // and email_clicked counts people.
      const std::string type = kind == "call_outcome" ? "call_" + sub
                               : kind == "opened"     ? (machine ? "email_opened_by_machine" : "email_opened")
                               : kind == "clicked"    ? (machine ? "email_clicked_by_machine" : "email_clicked")
                                                      : "response_" + kind;
      Json ev{{"event_type", type}, {"channel", channel}, {"at", at}};
      if (!c->campaign.empty()) ev["campaign"] = c->campaign;
      if (!c->offer.empty()) ev["offer"] = c->offer;
      if (auto url = detail.find("url"); kind == "clicked" && url != detail.end() && url->is_string())
        ev["url"] = url->get<std::string>().substr(0, kMaxUrlBytes);
      effect("event", "timeline", ev);
    } else if (e == "purchase") {
      Json ev{{"event_type", "purchase"}, {"channel", channel}, {"at", at}};
      const std::string product = detail_text("product"), category = detail_text("category");
      ev["product"] = product.empty() ? c->offer : product;
      if (!category.empty() || !c->offer_category.empty())
        ev["category"] = category.empty() ? c->offer_category : category;
      if (!c->campaign.empty()) ev["campaign"] = c->campaign;
      if (!c->offer.empty()) ev["offer"] = c->offer;
      if (auto it = detail.find("revenue"); it != detail.end() && it->is_number()) ev["revenue"] = *it;
      Json told = ev;
      told.erase("event_type");
      told["effect"] = "purchase";
      applied.push_back(std::move(told));
      effect("event", "purchase", ev);
    } else if (e == "callback") {
      Record req;
      req.id = r.id + "#callback";
      req.type = "contact_request";
      req.source = r.source;
      req.ts_ms = at;
      req.data = Json{{"customer", customer},
                      {"channel", "phone"},
                      {"campaign", c->campaign.empty() ? "callback" : c->campaign},
                      {"purpose", c->purpose.empty() ? "marketing" : c->purpose}};
      if (!c->offer.empty()) req.data["offer"] = c->offer;
      if (!c->offer_category.empty()) req.data["offer_category"] = c->offer_category;
      if (auto it = detail.find("callback_at"); it != detail.end()) req.data["not_before"] = *it;
      apply_request(t, req, pipeline);
      applied.push_back(Json{{"effect", "callback"}, {"not_before", req.data.value("not_before", Json())}});
    } else if (e == "update_address") {
      effect("profile", "address", Json{{"address", detail["new_address"]}, {"address_valid", true}});
      applied.push_back(Json{{"effect", "update_address"}, {"address", detail["new_address"]}});
    } else if (e.rfind("suppress:", 0) == 0) {
      effect("suppression", "suppress", Json{{"list", e.substr(9)}, {"reason", why}, {"action", "add"}});
      applied.push_back(Json{{"effect", "suppress"}, {"list", e.substr(9)}, {"reason", why}});
    }
  }
  // Soft bounces are counted, not fatal: enough of them within the window
  // and the address is treated as invalid.
  if (kind == "bounce_soft" && config_.soft_bounce_max > 0) {
    const int64_t since = at - int64_t{config_.soft_bounce_window_days} * kDayMs;
    int n = 0;
    for (const EventRow& ev : t.txn().events_of(c->profile_id, since))
      n += ev.event_type == "response_bounce_soft" && ev.channel == channel;
    if (n >= config_.soft_bounce_max)
      invalidate("bounce_soft " + std::to_string(n) + " times in " + std::to_string(config_.soft_bounce_window_days) +
                 " days");
  }
  queue_feedback(t, r, pipeline, *c, kind, at, detail, std::move(applied));
}

void ContactLoop::queue_feedback(customer::LoopTxn& t, const Record& response, const std::string& pipeline,
                                 const ContactRow& c, const std::string& kind, int64_t at, const Json& detail,
                                 Json effects) {
  std::vector<std::string> sinks;
  {
    std::lock_guard<std::mutex> lk(mu_);
    sinks = feedback_sinks_;
  }
  if (sinks.empty()) return;
  // The identities let a CRM find its own record (ext:tryton, ext:crm, e-mail)
  // without asking the hub; the live profile, so a merge since the send counts.
  const int64_t profile = t.find(std::to_string(c.profile_id)).value_or(c.profile_id);
  Json identities = Json::object();
  for (const IdentityRow& row : t.txn().identities_of(profile)) identities[row.kind].push_back(row.value);
  Json about{{"id", response.id},    {"source", response.source},   {"kind", kind},
             {"channel", c.channel}, {"at", format_rfc3339_ms(at)}, {"detail", detail}};
  Json contact{{"id", c.id}, {"channel", c.channel}, {"campaign", c.campaign}, {"purpose", c.purpose}};
  if (!c.offer.empty()) contact["offer"] = c.offer;
  if (!c.offer_category.empty()) contact["offer_category"] = c.offer_category;
  Record fb;
  fb.id = response.id + "#feedback";
  fb.type = "feedback";
  fb.key = std::to_string(profile);
  fb.source = response.source;
  fb.ts_ms = t.now();
  fb.data = Json{{"customer", Json{{"profile_id", profile}, {"identities", std::move(identities)}}},
                 {"response", std::move(about)},
                 {"contact", std::move(contact)},
                 {"effects", std::move(effects)}};
  const std::string envelope = json_text(to_json(fb));
  for (const std::string& sink : sinks) {
    OutboxItem o;
    o.sink = sink;
    o.pipeline = pipeline;
    o.record_id = fb.id;
    o.envelope = envelope;
    o.next_ms = o.first_ms = t.now();
    t.queue(o);
  }
}

}  // namespace touchpoint::core::contact
