#pragma once
// Attribution models: how the credit for one conversion is shared among the
// contacts (touches) that preceded it (docs/reports.md#attribution). Pure
// functions over the touches, no I/O: the store calls them when a conversion
// is applied, and the tests and `report` documentation work the seed's
// examples through them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace touchpoint::core::report {

enum class Model { first_touch, last_touch, linear, position_based, time_decay, treatment };

inline constexpr Model kModels[] = {Model::first_touch,    Model::last_touch, Model::linear,
                                    Model::position_based, Model::time_decay, Model::treatment};

const char* to_string(Model m);
std::optional<Model> model_from_string(std::string_view name);

/// One contact before a conversion.
struct Touch {
  std::string contact_id, campaign, channel;
  int64_t at = 0;         ///< when the contact was made (ms)
  bool targeted = false;  ///< its campaign offered what was bought (product or category)
};

/// The share of one conversion each touch gets, in the touches' order
/// (oldest first). The shares sum to 1, except for `treatment` when no
/// touch targeted the product: then all are 0 and the conversion stays
/// unattributed under that model.
std::vector<double> credit(Model m, const std::vector<Touch>& touches, int64_t conversion_at, int64_t half_life_ms);

}  // namespace touchpoint::core::report
