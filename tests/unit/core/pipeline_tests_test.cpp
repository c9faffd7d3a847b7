// `touchpoint test`'s engine: cases in pipeline files and *.test.yaml run
// through the real transform chain; every difference is reported. Also: the
// records a step emits go on through the later steps in the hub's router.

#include "pipeline/pipeline_tests.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "pipeline/batch_builder.hpp"

namespace touchpoint::core {
namespace {
namespace fs = std::filesystem;

class PipelineTests : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tp-pipetest-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }

  // A pipeline with a source that needs a secret nobody set: tests must not need it.
  static constexpr const char* kPipeline = R"(name: web
source:
  plugin: webhook
  config: { secret: "${env:TP_TEST_UNSET_SECRET}" }
transforms:
  - normalize_email: { field: email }
  - filter: { field: country, op: in, value: [DE, AT] }
  - lua:
      source: |
        function process(r)
          local out = {r}
          for _, sku in ipairs(r.data.basket or {}) do
            out[#out + 1] = {type = "purchase", data = {sku = sku}}
          end
          return out
        end
  - lua:
      source: |
        function process(r)
          if r.type == "purchase" and not string.match(r.data.sku, "^[A-Z]+$") then
            reject("sku '" .. r.data.sku .. "' is not an article number")
          end
          return r
        end
)";

  fs::path dir_;
};

TEST_F(PipelineTests, PassingCasesPassAndNeedNoSecretsPluginsOrStore) {
  write("web.yaml", std::string(kPipeline) + R"(
tests:
  - name: an e-mail is normalised
    input: { type: profile, key: c-1, data: { email: " Ada@Example.COM ", country: DE } }
    output: { id: case1-1, type: profile, key: c-1, data: { email: ada@example.com, country: DE } }
  - name: other countries are dropped
    inputs:
      - { data: { email: a@b.de, country: US } }
      - { data: { email: a@b.de, country: FR } }
    dropped: 2
  - name: a basket fans out and a bad item is dead-lettered at the step after the script
    input: { id: order-9, data: { email: a@b.de, country: AT, basket: [ABC, bad1] } }
    output:
      - { id: order-9 }
      - { id: "order-9#2", type: purchase, data: { sku: ABC } }
    dead_letter: { step: 4:lua, reason: "sku 'bad1' is not an article number", code: rejected }
)");
  PipelineTestFile r = run_pipeline_tests(dir_ / "web.yaml");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.pipeline, "web");
  ASSERT_EQ(r.cases.size(), 3u);
  for (const PipelineCaseResult& c : r.cases) EXPECT_TRUE(c.passed) << c.name << ":\n" << c.failure;
  EXPECT_EQ(r.failures(), 0u);
}

TEST_F(PipelineTests, AFailingCaseSaysWhatDiffered) {
  write("web.yaml", kPipeline);
  write("web.test.yaml", R"(pipeline: web.yaml
tests:
  - name: wrong expectations
    input: { key: c-1, data: { email: " Ada@Example.COM ", country: DE, tags: [a, b] } }
    output: { key: c-2, data: { email: Ada@Example.COM, tags: [a, c], vip: true } }
  - name: expects a dead letter that does not happen
    input: { data: { email: a@b.de, country: DE } }
    dead_letter: { step: normalize_email }
  - name: an unexpected drop
    input: { data: { country: US } }
)");
  PipelineTestFile r = run_pipeline_tests(dir_ / "web.test.yaml");
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.cases.size(), 3u);
  EXPECT_EQ(r.failures(), 3u);
  EXPECT_EQ(r.cases[0].failure,
            "output 1 data/email: expected \"Ada@Example.COM\", got \"ada@example.com\"\n"
            "output 1 data/tags/1: expected \"c\", got \"b\"\n"
            "output 1 data/vip: missing (expected true)\n"
            "output 1 data/country: unexpected \"DE\"\n"
            "output 1 key: expected \"c-2\", got \"c-1\"\n");
  EXPECT_EQ(r.cases[1].failure.substr(0, 49), "expected 0 output record(s), got 1\n  got: {\"data\"");
  EXPECT_NE(r.cases[1].failure.find("expected 1 dead letter(s), got 0"), std::string::npos) << r.cases[1].failure;
  EXPECT_EQ(r.cases[2].failure, "expected 0 record(s) dropped, got 1\n");
}

