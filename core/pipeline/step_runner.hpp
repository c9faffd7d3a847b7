#pragma once
// Runs a pipeline's transform steps over one record and reports where it
// ended: kept, filtered out by a step, or rejected by a step (with reason).

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "config/pipeline_config.hpp"

namespace touchpoint::core {

struct StepOutcome {
  StepResult::Kind kind = StepResult::Kind::keep;
  size_t step_index = 0;  ///< the step that dropped/rejected (valid unless keep)
  std::string reason;
  std::string code = "rejected";  ///< dead-letter class of a reject: rejected, too_large, timeout
};

/// A record a step made beside the one it was given (StepResult::emitted),
/// with the step it goes on at.
struct EmittedRecord {
  Record record;
  size_t next_step = 0;
};

/// Applies the steps from `first_step` on, in order; stops at the first drop
/// or reject. A step that throws counts as a reject with the exception's
/// message. Records a step emits are appended to `emitted`, to be run from the
/// step after it; without `emitted` a step that emits is a reject.
///
/// The budget is checked after each step: a record whose steps together ran
/// longer than pipeline.record_budget is rejected as `timeout` at the step
/// that crossed it. Every built-in step is linear in its input and refuses
/// input over its limits (`too_large`), so a step cannot run away on its own;
/// the budget catches the sum of many expensive steps on a large record.
StepOutcome run_steps(const Pipeline& pipeline, Record& record, std::vector<EmittedRecord>* emitted = nullptr,
                      size_t first_step = 0);

/// Runs `record` through the steps, and every record a step emits from it
/// from the step after the one that made it; `done` is called once per
/// record, in order (the input first), with where it ended. The hub's router
/// and `touchpoint test` both go through here.
void run_all_steps(const Pipeline& pipeline, Record record,
                   const std::function<void(Record&, const StepOutcome&)>& done);

}  // namespace touchpoint::core
