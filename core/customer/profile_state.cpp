#include "customer/profile_state.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <tuple>

#include "record/json_text.hpp"

namespace touchpoint::core::customer {
namespace {

/// (ts, seq) order: the later statement wins; the apply sequence breaks ties
/// exactly as arrival order would.
bool later(int64_t ts_a, int64_t seq_a, int64_t ts_b, int64_t seq_b) {
  return std::tie(ts_a, seq_a) > std::tie(ts_b, seq_b);
}

/// Values compared for max/min: numbers before strings, each in natural order.
bool value_less(const Json& a, const Json& b) {
  const int ra = a.is_number() ? 0 : a.is_string() ? 1 : 2;
  const int rb = b.is_number() ? 0 : b.is_string() ? 1 : 2;
  if (ra != rb) return ra < rb;
  if (ra == 0) return a.get<double>() < b.get<double>();
  if (ra == 1) return a.get_ref<const std::string&>() < b.get_ref<const std::string&>();
  return a.dump() < b.dump();
}

size_t priority(const std::vector<std::string>* sources, const std::string& source) {
  if (sources == nullptr) return SIZE_MAX;
  auto it = std::find(sources->begin(), sources->end(), source);
  return it == sources->end() ? sources->size() : static_cast<size_t>(it - sources->begin());
}

bool reserved(const std::string& key) { return key == "customer" || key == "external_ids"; }

}  // namespace

bool is_empty_value(const Json& v) { return v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty()); }

const std::vector<std::string> Survivorship::kNoSources;

Survivorship::Survivorship(const CustomerConfig& config) : default_(config.default_rule), specs_(config.survivorship) {}

Survivorship::Resolved Survivorship::rule_for(const std::string& attribute) const {
  for (const SurvivorshipSpec& s : specs_)
    for (const std::string& pattern : s.attributes)
      if (fnmatch(pattern.c_str(), attribute.c_str(), 0) == 0) return {s.rule, &s.sources};
  return {default_, &kNoSources};
}

bool ProfileState::set_attribute(const std::string& name, const Json& value, const std::string& source, int64_t ts,
                                 int64_t seq, const std::string& record_id, const Survivorship& rules) {
  Candidate& c = candidates_[name][source];
  const bool fresh = c.record_id.empty() && c.first_record_id.empty();
  if (fresh || later(ts, seq, c.ts, c.seq)) {
    c.value = is_empty_value(value) ? Json() : value;
    c.ts = ts;
    c.seq = seq;
    c.record_id = record_id;
  }
  if (!is_empty_value(value) && (c.first_value.is_null() || later(c.first_ts, c.first_seq, ts, seq))) {
    c.first_value = value;
    c.first_ts = ts;
    c.first_seq = seq;
    c.first_record_id = record_id;
  }
  return update_winner(name, rules);
}

bool ProfileState::apply_attributes(const Json& data, const std::string& source, int64_t ts, int64_t seq,
                                    const std::string& record_id, const Survivorship& rules) {
  bool changed = false;
  if (!data.is_object()) return false;
  for (const auto& [key, value] : data.items()) {
    if (reserved(key)) continue;
    changed |= set_attribute(key, value, source, ts, seq, record_id, rules);
  }
  return changed;
}