TEST_F(PipelineTests, DeadLetterStepReasonAndCodeAreEachChecked) {
  write("p.yaml", R"(name: p
source: { plugin: webhook }
transforms:
  - require: { fields: [email] }
tests:
  - name: right
    input: { data: {} }
    dead_letter: { step: "1", code: rejected, reason: "missing required field 'email'" }
  - name: wrong
    input: { data: {} }
    dead_letter: { step: 2:filter, code: too_large, reason: "x", reason_contains: "phone" }
)");
  PipelineTestFile r = run_pipeline_tests(dir_ / "p.yaml");
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.cases.size(), 2u);
  EXPECT_TRUE(r.cases[0].passed) << r.cases[0].failure;
  EXPECT_EQ(r.cases[1].failure,
            "dead letter 1 step: expected 2:filter, got 1:require\n"
            "dead letter 1 code: expected too_large, got rejected\n"
            "dead letter 1 reason: expected \"x\", got \"missing required field 'email'\"\n"
            "dead letter 1 reason: expected it to contain \"phone\", got \"missing required field 'email'\"\n");
}

TEST_F(PipelineTests, BrokenFilesAndCasesAreErrorsWithTheirPosition) {
  write("bad-step.yaml", "name: b\nsource: { plugin: webhook }\ntransforms:\n  - nosuch: {}\ntests: []\n");
  EXPECT_EQ(run_pipeline_tests(dir_ / "bad-step.yaml").error.substr((dir_ / "bad-step.yaml").string().size()),
            ":4:5: unknown transform 'nosuch' (known: default, filter, hash, keep, lua, mask, normalize_email, "
            "normalize_phone, remove, rename, require, set)");
  write("two.yaml", "source: { plugin: webhook }\ntests:\n  - { name: x, input: { data: {} }, inputs: [] }\n");
  EXPECT_NE(run_pipeline_tests(dir_ / "two.yaml").error.find("needs exactly one of 'input' or 'inputs'"),
            std::string::npos);
  write("refused.yaml", "source: { plugin: webhook }\ntests:\n  - { name: x, input: { type: Bad Type } }\n");
  EXPECT_NE(run_pipeline_tests(dir_ / "refused.yaml").error.find("the hub would refuse this input: type must use"),
            std::string::npos);
  write("x.test.yaml", "tests: []\n");
  EXPECT_NE(run_pipeline_tests(dir_ / "x.test.yaml").error.find("missing key 'pipeline'"), std::string::npos);
  write("y.test.yaml", "pipeline: nowhere.yaml\ntests: []\n");
  EXPECT_NE(run_pipeline_tests(dir_ / "y.test.yaml").error.find("nowhere.yaml"), std::string::npos);
  write("typo.yaml", "source: { plugin: webhook }\ntests:\n  - { name: x, input: { data: {} }, outptu: {} }\n");
  EXPECT_NE(run_pipeline_tests(dir_ / "typo.yaml").error.find("outptu"), std::string::npos);
}

TEST_F(PipelineTests, TestFilesAreFoundAndNotLoadedAsPipelines) {
  write("a.yaml", "source: { plugin: webhook }\n");
  write("b.yaml", "source: { plugin: webhook }\ntests: []\n");
  write("a.test.yaml", "pipeline: a.yaml\ntests: []\n");
  write("notes.txt", "tests:\n");
  const std::vector<fs::path> files = find_pipeline_test_files(dir_);
  EXPECT_EQ(files, (std::vector<fs::path>{dir_ / "a.test.yaml", dir_ / "b.yaml"}));
  EXPECT_TRUE(is_pipeline_test_file(dir_ / "a.test.yaml"));
  EXPECT_FALSE(is_pipeline_test_file(dir_ / "a.yaml"));
  EXPECT_FALSE(is_pipeline_test_file(dir_ / ".test.yaml"));
}

