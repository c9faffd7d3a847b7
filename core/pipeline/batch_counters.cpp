#include "pipeline/batch_counters.hpp"

namespace touchpoint::core {

BatchCounters::PerPipeline& BatchCounters::of(const PipelinePtr& p) {
  for (PerPipeline& c : pipelines_)
    if (c.pipeline == p) return c;
  const size_t n = p->steps.size();
  pipelines_.push_back(
      {p, std::vector<uint64_t>(n), std::vector<uint64_t>(n), std::vector<uint64_t>(n), std::vector<uint64_t>(n), 0});
  return pipelines_.back();
}

void BatchCounters::step_outcome(const PipelinePtr& p, const StepOutcome& o) {
  if (p->steps.empty()) return;
  PerPipeline& c = of(p);
  const size_t kept_steps = o.kind == StepResult::Kind::keep ? p->steps.size() : o.step_index;
  for (size_t i = 0; i < kept_steps; ++i) ++c.kept[i];
  if (o.kind == StepResult::Kind::drop) ++c.dropped[o.step_index];
  if (o.kind == StepResult::Kind::reject) ++c.rejected[o.step_index];
}

void BatchCounters::dead_letter(const PipelinePtr& p, size_t step_index) { ++of(p).dead[step_index]; }

void BatchCounters::record_out(const PipelinePtr& p) { ++of(p).out; }

void BatchCounters::flush(Metrics& m) const {
  for (const PerPipeline& c : pipelines_) {
    const Pipeline& p = *c.pipeline;
    for (size_t i = 0; i < p.steps.size(); ++i) {
      const std::string labels = "pipeline=" + p.name + ",step=" + p.steps[i].name;
      if (c.kept[i]) m.counter_add("touchpoint_step_records_total", labels + ",outcome=kept", double(c.kept[i]));
      if (c.dropped[i])
        m.counter_add("touchpoint_step_records_total", labels + ",outcome=dropped", double(c.dropped[i]));
      if (c.rejected[i])
        m.counter_add("touchpoint_step_records_total", labels + ",outcome=rejected", double(c.rejected[i]));
      if (c.dead[i]) m.counter_add("touchpoint_dead_letters_total", labels, double(c.dead[i]));
    }
    if (c.out) m.counter_add("touchpoint_records_out_total", "pipeline=" + p.name, double(c.out));
  }
  for (const auto& [k, n] : other_) m.counter_add(k.first, k.second, n);
}

}  // namespace touchpoint::core
