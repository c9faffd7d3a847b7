#pragma once
// Runs a pipeline's transform steps over one record and reports where it
// ended: kept, filtered out by a step, or rejected by a step (with reason).

#include <string>

#include "config/pipeline_config.hpp"

namespace touchpoint::core {

struct StepOutcome {
  StepResult::Kind kind = StepResult::Kind::keep;
  size_t step_index = 0;  ///< the step that dropped/rejected (valid unless keep)
  std::string reason;
};

/// Applies every step in order; stops at the first drop or reject. A step
/// that throws counts as a reject with the exception's message.
StepOutcome run_steps(const Pipeline& pipeline, Record& record);

}  // namespace touchpoint::core
