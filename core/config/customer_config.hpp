#pragma once
// The `customer:` section of the hub config: how identities are recognised
// and which source wins for which attribute (survivorship). Data only; the
// customer model (core/customer/) applies it.
//
//   customer:
//     identities:
//       email: { blocked: [test@test.com], blocked_patterns: ["^noreply@"] }
//       "ext:crm": { max_per_profile: 1 }
//     survivorship:
//       default: most_recent
//       rules:
//         - { attributes: [first_name, last_name, address], rule: source_priority, sources: [crm, web-signups] }
//         - { attributes: [tags], rule: union }
//     rulebook: rulebook.yaml

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config/config_error.hpp"
#include "report/conversion.hpp"

namespace touchpoint::core {

/// How one identity kind is treated. Kinds: "email", "phone", "ext:<system>"
/// (a spec for "ext:*" applies to every external id without its own).
struct IdentityKindSpec {
  /// At most this many identities of the kind on one profile (0: no limit).
  /// A record that would exceed it does not merge; the conflict is recorded.
  int max_per_profile = 0;
  /// Values (after normalisation) that never link anyone.
  std::vector<std::string> blocked;
  /// RE2 patterns (full match, after normalisation) that never link anyone.
  std::vector<std::string> blocked_patterns;
};

enum class SurvivorshipRule { most_recent, source_priority, first_seen, max, min, union_ };

struct SurvivorshipSpec {
  std::vector<std::string> attributes;  ///< top-level attribute names or globs ("consent_*")
  SurvivorshipRule rule = SurvivorshipRule::most_recent;
  std::vector<std::string> sources;  ///< for source_priority: first wins
};

/// The contact loop (docs/channels.md): `customer.contacts`.
struct ContactConfig {
  /// Soft bounces on one address within the window that make it invalid.
  int soft_bounce_max = 3;
  int soft_bounce_window_days = 30;
  /// Effects per response kind, replacing the defaults of docs/channels.md:
  /// keys "bounce_hard", "call_outcome.sale", "letter_returned.moved", ...;
  /// values from invalidate_channel, revoke_consent, timeline, purchase,
  /// callback, update_address, suppress:<list>, none.
  std::map<std::string, std::vector<std::string>> effects;
};

struct CustomerConfig {
  std::map<std::string, IdentityKindSpec> identities;  ///< by kind ("email", "ext:crm", "ext:*")
  SurvivorshipRule default_rule = SurvivorshipRule::most_recent;
  std::vector<SurvivorshipSpec> survivorship;  ///< first matching spec wins
  std::filesystem::path rulebook;              ///< empty: no rulebook (every decision suppresses)
  std::filesystem::path tombstone_key_file;    ///< default <data_dir>/tombstone.key
  /// Profiles the store thread keeps parsed between batches. One costs about
  /// 8 KiB (attributes, every source's candidate, lineage), so the default
  /// bounds the cache near 40 MiB; a cold profile costs one row read and parse
  /// (bench_store apply: 4% slower than with 20,000, and 111 MiB smaller).
  size_t cache_profiles = 5'000;
  ContactConfig contacts;
  /// What counts as a conversion after a contact, for the reports (docs/reports.md).
  report::ConversionConfig conversions;
};

/// Reads the `customer:` section (node may be undefined: defaults).
/// Relative paths resolve against base_dir. Throws ConfigError.
CustomerConfig read_customer_config(const YAML::Node& node, const ConfigSource& src,
                                    const std::filesystem::path& base_dir, const std::filesystem::path& data_dir);

const char* to_string(SurvivorshipRule r);

}  // namespace touchpoint::core