TEST_F(PipelineTests, JUnitXmlCountsCasesFailuresAndErrors) {
  write("web.yaml", std::string(kPipeline) + R"(
tests:
  - name: "passes <&>"
    input: { data: { email: a@b.de, country: DE } }
    output: { data: { email: a@b.de, country: DE } }
  - name: fails
    input: { data: { email: a@b.de, country: DE } }
    output: { data: { email: "x<y>&\"z\"" } }
)");
  write("broken.yaml", "transforms: 7\n");
  std::vector<PipelineTestFile> results{run_pipeline_tests(dir_ / "web.yaml"),
                                        run_pipeline_tests(dir_ / "broken.yaml")};
  Poco::XML::DOMParser parser;
  Poco::AutoPtr<Poco::XML::Document> doc = parser.parseString(junit_xml(results));
  auto* root = doc->documentElement();
  EXPECT_EQ(root->getAttribute("tests"), "2");
  EXPECT_EQ(root->getAttribute("failures"), "1");
  EXPECT_EQ(root->getAttribute("errors"), "1");
  Poco::AutoPtr<Poco::XML::NodeList> cases = doc->getElementsByTagName("testcase");
  ASSERT_EQ(cases->length(), 3u);
  EXPECT_EQ(static_cast<Poco::XML::Element*>(cases->item(0))->getAttribute("name"), "passes <&>");
  EXPECT_EQ(static_cast<Poco::XML::Element*>(cases->item(0))->getAttribute("classname"), "web");
  Poco::AutoPtr<Poco::XML::NodeList> failures = doc->getElementsByTagName("failure");
  ASSERT_EQ(failures->length(), 1u);
  EXPECT_NE(failures->item(0)->innerText().find("x<y>&\\\"z\\\""), std::string::npos) << failures->item(0)->innerText();
}

// The hub's router (not only the test runner) takes emitted records on from
// the step after the one that made them.
TEST(EmittedRecords, GoOnThroughTheLaterStepsIntoTheBatch) {
  auto p = std::make_shared<Pipeline>();
  p->name = "p";
  const char* steps = R"(
- lua: { source: "function process(r) return {r, {type = 'purchase', data = {sku = 'A'}}, {type = 'purchase', data = {}}} end" }
- lua: { source: "function process(r) if r.type == 'purchase' and not r.data.sku then reject('no sku') end return r end" }
- set: { seen: true }
)";
  YAML::Node list = YAML::Load(steps);
  for (size_t i = 0; i < list.size(); ++i) p->steps.push_back(make_step(list[i], i, ConfigSource("p.yaml")));
  ApplyBatch batch;
  BatchCounters counters;
  Record r;
  r.id = "r1";
  r.type = "order";
  r.source = "p";
  route(
      p, r, [] { return std::string("{\"id\":\"r1\"}"); }, batch, counters, 0, 0);
  ASSERT_EQ(batch.records.size(), 2u);
  EXPECT_EQ(batch.records[0].record.id, "r1");
  EXPECT_EQ(batch.records[1].record.id, "r1#2");
  EXPECT_EQ(batch.records[1].record.data, Json::parse(R"({"sku": "A", "seen": true})"));
  ASSERT_EQ(batch.dead_letters.size(), 1u);
  EXPECT_EQ(batch.dead_letters[0].record_id, "r1#3");
  EXPECT_EQ(batch.dead_letters[0].step, "2:lua");
  EXPECT_EQ(batch.dead_letters[0].reason, "no sku");
  EXPECT_EQ(batch.dead_letters[0].payload, "{\"id\":\"r1\"}");
}

}  // namespace
}  // namespace touchpoint::core
