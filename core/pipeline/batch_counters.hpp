#pragma once
// Metrics the applier counts while it builds a batch, flushed to Metrics once
// the batch is committed. Per-record counting is an index increment; label
// strings are built only at flush.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "config/pipeline_config.hpp"
#include "pipeline/step_runner.hpp"
#include "util/metrics.hpp"

namespace touchpoint::core {

class BatchCounters {
 public:
  void step_outcome(const PipelinePtr& p, const StepOutcome& o);
  void dead_letter(const PipelinePtr& p, size_t step_index);
  void record_out(const PipelinePtr& p);
  /// Anything else (rare, or once per batch).
  void add(const std::string& name, const std::string& labels, double n = 1) { other_[{name, labels}] += n; }
  void flush(Metrics& m) const;

 private:
  struct PerPipeline {
    PipelinePtr pipeline;  // kept alive until the flush
    std::vector<uint64_t> kept, dropped, rejected, dead;
    uint64_t out = 0;
  };
  PerPipeline& of(const PipelinePtr& p);

  std::vector<PerPipeline> pipelines_;  // a handful: linear search
  std::map<std::pair<std::string, std::string>, double> other_;
};

}  // namespace touchpoint::core
