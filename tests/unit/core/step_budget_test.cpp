// The per-record budget of a pipeline's steps: a record whose steps run
// longer than apply.record_budget_ms is dead-lettered as `timeout` at the
// step that crossed the budget; reject codes reach the dead letter's class.

#include <gtest/gtest.h>

#include <chrono>

#include "pipeline/batch_builder.hpp"
#include "pipeline/step_runner.hpp"

namespace touchpoint::core {
namespace {

using namespace std::chrono_literals;

/// Burns CPU for a fixed time (the code under test measures, nothing waits).
class Spin final : public Transform {
 public:
  explicit Spin(std::chrono::milliseconds d) : d_(d) {}
  StepResult apply(Record&) const override {
    const auto until = std::chrono::steady_clock::now() + d_;
    while (std::chrono::steady_clock::now() < until) {
    }
    return StepResult::keep();
  }

 private:
  std::chrono::milliseconds d_;
};

class TooLarge final : public Transform {
 public:
  StepResult apply(Record&) const override { return StepResult::too_large("value of 5000000 bytes"); }
};

std::shared_ptr<Pipeline> pipeline(std::chrono::milliseconds budget) {
  auto p = std::make_shared<Pipeline>();
  p->name = "p";
  p->record_budget = budget;
  return p;
}

void add(Pipeline& p, std::unique_ptr<Transform> t) {
  const size_t i = p.steps.size();
  p.steps.push_back(Step{"t", std::to_string(i + 1) + ":t", std::move(t)});
}

TEST(StepBudget, RecordOverTheBudgetIsATimeoutAtTheStepThatCrossedIt) {
  auto p = pipeline(20ms);
  add(*p, std::make_unique<Spin>(1ms));
  add(*p, std::make_unique<Spin>(30ms));
  add(*p, std::make_unique<Spin>(1ms));
  Record r;
  StepOutcome o = run_steps(*p, r);
  EXPECT_EQ(o.kind, StepResult::Kind::reject);
  EXPECT_EQ(o.code, "timeout");
  EXPECT_EQ(o.step_index, 1u);
  EXPECT_NE(o.reason.find("over the per-record budget of 20 ms"), std::string::npos) << o.reason;
}

TEST(StepBudget, RecordWithinTheBudgetIsKept) {
  auto p = pipeline(1000ms);
  add(*p, std::make_unique<Spin>(1ms));
  Record r;
  EXPECT_EQ(run_steps(*p, r).kind, StepResult::Kind::keep);
}

TEST(StepBudget, RejectCodesBecomeTheDeadLetterClass) {
  auto p = pipeline(1000ms);
  add(*p, std::make_unique<TooLarge>());
  PipelinePtr pp = p;
  ApplyBatch batch;
  BatchCounters counters;
  Record r;
  r.id = "r1";
  route(
      pp, r, [] { return std::string("{}"); }, batch, counters, 0, 0);
  ASSERT_EQ(batch.dead_letters.size(), 1u);
  EXPECT_EQ(batch.dead_letters[0].error_class, "too_large");
  EXPECT_EQ(batch.dead_letters[0].step, "1:t");
  EXPECT_TRUE(batch.records.empty());
}

}  // namespace
}  // namespace touchpoint::core
