#pragma once
// What counts as a conversion after a contact (docs/reports.md#conversions):
// timeline events of some types (purchase, contract_signed) within a window
// after the contact, by default 30 days. A conversion is a *target*
// conversion of a contact when it bought what the contact offered: the
// campaign's configured product or category, else the contact's offer or
// offer_category. The NBO example (insurance offered, savings sold) is then
// a conversion, but not a target one.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace touchpoint::core::report {

inline constexpr int64_t kDayMs = 86'400'000;

struct ConversionRule {
  std::vector<std::string> events{"purchase", "contract_signed"};
  std::string product, category;  ///< the target; empty: the contact's offer / offer_category
  int64_t window_ms = 30 * kDayMs;
};

struct ConversionConfig {
  ConversionRule defaults;
  std::map<std::string, ConversionRule> campaigns;  ///< by campaign name
  int64_t half_life_ms = 7 * kDayMs;                ///< of the time-decay model

  const ConversionRule& rule_for(const std::string& campaign) const {
    auto it = campaigns.find(campaign);
    return it == campaigns.end() ? defaults : it->second;
  }
  /// Whether any campaign's rule (or the default) counts this event type.
  bool counts(const std::string& event_type) const;
  /// The longest window of any rule: how far back a conversion looks for contacts.
  int64_t longest_window_ms() const;
};

/// Whether a conversion of (product, category) is what the contact offered.
bool is_target(const ConversionRule& rule, const std::string& offer, const std::string& offer_category,
               const std::string& product, const std::string& category);

}  // namespace touchpoint::core::report
