#pragma once
// One profile's state: for every attribute, the value each source last
// reported (and the first it ever reported), from which survivorship picks
// the winner; the lineage of every winner; and the consent statements.
//
// Everything here is order-independent: a candidate is replaced only by a
// statement with a later (event time, apply sequence), a "first seen" only
// by an earlier one, a consent only by a later one. Therefore applying
// records one by one, recomputing from all records, and merging two
// profiles' states give the same result (tests/unit/customer checks this
// property on generated data).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/customer_config.hpp"
#include "record/record.hpp"

namespace touchpoint::core::customer {

/// What one source says about one attribute.
struct Candidate {
  Json value;  ///< null: the source cleared it (a removal is a statement too)
  int64_t ts = 0;
  int64_t seq = 0;
  std::string record_id;
  Json first_value;  ///< the first non-empty value the source reported (null: none)
  int64_t first_ts = 0;
  int64_t first_seq = 0;
  std::string first_record_id;
};

struct Consent {
  std::string status;  ///< granted | denied | revoked
  int64_t at = 0;
  int64_t seq = 0;
  std::string source;
  std::string record_id;
  Json evidence;  ///< whatever the source sent as proof (null: none)
};

/// Which rule decides an attribute (from customer.survivorship).
class Survivorship {
 public:
  explicit Survivorship(const CustomerConfig& config);
  struct Resolved {
    SurvivorshipRule rule;
    const std::vector<std::string>* sources;  ///< priority order (source_priority)
  };
  Resolved rule_for(const std::string& attribute) const;

 private:
  SurvivorshipRule default_;
  std::vector<SurvivorshipSpec> specs_;
  static const std::vector<std::string> kNoSources;
};

/// The source of attributes stored before the customer model kept
/// candidates (schema < 3): the oldest statement, which any real one beats.
inline constexpr const char* kMigratedSource = "migrated";

class ProfileState {
 public:
  /// Top-level keys of `data` are attributes (except `customer` and
  /// `external_ids`, which name identities). Null or "" clears the source's value.
  /// Returns true if any winner changed.
  bool apply_attributes(const Json& data, const std::string& source, int64_t ts, int64_t seq,
                        const std::string& record_id, const Survivorship& rules);
  /// Sets one attribute from one source (the closed loop's effects use it).
  bool set_attribute(const std::string& name, const Json& value, const std::string& source, int64_t ts, int64_t seq,
                     const std::string& record_id, const Survivorship& rules);
  /// The latest statement by its own time wins. Returns true if it took effect.
  bool apply_consent(const std::string& channel, const std::string& purpose, Consent c);
  /// Folds another profile's state in (merge).
  void absorb(const ProfileState& other, const Survivorship& rules);

  const Json& attributes() const noexcept { return attributes_; }
  /// attribute -> {"source", "record_id", "ts", "rule"} (union: "sources").
  const Json& lineage() const noexcept { return lineage_; }
  const std::map<std::string, std::map<std::string, Candidate>>& candidates() const noexcept { return candidates_; }
  /// Keyed "channel/purpose".
  const std::map<std::string, Consent>& consents() const noexcept { return consents_; }

  /// The stored form (ProfileRow::state) and back. from_json recomputes
  /// nothing: attributes come from their own column.
  std::string serialize() const;
  static ProfileState parse(const std::string& state, const std::string& attributes);
  /// What a decision reads: attributes, lineage and consents, without the
  /// per-source candidates (most of the text). Never write such a state back.
  static ProfileState parse_without_candidates(const std::string& state, const std::string& attributes);
  /// Recomputes every winner (after a rule change or an absorb).
  void recompute(const Survivorship& rules);

 private:
  static ProfileState parse_state(const std::string& state, const std::string& attributes, bool candidates);
  bool update_winner(const std::string& attribute, const Survivorship& rules);
  void adopt_uncandidated_attributes();

  std::map<std::string, std::map<std::string, Candidate>> candidates_;  // attribute -> source -> candidate
  std::map<std::string, Consent> consents_;
  Json attributes_ = Json::object();
  Json lineage_ = Json::object();
};

/// True for values survivorship treats as "no value": null and "".
bool is_empty_value(const Json& v);

}  // namespace touchpoint::core::customer
