#include "report/attribution.hpp"

#include <algorithm>
#include <cmath>

namespace touchpoint::core::report {

const char* to_string(Model m) {
  switch (m) {
    case Model::first_touch:
      return "first_touch";
    case Model::last_touch:
      return "last_touch";
    case Model::linear:
      return "linear";
    case Model::position_based:
      return "position_based";
    case Model::time_decay:
      return "time_decay";
    case Model::treatment:
      return "treatment";
  }
  return "?";
}

std::optional<Model> model_from_string(std::string_view name) {
  for (Model m : kModels)
    if (name == to_string(m)) return m;
  return std::nullopt;
}

std::vector<double> credit(Model m, const std::vector<Touch>& touches, int64_t conversion_at, int64_t half_life_ms) {
  const size_t n = touches.size();
  std::vector<double> out(n, 0.0);
  if (n == 0) return out;
  switch (m) {
    case Model::first_touch:
      out.front() = 1;
      break;
    case Model::last_touch:
      out.back() = 1;
      break;
    case Model::linear:
      for (double& c : out) c = 1.0 / static_cast<double>(n);
      break;
    case Model::position_based:
      // 40 % to the first, 40 % to the last, 20 % shared by those between;
      // with one or two touches there is no middle to give 20 % to.
      if (n == 1) {
        out[0] = 1;
      } else if (n == 2) {
        out[0] = out[1] = 0.5;
      } else {
        out.front() = 0.4;
        out.back() = 0.4;
        for (size_t i = 1; i + 1 < n; ++i) out[i] = 0.2 / static_cast<double>(n - 2);
      }
      break;
    case Model::time_decay: {
      // weight 2^(-age / half-life): a touch one half-life older counts half.
      // Ages are taken relative to the newest touch, so that its weight is 1
      // and a tiny half-life cannot underflow every weight to 0.
      const double h = static_cast<double>(half_life_ms > 0 ? half_life_ms : 1);
      auto age = [&](const Touch& t) { return conversion_at > t.at ? conversion_at - t.at : int64_t{0}; };
      int64_t youngest = age(touches[0]);
      for (const Touch& t : touches) youngest = std::min(youngest, age(t));
      double sum = 0;
      for (size_t i = 0; i < n; ++i) {
        out[i] = std::exp2(-static_cast<double>(age(touches[i]) - youngest) / h);
        sum += out[i];
      }
      for (double& c : out) c /= sum;  // sum >= 1: the youngest touch weighs 1
      break;
    }
    case Model::treatment: {
      size_t targeted = 0;
      for (const Touch& t : touches) targeted += t.targeted;
      if (targeted == 0) break;
      for (size_t i = 0; i < n; ++i)
        if (touches[i].targeted) out[i] = 1.0 / static_cast<double>(targeted);
      break;
    }
  }
  return out;
}

}  // namespace touchpoint::core::report
