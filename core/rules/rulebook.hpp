#pragma once
// The contact rulebook: named rules from one YAML file (docs/rulebook.md),
// compiled once by load(), then evaluated by decide() for every proposed
// contact. decide() is a pure function of (rulebook, snapshot, proposal):
// no I/O, no clock, no shared mutable state; call it from any thread.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/condition.hpp"
#include "rules/snapshot.hpp"

namespace touchpoint::core::rules {

/// The stable reason codes (docs/rulebook.md, "Reason codes").
namespace codes {
inline constexpr std::string_view kConsentMissing = "consent_missing";
inline constexpr std::string_view kSuppressed = "suppressed";
inline constexpr std::string_view kChannelInvalid = "channel_invalid";
inline constexpr std::string_view kFrequencyCap = "frequency_cap";
inline constexpr std::string_view kQuietPeriod = "quiet_period";
inline constexpr std::string_view kRecentPurchase = "recent_purchase";
inline constexpr std::string_view kCondition = "condition";
inline constexpr std::string_view kContactHours = "contact_hours";
inline constexpr std::string_view kUnknownCustomer = "unknown_customer";      ///< snapshot was null
inline constexpr std::string_view kNoChannel = "no_channel";                  ///< `best` found no allowed channel
inline constexpr std::string_view kUnknownChannel = "unknown_channel";        ///< proposal channel not in `channels:`
inline constexpr std::string_view kUnknownPurpose = "unknown_purpose";        ///< proposal purpose not in `purposes:`
inline constexpr std::string_view kPreferenceIgnored = "preference_ignored";  ///< note: preferred channel unusable
}  // namespace codes

class Rulebook {
 public:
  /// Reads, checks and compiles the file, its rules and its test cases.
  /// Throws ConfigError ("file:line:col: message") on the first problem.
  static Rulebook load(const std::filesystem::path& file);

  /// The decision for one proposed contact at p.at. `snapshot` null means the
  /// customer is unknown (suppress, unknown_customer). Every rule is
  /// evaluated in file order and every blocking reason is returned.
  Decision decide(const CustomerSnapshot* snapshot, const Proposal& p) const;

  /// The longest window any rule looks back (frequency caps, quiet periods,
  /// recent purchases): the snapshot needs the events of [at - lookback, at].
  TimeMs lookback_ms() const noexcept;

  /// "sha256:" and the first 16 hex digits of the SHA-256 of the file bytes.
  const std::string& version() const noexcept;
  const std::string& file() const noexcept;
  /// Known channels (`channels:`, default email, phone, sms, post), in file order.
  const std::vector<std::string>& channels() const noexcept;
  /// Declared purposes (`purposes:`); empty when any purpose is accepted.
  const std::vector<std::string>& purposes() const noexcept;
  /// Rule names in evaluation (file) order.
  std::vector<std::string> rule_names() const;
  /// What one rule guards, for `touchpoint docs`.
  struct RuleScope {
    std::string name;
    std::string code;                   ///< its reason code ("consent_missing")
    bool flag = false;                  ///< effect: flag (a note) rather than suppress
    std::vector<std::string> channels;  ///< the channels it applies to
    std::vector<std::string> purposes;  ///< empty: every purpose
    int line = 0;
  };
  /// Every rule in evaluation order with the channels it applies to.
  std::vector<RuleScope> scopes() const;
  size_t test_count() const noexcept;

  /// Empty when the proposal names a known channel (or "best") and, when
  /// purposes are declared, a declared purpose; otherwise "<field>: <what is
  /// wrong>", for a 400 answer. decide() itself never fails: it suppresses
  /// with unknown_channel / unknown_purpose.
  std::string check_proposal(const Proposal& p) const;

  /// The contact hours the rulebook enforces on `channel` (the first
  /// contact_hours rule that covers it): {timezone, from, to} for the call
  /// list, or nullopt.
  std::optional<Json> contact_hours(std::string_view channel) const;

  /// A condition checked against this rulebook's attributes, channels and
  /// purposes (e.g. for `rules simulate --where`). Throws ConditionError.
  Condition compile_condition(std::string_view text) const;

  struct Impl;
  const Impl& impl() const noexcept { return *impl_; }

 private:
  explicit Rulebook(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;  ///< immutable; copies of a Rulebook share it
};

}  // namespace touchpoint::core::rules
