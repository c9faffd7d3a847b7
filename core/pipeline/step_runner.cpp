#include "pipeline/step_runner.hpp"

namespace touchpoint::core {

StepOutcome run_steps(const Pipeline& pipeline, Record& record) {
  for (size_t i = 0; i < pipeline.steps.size(); ++i) {
    StepResult r;
    try {
      r = pipeline.steps[i].transform->apply(record);
    } catch (const std::exception& e) {
      r = StepResult::reject(std::string("step failed: ") + e.what());
    }
    if (r.kind != StepResult::Kind::keep) return StepOutcome{r.kind, i, std::move(r.reason)};
  }
  return {};
}

}  // namespace touchpoint::core