bool ProfileState::update_winner(const std::string& attribute, const Survivorship& rules) {
  auto cit = candidates_.find(attribute);
  const Survivorship::Resolved r = rules.rule_for(attribute);
  Json winner;  // null: no value
  Json lineage;
  if (cit != candidates_.end()) {
    const auto& by_source = cit->second;
    const std::pair<const std::string, Candidate>* best = nullptr;
    switch (r.rule) {
      case SurvivorshipRule::most_recent:
        for (const auto& e : by_source)
          if (!e.second.value.is_null() &&
              (best == nullptr || later(e.second.ts, e.second.seq, best->second.ts, best->second.seq)))
            best = &e;
        break;
      case SurvivorshipRule::source_priority:
        for (const auto& e : by_source) {
          if (e.second.value.is_null()) continue;
          if (best == nullptr) {
            best = &e;
            continue;
          }
          const size_t pe = priority(r.sources, e.first), pb = priority(r.sources, best->first);
          if (pe < pb || (pe == pb && later(e.second.ts, e.second.seq, best->second.ts, best->second.seq))) best = &e;
        }
        break;
      case SurvivorshipRule::first_seen:
        // A source that cleared its value no longer supplies its first one;
        // a later statement of it brings it back.
        for (const auto& e : by_source)
          if (!e.second.first_value.is_null() && !e.second.value.is_null() &&
              (best == nullptr ||
               later(best->second.first_ts, best->second.first_seq, e.second.first_ts, e.second.first_seq)))
            best = &e;
        if (best) {
          winner = best->second.first_value;
          lineage = Json{{"source", best->first},
                         {"record_id", best->second.first_record_id},
                         {"ts", best->second.first_ts},
                         {"rule", to_string(r.rule)}};
          best = nullptr;  // handled
        }
        break;
      case SurvivorshipRule::max:
      case SurvivorshipRule::min:
        for (const auto& e : by_source) {
          if (e.second.value.is_null()) continue;
          if (best == nullptr) {
            best = &e;
            continue;
          }
          const bool less = value_less(e.second.value, best->second.value);
          const bool more = value_less(best->second.value, e.second.value);
          if ((r.rule == SurvivorshipRule::max && more) || (r.rule == SurvivorshipRule::min && less)) best = &e;
        }
        break;
      case SurvivorshipRule::union_: {
        Json all = Json::array();
        Json sources = Json::array();
        for (const auto& [source, c] : by_source) {
          if (c.value.is_null()) continue;
          sources.push_back(source);
          const Json items = c.value.is_array() ? c.value : Json::array({c.value});
          for (const Json& x : items)
            if (std::find(all.begin(), all.end(), x) == all.end()) all.push_back(x);
        }
        if (!all.empty()) {
          winner = std::move(all);
          lineage = Json{{"sources", sources}, {"rule", "union"}};
        }
        break;
      }
    }
    if (best) {
      winner = best->second.value;
      lineage = Json{{"source", best->first},
                     {"record_id", best->second.record_id},
                     {"ts", best->second.ts},
                     {"rule", to_string(r.rule)}};
    }
  }
  auto current = attributes_.find(attribute);
  const bool had = current != attributes_.end();
  if (winner.is_null()) {
    if (!had) return false;
    attributes_.erase(attribute);
    lineage_.erase(attribute);
    return true;
  }
  const bool changed = !had || *current != winner;
  attributes_[attribute] = std::move(winner);
  lineage_[attribute] = std::move(lineage);
  return changed;
}

bool ProfileState::apply_consent(const std::string& channel, const std::string& purpose, Consent c) {
  Consent& cur = consents_[channel + "/" + purpose];
  if (!cur.status.empty() && !later(c.at, c.seq, cur.at, cur.seq)) return false;
  cur = std::move(c);
  return true;
}

void ProfileState::absorb(const ProfileState& other, const Survivorship& rules) {
  for (const auto& [attribute, by_source] : other.candidates_) {
    for (const auto& [source, oc] : by_source) {
      auto& mine = candidates_[attribute];
      auto it = mine.find(source);
      if (it == mine.end()) {
        mine.emplace(source, oc);
        continue;
      }
      Candidate& c = it->second;
      if (later(oc.ts, oc.seq, c.ts, c.seq)) {
        c.value = oc.value;
        c.ts = oc.ts;
        c.seq = oc.seq;
        c.record_id = oc.record_id;
      }
      if (!oc.first_value.is_null() &&
          (c.first_value.is_null() || later(c.first_ts, c.first_seq, oc.first_ts, oc.first_seq))) {
        c.first_value = oc.first_value;
        c.first_ts = oc.first_ts;
        c.first_seq = oc.first_seq;
        c.first_record_id = oc.first_record_id;
      }
    }
  }
  for (const auto& [key, consent] : other.consents_) {
    auto it = consents_.find(key);
    if (it == consents_.end() || later(consent.at, consent.seq, it->second.at, it->second.seq))
      consents_[key] = consent;
  }
  recompute(rules);
}

void ProfileState::recompute(const Survivorship& rules) {
  attributes_ = Json::object();
  lineage_ = Json::object();
  for (const auto& [attribute, by_source] : candidates_) update_winner(attribute, rules);
}

namespace {

/// Appends JSON text straight into one buffer: serialize() runs for every
/// changed profile of every batch, and building a Json tree of copies first
/// cost more than the text itself.
class StateWriter {
 public:
  explicit StateWriter(std::string& out) : out_(out) {}
  void raw(std::string_view s) { out_.append(s); }
  void put(const Json& v) { append_json(out_, v); }
  void put(const std::string& s) { append_json_string(out_, s); }  // escaped exactly as dump() escapes
  void put(int64_t n) { out_.append(std::to_string(n)); }
  /// [a,b,...]
  template <typename... T>
  void array(const T&... items) {
    raw("[");
    bool first = true;
    ((raw(first ? "" : ","), put(items), first = false), ...);
    raw("]");
  }
  /// {"key":<body(value)>,...} over a sorted map, as Json objects are dumped.
  template <typename Map, typename Body>
  void object(const Map& m, Body body) {
    raw("{");
    bool first = true;
    for (const auto& [key, value] : m) {
      if (!first) raw(",");
      first = false;
      put(key);
      raw(":");
      body(value);
    }
    raw("}");
  }

