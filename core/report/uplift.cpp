#include "report/uplift.hpp"

#include <algorithm>
#include <cmath>

namespace touchpoint::core::report {

Uplift uplift(uint64_t treated, uint64_t treated_converted, uint64_t control, uint64_t control_converted) {
  Uplift u;
  u.treated = treated;
  u.control = control;
  u.treated_converted = std::min(treated_converted, treated);
  u.control_converted = std::min(control_converted, control);
  const double n1 = static_cast<double>(treated), n0 = static_cast<double>(control);
  u.treated_rate = treated ? static_cast<double>(u.treated_converted) / n1 : 0;
  u.control_rate = control ? static_cast<double>(u.control_converted) / n0 : 0;
  u.uplift = u.treated_rate - u.control_rate;
  // The normal approximation behind both the interval and the test needs
  // enough members and enough of each outcome in each group.
  auto big_enough = [](double n, double p) { return n >= 30 && n * p >= 5 && n * (1 - p) >= 5; };
  const double pooled = (n1 + n0) > 0 ? static_cast<double>(u.treated_converted + u.control_converted) / (n1 + n0) : 0;
  if (!big_enough(n1, pooled) || !big_enough(n0, pooled)) {
    u.verdict = "too_small";
    u.ci_low = u.ci_high = u.uplift;
    return u;
  }
  const double se = std::sqrt(u.treated_rate * (1 - u.treated_rate) / n1 + u.control_rate * (1 - u.control_rate) / n0);
  u.ci_low = u.uplift - 1.959964 * se;
  u.ci_high = u.uplift + 1.959964 * se;
  const double se_pooled = std::sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0));
  u.z = se_pooled > 0 ? u.uplift / se_pooled : 0;
  u.p_value = std::erfc(std::fabs(u.z) / std::sqrt(2.0));
  u.verdict = u.p_value < 0.05 ? "significant" : "not_significant";
  return u;
}

}  // namespace touchpoint::core::report
