#include "report/conversion.hpp"

#include <algorithm>

namespace touchpoint::core::report {

bool ConversionConfig::counts(const std::string& event_type) const {
  auto in = [&](const ConversionRule& r) {
    return std::find(r.events.begin(), r.events.end(), event_type) != r.events.end();
  };
  if (in(defaults)) return true;
  return std::any_of(campaigns.begin(), campaigns.end(), [&](const auto& kv) { return in(kv.second); });
}

int64_t ConversionConfig::longest_window_ms() const {
  int64_t w = defaults.window_ms;
  for (const auto& [name, rule] : campaigns) w = std::max(w, rule.window_ms);
  return w;
}

bool is_target(const ConversionRule& rule, const std::string& offer, const std::string& offer_category,
               const std::string& product, const std::string& category) {
  if (!rule.product.empty()) return product == rule.product;
  if (!rule.category.empty()) return category == rule.category;
  if (!offer.empty() && product == offer) return true;
  return !offer_category.empty() && category == offer_category;
}

}  // namespace touchpoint::core::report