 private:
  std::string& out_;
};

}  // namespace

std::string ProfileState::serialize() const {
  // Compact arrays: one profile is written on every change, so size matters.
  std::string out;
  out.reserve(512);
  StateWriter w(out);
  w.raw(R"({"c":)");
  w.object(candidates_, [&](const auto& by_source) {
    w.object(by_source, [&](const Candidate& x) {
      w.array(x.value, x.ts, x.seq, x.record_id, x.first_value, x.first_ts, x.first_seq, x.first_record_id);
    });
  });
  w.raw(R"(,"k":)");
  w.object(consents_, [&](const Consent& x) { w.array(x.status, x.at, x.seq, x.source, x.record_id, x.evidence); });
  w.raw(R"(,"l":)");
  w.put(lineage_);
  w.raw(R"(,"v":1})");
  return out;
}

ProfileState ProfileState::parse(const std::string& state, const std::string& attributes) {
  return parse_state(state, attributes, true);
}

ProfileState ProfileState::parse_without_candidates(const std::string& state, const std::string& attributes) {
  return parse_state(state, attributes, false);
}

ProfileState ProfileState::parse_state(const std::string& state, const std::string& attributes, bool candidates) {
  ProfileState p;
  Json a = Json::parse(attributes, nullptr, false);
  if (a.is_object()) p.attributes_ = std::move(a);
  // Without candidates: the parser still reads "c" but builds nothing of it.
  const Json::parser_callback_t skip_candidates = [](int depth, Json::parse_event_t event, Json& parsed) {
    return !(depth == 1 && event == Json::parse_event_t::key && parsed == "c");
  };
  Json j = Json::parse(state, candidates ? nullptr : skip_candidates, false);
  if (!j.is_object()) {
    if (candidates) p.adopt_uncandidated_attributes();
    return p;
  }
  if (auto c = j.find("c"); c != j.end() && c->is_object()) {
    for (const auto& [attribute, by_source] : c->items()) {
      if (!by_source.is_object()) continue;
      for (const auto& [source, x] : by_source.items()) {
        if (!x.is_array() || x.size() != 8) continue;
        Candidate cand;
        cand.value = x[0];
        cand.ts = x[1].get<int64_t>();
        cand.seq = x[2].get<int64_t>();
        cand.record_id = x[3].get<std::string>();
        cand.first_value = x[4];
        cand.first_ts = x[5].get<int64_t>();
        cand.first_seq = x[6].get<int64_t>();
        cand.first_record_id = x[7].get<std::string>();
        p.candidates_[attribute][source] = std::move(cand);
      }
    }
  }
  if (auto k = j.find("k"); k != j.end() && k->is_object()) {
    for (const auto& [key, x] : k->items()) {
      if (!x.is_array() || x.size() != 6) continue;
      p.consents_[key] = Consent{x[0].get<std::string>(), x[1].get<int64_t>(),     x[2].get<int64_t>(),
                                 x[3].get<std::string>(), x[4].get<std::string>(), x[5]};
    }
  }
  if (auto l = j.find("l"); l != j.end() && l->is_object()) p.lineage_ = std::move(*l);
  if (candidates) p.adopt_uncandidated_attributes();
  return p;
}

void ProfileState::adopt_uncandidated_attributes() {
  // Profiles written before schema 3 have attributes but no candidates; a
  // recompute (a merge) would drop them. They become the oldest candidate of
  // a source of their own, so that any real statement wins over them.
  if (!attributes_.is_object()) return;
  for (const auto& [attribute, value] : attributes_.items()) {
    if (candidates_.count(attribute) || is_empty_value(value)) continue;
    Candidate c;
    c.value = value;
    c.record_id = kMigratedSource;
    c.first_value = value;
    c.first_record_id = kMigratedSource;
    candidates_[attribute][kMigratedSource] = std::move(c);
    if (lineage_.is_object() && !lineage_.contains(attribute))
      lineage_[attribute] = Json{{"source", kMigratedSource}, {"record_id", kMigratedSource}, {"ts", 0}};
  }
}

}  // namespace touchpoint::core::customer
