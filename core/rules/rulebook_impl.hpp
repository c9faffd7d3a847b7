#pragma once
// The compiled form of a rulebook. Private to core/rules: the loader
// (rulebook_load.cpp) builds it, decide() (rulebook.cpp) and the test runner
// (rulebook_tests.cpp) read it.

#include <date/tz.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rules/condition.hpp"
#include "rules/rulebook.hpp"
#include "rules/snapshot.hpp"

namespace touchpoint::core::rules {

enum class Kind {
  Consent,
  Suppression,
  ChannelValidity,
  FrequencyCap,
  QuietPeriod,
  RecentPurchase,
  Condition,
  ContactHours,
};

/// Bit i is channel i of Rulebook::channels().
using ChannelMask = uint64_t;
constexpr ChannelMask kAllChannels = ~ChannelMask{0};
constexpr size_t kMaxChannels = 64;

struct ListDecl {
  std::string name;
  bool all_purposes = false;
  ChannelMask channels = kAllChannels;
};

struct Rule {
  std::string name;
  Kind kind = Kind::Condition;
  bool flag = false;  ///< effect: flag (a note) instead of suppress
  std::string code;   ///< reason code
  int line = 0;       ///< of the rule in the file

  // Scope, common to every kind.
  ChannelMask channels = kAllChannels;
  std::vector<std::string> purposes;  ///< empty: every purpose
  bool bypass_transactional = false;
  std::optional<rules::Condition> when;

  // consent
  bool opt_out = false;
  std::string consent_purpose;  ///< empty: the proposal's purpose

  // suppression
  std::vector<ListDecl> lists;
  bool other_lists_apply = true;

  // frequency_cap, quiet_period, recent_purchase
  std::vector<std::string> events;
  TimeMs window = 0;
  std::string window_text;  ///< as written ("7d")
  int64_t max = 0;
  bool across_channels = false;
  bool across_purposes = false;
  bool same_campaign = false;
  bool match_product = true;
  bool match_category = true;

  // contact_hours
  const date::time_zone* tz = nullptr;
  std::string tz_name;
  TimeMs from_ms = 0, to_ms = 0;  ///< local time of day, [from, to); from > to wraps midnight
  std::string hours_text;         ///< "08:00-20:00"
  uint8_t days = 0x7F;            ///< bit 0 = Sunday ... bit 6 = Saturday
};

struct Routing {
  std::string attribute = "preferred_channel";
  std::vector<int> order;  ///< channel indexes
};

/// One expected reason of a test case; empty rule/channel match anything.
struct ExpectedReason {
  std::string code, rule, channel;
};

struct TestCase {
  std::string name;
  int line = 0;
  bool unknown = false;
  CustomerSnapshot customer;
  Proposal proposal;
  bool expect_send = false;
  bool check_channel = false;
  std::string expect_channel;
  bool check_reasons = false;
  std::vector<ExpectedReason> reasons;
  bool check_notes = false;
  std::vector<ExpectedReason> notes;
  bool ordered = false;
};

struct Rulebook::Impl {
  std::string file;
  std::string version;
  std::string description;
  std::vector<std::string> channels;
  std::vector<std::string> purposes;
  ConditionSchema schema;
  Routing routing;
  std::vector<Rule> rules;
  TimeMs lookback = 0;
  std::vector<TestCase> tests;

  int channel_index(std::string_view name) const {
    for (size_t i = 0; i < channels.size(); ++i)
      if (channels[i] == name) return static_cast<int>(i);
    return -1;
  }
};

}  // namespace touchpoint::core::rules
