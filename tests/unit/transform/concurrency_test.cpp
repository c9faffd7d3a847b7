// Transforms are const after construction: one set of steps serves many
// worker threads at once. Run under -fsanitize=thread to check for races.

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "test_util.hpp"

namespace touchpoint::core::test {
namespace {

TEST(Concurrency, SharedStepsGiveTheSameResultsOnEveryThread) {
  YAML::Node list = YAML::Load(R"(
- normalize_email: { field: email }
- normalize_phone: { field: phone, default_region: DE }
- require: { fields: { email: { regex: "@example\\." } } }
- filter: { field: country, op: in, value: [DE, AT, CH] }
- hash: { fields: [email], salt: "s:" }
- mask: { fields: [phone], keep_last: 3 }
- lua:
    source: |
      function process(r) r.data.n = (r.data.n or 0) + #r.data.email; return r end
)");
  std::vector<Step> steps;
  for (size_t i = 0; i < list.size(); ++i) steps.push_back(make_step(list[i], i, ConfigSource("p.yaml")));

  auto run_one = [&](int i) {
    Record r = record(R"({"email": " User)" + std::to_string(i) + R"(@Example.DE", "phone": "0170 123456)" +
                      std::to_string(i % 10) + R"(", "country": ")" + (i % 4 == 0 ? "US" : "DE") + R"("})");
    std::string result = "keep";
    for (const Step& s : steps) {
      result = apply(s, r);
      if (result != "keep") break;
    }
    return result + " " + r.data.dump();
  };

  constexpr int kRecords = 400;
  std::vector<std::string> expected;
  for (int i = 0; i < kRecords; ++i) expected.push_back(run_one(i));
  EXPECT_EQ(expected[1].substr(0, 5), "keep ");
  EXPECT_EQ(expected[0].substr(0, 5), "drop:");

  std::vector<std::vector<std::string>> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRecords; ++i) got[t].push_back(run_one(i));
    });
  }
  for (std::thread& th : threads) th.join();
  for (const auto& g : got) EXPECT_EQ(g, expected);
}

}  // namespace
}  // namespace touchpoint::core::test
