// core/pipeline/tap: a tap never makes the record path wait, counts what it
// cannot hold, sees only its own pipeline and point, and masks PII.
#include "pipeline/tap.hpp"

#include <gtest/gtest.h>

#include "config/pipeline_config.hpp"
#include "pipeline/step_runner.hpp"

namespace touchpoint::core {
namespace {
using namespace std::chrono_literals;

Record profile(const std::string& email) {
  Record r;
  r.id = "r1";
  r.type = "profile";
  r.key = email;
  r.data = Json{{"email", email}, {"iban", "DE89 3704 0044 0532 0130 00"}, {"n", 4915112345678}, {"age", 42}};
  return r;
}

TEST(Tap, AFullBufferDropsAndCountsInsteadOfWaiting) {
  Tap tap({"web", 0, false, 3, 1u << 20});
  for (int i = 0; i < 10; ++i) tap.offer("line " + std::to_string(i));
  EXPECT_EQ(tap.dropped(), 7u);
  EXPECT_EQ(tap.take(0ms), (std::vector<std::string>{"line 0", "line 1", "line 2"}));
  EXPECT_TRUE(tap.take(10ms).empty());  // nothing new: waits at most that long
  tap.offer("again");
  EXPECT_EQ(tap.take(0ms).size(), 1u);

  Tap small({"web", 0, false, 1000, 10});  // the byte bound holds as well
  small.offer(std::string(8, 'x'));
  small.offer(std::string(8, 'y'));
  EXPECT_EQ(small.dropped(), 1u);
}

TEST(TapHub, SeesOnlyItsPipelineAndPointAndStopsWhenClosed) {
  TapHub& hub = TapHub::process();
  EXPECT_FALSE(hub.watching());
  auto a = hub.open({"web", 1, true});
  auto b = hub.open({"web", 0, true});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(hub.open({"web", 2, true}), nullptr);  // kMaxTaps
  EXPECT_TRUE(hub.watching());
  hub.observe("web", 1, profile("x@example.de"));
  hub.observe("other", 1, profile("y@example.de"));
  EXPECT_EQ(a->take(0ms).size(), 1u);
  EXPECT_EQ(b->take(0ms).size(), 0u);
  hub.close(a);
  hub.close(b);
  EXPECT_FALSE(hub.watching());
  EXPECT_TRUE(hub.list().empty());
}

TEST(TapHub, TheStepRunnerShowsEachPointIncludingWhereEmittedRecordsAppear) {
  HubConfig hubc;
  Pipeline p;
  p.name = "orders";
  ConfigSource src("p.yaml");
  p.steps.push_back(make_step(YAML::Load("set: { seen: 1 }"), 0, src));
  p.steps.push_back(
      make_step(YAML::Load("lua: { source: 'function process(r) return {r, {data = {x = 1}}} end' }"), 1, src));
  p.steps.push_back(make_step(YAML::Load("set: { last: true }"), 2, src));
  TapHub& hub = TapHub::process();
  auto after_lua = hub.open({"orders", 2, true});
  auto out = hub.open({"orders", 3, true});
  run_all_steps(p, profile("a@example.de"), [](Record&, const StepOutcome&) {});
  // The script returned two records: the first continues as the input, the
  // second is born after step 2. Both are seen there and at the end.
  auto at_two = after_lua->take(0ms);
  auto at_end = out->take(0ms);
  hub.close(after_lua);
  hub.close(out);
  ASSERT_EQ(at_two.size(), 2u);
  ASSERT_EQ(at_end.size(), 2u);
  EXPECT_EQ(Json::parse(at_two[0])["record"]["data"].count("last"), 0u);
  EXPECT_EQ(Json::parse(at_end[1])["record"]["data"]["last"], true);
  EXPECT_EQ(Json::parse(at_end[1])["record"]["id"], "r1#2");
}

TEST(TapHub, LinesMaskPiiUnlessAllowedAndStayBounded) {
  const Json masked = Json::parse(TapHub::line("web", 2, profile("jane.doe@example.com"), false));
  EXPECT_EQ(masked["pipeline"], "web");
  EXPECT_EQ(masked["point"], 2);
  EXPECT_EQ(masked["record"]["data"]["email"], "j***@example.com");
  EXPECT_EQ(masked["record"]["key"], "j***@example.com");
  EXPECT_EQ(masked["record"]["data"]["iban"], "DE***00");
  EXPECT_TRUE(masked["record"]["data"]["n"].is_string());
  EXPECT_EQ(masked["record"]["data"]["age"], 42);  // short numbers are no phone numbers
  const Json clear = Json::parse(TapHub::line("web", 2, profile("jane.doe@example.com"), true));
  EXPECT_EQ(clear["record"]["data"]["email"], "jane.doe@example.com");
  EXPECT_EQ(clear["record"]["data"]["n"], 4915112345678);

  // A hostile value: 5 million digits in one field. The line shows the envelope and the size only.
  Record huge = profile("a@example.de");
  huge.data["phone"] = std::string(5'000'000, '7');
  const std::string text = TapHub::line("web", 0, huge, false);
  EXPECT_LT(text.size(), 1000u);
  const Json j = Json::parse(text);
  EXPECT_GT(j["too_large"].get<size_t>(), TapHub::kMaxLineBytes);
  EXPECT_EQ(j["record"]["type"], "profile");
}

}  // namespace
}  // namespace touchpoint::core
