#include "pipeline/step_runner.hpp"

#include "pipeline/tap.hpp"

namespace touchpoint::core {

StepOutcome run_steps(const Pipeline& pipeline, Record& record, std::vector<EmittedRecord>* emitted,
                      size_t first_step) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  TapHub& taps = TapHub::process();
  // A record is seen where it enters: point 0 for a record read, the point
  // after the step that made it for an emitted one.
  if (taps.watching()) taps.observe(pipeline.name, first_step, record);
  for (size_t i = first_step; i < pipeline.steps.size(); ++i) {
    StepResult r;
    try {
      r = pipeline.steps[i].transform->apply(record);
    } catch (const std::exception& e) {
      r = StepResult::reject(std::string("step failed: ") + e.what());
    } catch (...) {
      r = StepResult::reject("step failed with an unknown exception");
    }
    if (r.kind != StepResult::Kind::keep) return StepOutcome{r.kind, i, std::move(r.reason), std::move(r.code)};
    if (!r.emitted.empty()) {
      if (emitted == nullptr)
        return StepOutcome{StepResult::Kind::reject, i, "the step emitted records here", "rejected"};
      for (Record& e : r.emitted) emitted->push_back({std::move(e), i + 1});
    }
    const auto spent = Clock::now() - start;
    if (spent > pipeline.record_budget) {
      const auto ms = [](auto d) {
        return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
      };
      return StepOutcome{StepResult::Kind::reject, i,
                         "the record spent " + ms(spent) + " ms in steps 1-" + std::to_string(i + 1) +
                             ", over the per-record budget of " + ms(pipeline.record_budget) + " ms",
                         "timeout"};
    }
    if (taps.watching()) taps.observe(pipeline.name, i + 1, record);
  }
  return {};
}

void run_all_steps(const Pipeline& pipeline, Record record,
                   const std::function<void(Record&, const StepOutcome&)>& done) {
  std::vector<EmittedRecord> work;  // allocates only when a step emits
  const StepOutcome first = run_steps(pipeline, record, &work, 0);
  done(record, first);
  for (size_t i = 0; i < work.size(); ++i) {
    Record rec = std::move(work[i].record);
    const StepOutcome o = run_steps(pipeline, rec, &work, work[i].next_step);
    done(rec, o);
  }
}

}  // namespace touchpoint::core
