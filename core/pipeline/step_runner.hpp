#pragma once
// Runs a pipeline's transform steps over one record and reports where it
// ended: kept, filtered out by a step, or rejected by a step (with reason).

#include <chrono>
#include <string>

#include "config/pipeline_config.hpp"

namespace touchpoint::core {

struct StepOutcome {
  StepResult::Kind kind = StepResult::Kind::keep;
  size_t step_index = 0;  ///< the step that dropped/rejected (valid unless keep)
  std::string reason;
  std::string code = "rejected";  ///< dead-letter class of a reject: rejected, too_large, timeout
};

/// Applies every step in order; stops at the first drop or reject. A step
/// that throws counts as a reject with the exception's message.
///
/// The budget is checked after each step: a record whose steps together ran
/// longer than pipeline.record_budget is rejected as `timeout` at the step
/// that crossed it. Every built-in step is linear in its input and refuses
/// input over its limits (`too_large`), so a step cannot run away on its own;
/// the budget catches the sum of many expensive steps on a large record.
StepOutcome run_steps(const Pipeline& pipeline, Record& record);

}  // namespace touchpoint::core
