#pragma once
// Control-group uplift: the conversion rate of the contacted group against
// the held-out one, with a 95 % confidence interval of the difference and a
// two-proportion z-test. Pure arithmetic, tested against worked figures.

#include <cstdint>
#include <string>

namespace touchpoint::core::report {

struct Uplift {
  uint64_t treated = 0, treated_converted = 0;
  uint64_t control = 0, control_converted = 0;
  double treated_rate = 0, control_rate = 0;
  double uplift = 0;               ///< treated_rate - control_rate (absolute, 0..1)
  double ci_low = 0, ci_high = 0;  ///< 95 % interval of the uplift (Wald, unpooled)
  double z = 0, p_value = 1;       ///< pooled two-proportion z-test, two-sided
  /// "significant", "not_significant", or "too_small": either group has fewer
  /// than 30 members or fewer than 5 expected conversions or non-conversions.
  std::string verdict;
};

Uplift uplift(uint64_t treated, uint64_t treated_converted, uint64_t control, uint64_t control_converted);

}  // namespace touchpoint::core::report
