// Rulebook::decide: evaluates the compiled rules for one proposal.
// Everything here runs per decision; no allocation except the reasons.

#include <algorithm>
#include <cstdio>

#include "rules/rulebook_impl.hpp"
#include "rules/time_util.hpp"

namespace touchpoint::core::rules {

namespace {

bool contains(const std::vector<std::string>& v, std::string_view s) {
  for (const std::string& x : v)
    if (x == s) return true;
  return false;
}

/// An event counts when it happened within the window before the decision:
/// at - window < event.at <= at.
bool in_window(TimeMs event_at, TimeMs at, TimeMs window) { return event_at <= at && at - event_at < window; }

TimeMs floor_div(TimeMs a, TimeMs b) {
  TimeMs q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::string hhmm(TimeMs tod) {
  const auto h = static_cast<int>(tod / kHourMs);
  const auto m = static_cast<int>(tod % kHourMs / kMinuteMs);
  // snprintf, not string inserts: GCC 12 at -O3 warns (-Wrestrict) on those.
  char text[32];
  std::snprintf(text, sizeof text, "%02d:%02d", h, m);
  return text;
}

constexpr const char* kWeekdays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

class Evaluator {
 public:
  Evaluator(const Rulebook::Impl& rb, const CustomerSnapshot& s, const Proposal& p) : rb_(rb), s_(s), p_(p) {}

  /// Appends the blocking reasons for channel `ch` to `blocked`, the notes of flag rules to `notes`.
  void run(int ch, std::vector<Reason>& blocked, std::vector<Reason>& notes) const {
    const std::string& channel = rb_.channels[static_cast<size_t>(ch)];
    const ChannelMask bit = ChannelMask{1} << ch;
    for (const Rule& r : rb_.rules) {
      if ((r.channels & bit) == 0) continue;
      const bool in_scope =
          (r.purposes.empty() || contains(r.purposes, p_.purpose)) && !(p_.transactional && r.bypass_transactional);
      // Suppression lists marked all_purposes apply outside the purpose/transactional scope.
      if (!in_scope && r.kind != Kind::Suppression) continue;
      if (r.when && !r.when->eval(s_.attributes, p_, channel)) continue;
      std::vector<Reason>& out = r.flag ? notes : blocked;
      switch (r.kind) {
        case Kind::Consent:
          consent(r, channel, out);
          break;
        case Kind::Suppression:
          suppression(r, channel, bit, in_scope, out);
          break;
        case Kind::ChannelValidity:
          validity(r, channel, out);
          break;
        case Kind::FrequencyCap:
          cap(r, channel, out);
          break;
        case Kind::QuietPeriod:
          quiet(r, channel, out);
          break;
        case Kind::RecentPurchase:
          purchase(r, channel, out);
          break;
        case Kind::Condition:
          emit(out, r, channel, "condition is true: " + r.when->text());
          break;
        case Kind::ContactHours:
          hours(r, channel, out);
          break;
      }
    }
  }

 private:
  static void emit(std::vector<Reason>& out, const Rule& r, const std::string& channel, std::string detail) {
    out.push_back(Reason{r.name, r.code, std::move(detail), channel});
  }

  void consent(const Rule& r, const std::string& channel, std::vector<Reason>& out) const {
    const std::string& purpose = r.consent_purpose.empty() ? p_.purpose : r.consent_purpose;
    const auto it = s_.consents.find(std::pair<std::string, std::string>(channel, purpose));
    if (it == s_.consents.end()) {
      if (!r.opt_out) emit(out, r, channel, "no " + purpose + " consent for " + channel);
      return;
    }
    const ConsentState& c = it->second;
    if (c.status == "granted") return;
    if (r.opt_out && c.status != "denied" && c.status != "revoked") return;
    emit(out, r, channel,
         purpose + " consent for " + channel + " is " + (c.status.empty() ? "unknown" : c.status) +
             (c.at != 0 ? " since " + format_rfc3339(c.at) : ""));
  }

  void suppression(const Rule& r, const std::string& channel, ChannelMask bit, bool in_scope,
                   std::vector<Reason>& out) const {
    for (const SuppressionFact& f : s_.suppressions) {
      if (f.until != 0 && p_.at >= f.until) continue;  // expired
      if (!f.channels.empty() && !contains(f.channels, channel)) continue;
      const ListDecl* decl = nullptr;
      for (const ListDecl& d : r.lists)
        if (d.name == f.list) decl = &d;
      if (decl == nullptr && !r.other_lists_apply) continue;
      const bool all_purposes = decl != nullptr && decl->all_purposes;
      if (!all_purposes && !in_scope) continue;
      if (decl != nullptr && (decl->channels & bit) == 0) continue;
      std::string detail = "on suppression list '" + f.list + "'";
      if (!f.reason.empty()) detail += " (" + f.reason + ")";
      if (f.until != 0) detail += " until " + format_rfc3339(f.until);
      emit(out, r, channel, std::move(detail));
    }
  }

  void validity(const Rule& r, const std::string& channel, std::vector<Reason>& out) const {
    const auto it = s_.channels.find(channel);
    if (it == s_.channels.end() || !it->second.has_address) {
      emit(out, r, channel, "no " + channel + " address known");
      return;
    }
    const ChannelState& c = it->second;
    if (c.valid) return;
    std::string detail = channel + " address is invalid";
    if (c.invalid_since != 0) detail += " since " + format_rfc3339(c.invalid_since);
    if (!c.invalid_reason.empty()) detail += " (" + c.invalid_reason + ")";
    emit(out, r, channel, std::move(detail));
  }

  void cap(const Rule& r, const std::string& channel, std::vector<Reason>& out) const {
    if (r.same_campaign && p_.campaign.empty()) return;
    int64_t n = 0;
    for (const EventFact& e : s_.events) {
      if (!in_window(e.at, p_.at, r.window) || !contains(r.events, e.event_type)) continue;
      // Unknown (empty) channel or purpose counts: the cap errs towards fewer contacts.
      if (!r.across_channels && !e.channel.empty() && e.channel != channel) continue;
      if (!r.across_purposes && !e.purpose.empty() && e.purpose != p_.purpose) continue;
      if (r.same_campaign && e.campaign != p_.campaign) continue;
      ++n;
    }
    if (n < r.max) return;
    emit(out, r, channel,
         std::to_string(n) + (r.across_purposes ? "" : " " + p_.purpose) + " contacts" +
             (r.across_channels ? "" : " on " + channel) + (r.same_campaign ? " for campaign " + p_.campaign : "") +
             " in the last " + r.window_text + " (at most " + std::to_string(r.max) + ")");
  }

  void quiet(const Rule& r, const std::string& channel, std::vector<Reason>& out) const {
    const EventFact* latest = nullptr;
    for (const EventFact& e : s_.events)
      if (in_window(e.at, p_.at, r.window) && contains(r.events, e.event_type) && (!latest || e.at > latest->at))
        latest = &e;
    if (latest == nullptr) return;
    emit(out, r, channel,
         latest->event_type + " at " + format_rfc3339(latest->at) + ": quiet for " + r.window_text + " until " +
             format_rfc3339(latest->at + r.window));
  }

  void purchase(const Rule& r, const std::string& channel, std::vector<Reason>& out) const {
    const bool offer = r.match_product && !p_.offer.empty();
    const bool category = r.match_category && !p_.offer_category.empty();
    if (!offer && !category) return;
    const EventFact* latest = nullptr;
    bool by_product = false;
    for (const EventFact& e : s_.events) {
      if (!in_window(e.at, p_.at, r.window) || !contains(r.events, e.event_type)) continue;
      const bool prod = offer && e.product == p_.offer;
      const bool cat = category && e.category == p_.offer_category;
      if ((prod || cat) && (!latest || e.at > latest->at)) {
        latest = &e;
        by_product = prod;
      }
    }
    if (latest == nullptr) return;
    emit(out, r, channel,
         latest->event_type +
             (by_product ? " of product '" + latest->product + "'" : " in category '" + latest->category + "'") +
             " at " + format_rfc3339(latest->at) + ", within " + r.window_text);
  }

  void hours(const Rule& r, const std::string& channel, std::vector<Reason>& out) const {
    const date::sys_seconds st{std::chrono::seconds{floor_div(p_.at, kSecondMs)}};
    const date::sys_info info = r.tz->get_info(st);
    const TimeMs local = p_.at + static_cast<TimeMs>(info.offset.count()) * kSecondMs;
    const TimeMs day = floor_div(local, kDayMs);
    const TimeMs tod = local - day * kDayMs;
    const auto wd = static_cast<int>(((day % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
    const bool in_hours =
        r.from_ms < r.to_ms ? (tod >= r.from_ms && tod < r.to_ms) : (tod >= r.from_ms || tod < r.to_ms);
    const bool on_day = (r.days >> wd) & 1;
    if (in_hours && on_day) return;
    emit(out, r, channel,
         hhmm(tod) + " on a " + kWeekdays[wd] + " in " + r.tz_name + " is outside the contact hours " + r.hours_text +
             (r.days != 0x7F && !on_day ? " (not a contact day)" : ""));
  }

  const Rulebook::Impl& rb_;
  const CustomerSnapshot& s_;
  const Proposal& p_;
};

std::string lower_ascii(std::string_view s) {
  std::string o(s);
  for (char& c : o)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return o;
}

Reason builtin(std::string_view code, std::string detail, std::string channel) {
  return Reason{"", std::string(code), std::move(detail), std::move(channel)};
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

Decision Rulebook::decide(const CustomerSnapshot* snapshot, const Proposal& p) const {
  const Impl& rb = *impl_;
  Decision d;
  d.rulebook = rb.version;
  const bool best = p.channel == "best";
  if (!best) d.channel = p.channel;
  if (snapshot == nullptr) {
    d.reasons.push_back(builtin(codes::kUnknownCustomer,
                                p.customer.empty() ? "unknown customer" : "no customer found for '" + p.customer + "'",
                                d.channel));
    return d;
  }
  if (!rb.purposes.empty() && !contains(rb.purposes, p.purpose)) {
    d.reasons.push_back(
        builtin(codes::kUnknownPurpose,
                "purpose '" + p.purpose + "' is not declared in the rulebook (" + join(rb.purposes) + ")", d.channel));
    return d;
  }
  const Evaluator ev(rb, *snapshot, p);
  if (!best) {
    const int ch = rb.channel_index(p.channel);
    if (ch < 0) {
      d.reasons.push_back(builtin(
          codes::kUnknownChannel,
          "channel '" + p.channel + "' is not a channel of the rulebook (" + join(rb.channels) + ")", d.channel));
      return d;
    }
    ev.run(ch, d.reasons, d.notes);
    d.send = d.reasons.empty();
    return d;
  }

  // Routing: the preferred channel first, then the configured order.
  int candidates[kMaxChannels + 1];
  size_t n = 0;
  ChannelMask seen = 0;
  auto add = [&](int ch) {
    const ChannelMask bit = ChannelMask{1} << ch;
    if ((seen & bit) == 0) {
      seen |= bit;
      candidates[n++] = ch;
    }
  };
  std::vector<Reason> preference_notes;
  if (const auto it = snapshot->attributes.find(rb.routing.attribute);
      snapshot->attributes.is_object() && it != snapshot->attributes.end() && !it->is_null()) {
    const int ch = it->is_string() ? rb.channel_index(lower_ascii(it->get_ref<const std::string&>())) : -1;
    if (ch >= 0)
      add(ch);
    else
      preference_notes.push_back(builtin(codes::kPreferenceIgnored,
                                         rb.routing.attribute + " " + it->dump() + " is not a channel of the rulebook",
                                         ""));
  }
  for (int ch : rb.routing.order) add(ch);

  std::vector<Reason> skipped;
  std::vector<Reason> flags;
  for (size_t i = 0; i < n; ++i) {
    const size_t before = skipped.size();
    ev.run(candidates[i], skipped, flags);
    if (skipped.size() == before) {
      d.send = true;
      d.channel = rb.channels[static_cast<size_t>(candidates[i])];
      d.notes = std::move(preference_notes);
      d.notes.insert(d.notes.end(), std::make_move_iterator(skipped.begin()), std::make_move_iterator(skipped.end()));
      d.notes.insert(d.notes.end(), std::make_move_iterator(flags.begin()), std::make_move_iterator(flags.end()));
      return d;
    }
  }
  std::string tried;
  for (size_t i = 0; i < n; ++i) tried += (i ? ", " : "") + rb.channels[static_cast<size_t>(candidates[i])];
  d.reasons = std::move(skipped);
  d.reasons.push_back(
      builtin(codes::kNoChannel,
              n == 0 ? "no preferred channel and no routing order" : "no allowed channel (tried " + tried + ")", ""));
  d.notes = std::move(preference_notes);
  d.notes.insert(d.notes.end(), std::make_move_iterator(flags.begin()), std::make_move_iterator(flags.end()));
  return d;
}

TimeMs Rulebook::lookback_ms() const noexcept { return impl_->lookback; }

std::optional<Json> Rulebook::contact_hours(std::string_view channel) const {
  const int index = impl_->channel_index(channel);
  if (index < 0) return std::nullopt;
  for (const Rule& r : impl_->rules) {
    if (r.kind != Kind::ContactHours || r.flag || !(r.channels & (ChannelMask{1} << index))) continue;
    const size_t dash = r.hours_text.find('-');
    if (dash == std::string::npos) continue;
    return Json{{"timezone", r.tz_name}, {"from", r.hours_text.substr(0, dash)}, {"to", r.hours_text.substr(dash + 1)}};
  }
  return std::nullopt;
}
const std::string& Rulebook::version() const noexcept { return impl_->version; }
const std::string& Rulebook::file() const noexcept { return impl_->file; }
const std::vector<std::string>& Rulebook::channels() const noexcept { return impl_->channels; }
const std::vector<std::string>& Rulebook::purposes() const noexcept { return impl_->purposes; }
size_t Rulebook::test_count() const noexcept { return impl_->tests.size(); }

std::vector<std::string> Rulebook::rule_names() const {
  std::vector<std::string> names;
  names.reserve(impl_->rules.size());
  for (const Rule& r : impl_->rules) names.push_back(r.name);
  return names;
}

std::vector<Rulebook::RuleScope> Rulebook::scopes() const {
  std::vector<RuleScope> out;
  out.reserve(impl_->rules.size());
  for (const Rule& r : impl_->rules) {
    RuleScope scope{r.name, r.code, r.flag, {}, r.purposes, r.line};
    for (size_t i = 0; i < impl_->channels.size(); ++i)
      if ((r.channels >> i) & 1u) scope.channels.push_back(impl_->channels[i]);
    out.push_back(std::move(scope));
  }
  return out;
}

std::string Rulebook::check_proposal(const Proposal& p) const {
  const Impl& rb = *impl_;
  if (p.channel.empty()) return "channel: missing (one of " + join(rb.channels) + ", best)";
  if (p.channel != "best" && rb.channel_index(p.channel) < 0)
    return "channel: '" + p.channel + "' is not a channel of the rulebook (" + join(rb.channels) + ", best)";
  if (p.purpose.empty()) return "purpose: missing";
  if (!rb.purposes.empty() && !contains(rb.purposes, p.purpose))
    return "purpose: '" + p.purpose + "' is not declared in the rulebook (" + join(rb.purposes) + ")";
  return "";
}

Condition Rulebook::compile_condition(std::string_view text) const { return Condition::compile(text, impl_->schema); }

Json decision_json(const Decision& d) {
  auto reasons = [](const std::vector<Reason>& rs) {
    Json a = Json::array();
    for (const Reason& r : rs) {
      Json o = {{"rule", r.rule}, {"code", r.code}, {"detail", r.detail}};
      if (!r.channel.empty()) o["channel"] = r.channel;
      a.push_back(std::move(o));
    }
    return a;
  };
  Json j = Json::object();
  j["decision"] = d.send ? "send" : "suppress";
  j["channel"] = d.channel;
  j["reasons"] = reasons(d.reasons);
  j["notes"] = reasons(d.notes);
  j["rulebook"] = d.rulebook;
  return j;
}

}  // namespace touchpoint::core::rules
