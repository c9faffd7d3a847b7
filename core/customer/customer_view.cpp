// Reading the customer model: references, the 360-degree view, and the
// snapshots the rulebook decides over. Reads use the store's read
// connection, never the writer.
#include "customer/customer_store.hpp"
#include "util/time_text.hpp"

namespace touchpoint::core::customer {
namespace {

bool non_empty(const Json& attributes, const char* key) {
  auto it = attributes.find(key);
  if (it == attributes.end() || it->is_null()) return false;
  if (it->is_string()) return !it->get_ref<const std::string&>().empty();
  if (it->is_object() || it->is_array()) return !it->empty();
  return true;
}

/// Channel validity from the profile: an address must be known, and a
/// response (hard bounce, returned letter, wrong number) may have marked it
/// invalid through <channel>_valid: false. That verdict is about the address
/// it names in <value>_invalid_for: once the customer has another e-mail,
/// number or address, the channel is valid again without anyone resetting it.
std::map<std::string, rules::ChannelState> channels_of(const ProfileState& state, const std::vector<IdentityRow>& ids) {
  const Json& a = state.attributes();
  auto has_identity = [&](const char* kind) {
    for (const IdentityRow& i : ids)
      if (i.kind == kind) return true;
    return false;
  };
  auto make = [&](bool has, const char* valid_key, const char* reason_key, const char* value_key) {
    rules::ChannelState c;
    c.has_address = has;
    auto v = a.find(valid_key);
    c.valid = v == a.end() || !v->is_boolean() || v->get<bool>();
    if (!c.valid) {
      const auto about = a.find(std::string(value_key) + "_invalid_for"), now = a.find(value_key);
      if (about != a.end() && now != a.end() && *about != *now) c.valid = true;  // a new address since
    }
    if (!c.valid) {
      if (auto r = a.find(reason_key); r != a.end() && r->is_string()) c.invalid_reason = r->get<std::string>();
      const Json& l = state.lineage();
      if (auto li = l.find(valid_key); li != l.end() && li->contains("ts"))
        c.invalid_since = (*li)["ts"].get<int64_t>();
    }
    return c;
  };
  std::map<std::string, rules::ChannelState> out;
  out["email"] = make(has_identity("email") || non_empty(a, "email"), "email_valid", "email_invalid_reason", "email");
  const bool phone = has_identity("phone") || non_empty(a, "phone");
  out["phone"] = make(phone, "phone_valid", "phone_invalid_reason", "phone");
  out["sms"] = make(phone, "phone_valid", "phone_invalid_reason", "phone");
  const bool postal = non_empty(a, "address") || (non_empty(a, "street") && non_empty(a, "city"));
  out["post"] = make(postal, "address_valid", "address_invalid_reason", "address");
  return out;
}

std::vector<std::string> subjects_of(int64_t profile, const std::vector<IdentityRow>& ids) {
  std::vector<std::string> s{"profile:" + std::to_string(profile)};
  for (const IdentityRow& i : ids) s.push_back(i.kind + ":" + i.value);
  return s;
}

}  // namespace

std::optional<ProfileRow> CustomerStore::find(const std::string& reference, std::string* error) {
  CustomerRef ref = resolver_.parse_reference(reference);
  if (!ref.error.empty()) {
    if (error) *error = ref.error;
    return std::nullopt;
  }
  StoreReads& r = store_.reads();
  int64_t p = ref.profile_id;
  if (ref.identity) {
    std::optional<int64_t> found = r.identity_profile(ref.identity->kind, ref.identity->value);
    if (!found) return std::nullopt;
    p = *found;
  }
  for (int hops = 0; hops < 64; ++hops) {  // a merged profile's id still leads to the survivor
    std::optional<ProfileRow> row = r.profile(p);
    if (!row) return std::nullopt;
    if (row->merged_into == 0) return row;
    p = row->merged_into;
  }
  return std::nullopt;
}

std::optional<int64_t> CustomerStore::resolve(const std::string& reference, std::string* error) {
  std::optional<ProfileRow> row = find(reference, error);
  return row ? std::optional<int64_t>(row->id) : std::nullopt;
}

rules::CustomerSnapshot CustomerStore::snapshot_from(const ProfileRow& row, int64_t since_ms) {
  return build_snapshot(store_.reads(), row.id, ProfileState::parse_without_candidates(row.state, row.attributes),
                        since_ms);
}

rules::CustomerSnapshot CustomerStore::build_snapshot(StoreReads& r, int64_t id, const ProfileState& state,
                                                      int64_t since_ms) {
  rules::CustomerSnapshot s;
  s.profile_id = id;
  s.attributes = state.attributes();  // copied: channels_of reads the state below
  for (const auto& [key, c] : state.consents()) {
    const size_t slash = key.find('/');
    if (slash == std::string::npos) continue;
    s.consents[{key.substr(0, slash), key.substr(slash + 1)}] = rules::ConsentState{c.status, c.at, c.source};
  }
  const std::vector<IdentityRow> ids = r.identities_of(id);
  s.channels = channels_of(state, ids);
  for (const EventRow& e : r.events_of(id, since_ms))
    s.events.push_back(rules::EventFact{e.event_type, e.at, e.channel, e.purpose, e.product, e.category, e.campaign});
  for (const SuppressionRow& x : r.suppressions_for(subjects_of(id, ids)))
    s.suppressions.push_back(rules::SuppressionFact{x.list, x.reason, x.channels, x.until_ms});
  return s;
}

std::optional<rules::CustomerSnapshot> CustomerStore::snapshot(int64_t profile, int64_t since_ms) {
  std::optional<ProfileRow> row = store_.reads().profile(profile);
  if (!row || row->merged_into != 0) return std::nullopt;
  return snapshot_from(*row, since_ms);
}

std::optional<ProfileView> CustomerStore::view(int64_t profile, size_t recent) {
  StoreReads& r = store_.reads();
  std::optional<ProfileRow> row = r.profile(profile);
  if (!row) return std::nullopt;
  ProfileView v;
  v.row = *row;
  v.state = ProfileState::parse(row->state, row->attributes);
  v.identities = r.identities_of(profile);
  v.merged_profiles = r.merged_into(profile);
  v.suppressions = r.suppressions_for(subjects_of(profile, v.identities));
  v.channels = channels_of(v.state, v.identities);
  v.timeline = r.events_of(profile, INT64_MIN);
  if (v.timeline.size() > recent) v.timeline.resize(recent);
  v.records = r.records_of(profile, recent, true);
  v.decisions = r.decisions_of(profile, recent);
  v.merges = r.merges_of(profile);
  v.conflicts = r.conflicts_of(profile);
  return v;
}

Json view_json(const ProfileView& v) {
  Json attributes = Json::object();
  for (const auto& [name, value] : v.state.attributes().items()) {
    Json entry{{"value", value}};
    if (auto l = v.state.lineage().find(name); l != v.state.lineage().end()) {
      Json lineage = *l;
      if (lineage.contains("ts")) lineage["at"] = format_rfc3339_ms(lineage["ts"].get<int64_t>());
      entry["from"] = lineage;
    }
    attributes[name] = std::move(entry);
  }
  Json identities = Json::array();
  for (const IdentityRow& i : v.identities)
    identities.push_back({{"kind", i.kind},
                          {"value", i.value},
                          {"source", i.source},
                          {"first_seen", format_rfc3339_ms(i.first_seen_ms)}});
  Json consents = Json::array();
  for (const auto& [key, c] : v.state.consents()) {
    const size_t slash = key.find('/');
    Json entry{{"channel", key.substr(0, slash)},
               {"purpose", slash == std::string::npos ? "" : key.substr(slash + 1)},
               {"status", c.status},
               {"at", format_rfc3339_ms(c.at)},
               {"source", c.source},
               {"record_id", c.record_id}};
    if (!c.evidence.is_null()) entry["evidence"] = c.evidence;
    consents.push_back(std::move(entry));
  }
  Json channels = Json::object();
  for (const auto& [name, c] : v.channels) {
    Json entry{{"has_address", c.has_address}, {"valid", c.valid}};
    if (!c.invalid_reason.empty()) entry["invalid_reason"] = c.invalid_reason;
    channels[name] = std::move(entry);
  }
  Json suppressions = Json::array();
  for (const SuppressionRow& s : v.suppressions) {
    Json entry{{"list", s.list},
               {"subject", s.subject},
               {"reason", s.reason},
               {"channels", s.channels},
               {"added", format_rfc3339_ms(s.added_ms)},
               {"source", s.source}};
    if (s.until_ms) entry["until"] = format_rfc3339_ms(s.until_ms);
    suppressions.push_back(std::move(entry));
  }
  Json timeline = Json::array();
  for (const EventRow& e : v.timeline) {
    Json entry{{"event_type", e.event_type}, {"at", format_rfc3339_ms(e.at)}};
    for (const auto& [k, val] :
         {std::pair{"channel", &e.channel}, std::pair{"purpose", &e.purpose}, std::pair{"product", &e.product},
          std::pair{"category", &e.category}, std::pair{"campaign", &e.campaign}, std::pair{"offer", &e.offer}})
      if (!val->empty()) entry[k] = *val;
    if (e.has_revenue) entry["revenue"] = e.revenue;
    timeline.push_back(std::move(entry));
  }
  Json records = Json::array();
  for (const RecordRow& r : v.records)
    records.push_back({{"id", r.id},
                       {"type", r.type},
                       {"source", r.source},
                       {"ts", r.ts_ms},
                       {"data", Json::parse(r.data, nullptr, false)}});
  Json decisions = Json::array();
  for (const DecisionRow& d : v.decisions)
    decisions.push_back({{"at", format_rfc3339_ms(d.at)},
                         {"decision", d.decision},
                         {"channel", d.channel},
                         {"reasons", Json::parse(d.reasons, nullptr, false)},
                         {"rulebook", d.rulebook},
                         {"proposal", Json::parse(d.proposal, nullptr, false)}});
  Json merges = Json::array();
  for (const MergeRow& m : v.merges)
    merges.push_back({{"id", m.id},
                      {"survivor", m.survivor},
                      {"merged", m.merged},
                      {"state", m.state},
                      {"caused_by", m.record_source + "/" + m.record_id},
                      {"at", format_rfc3339_ms(m.at)}});
  Json conflicts = Json::array();
  for (const ConflictRow& c : v.conflicts)
    conflicts.push_back({{"profiles", {c.profile_a, c.profile_b}},
                         {"kind", c.kind},
                         {"detail", c.detail},
                         {"caused_by", c.record_source + "/" + c.record_id},
                         {"at", format_rfc3339_ms(c.at)}});
  return Json{{"id", v.row.id},
              {"created", format_rfc3339_ms(v.row.created_ms)},
              {"updated", format_rfc3339_ms(v.row.updated_ms)},
              {"merged_into", v.row.merged_into},
              {"merged_profiles", v.merged_profiles},
              {"attributes", attributes},
              {"identities", identities},
              {"consents", consents},
              {"channels", channels},
              {"suppressions", suppressions},
              {"timeline", timeline},
              {"records", records},
              {"decisions", decisions},
              {"merges", merges},
              {"conflicts", conflicts}};
}

}  // namespace touchpoint::core::customer
