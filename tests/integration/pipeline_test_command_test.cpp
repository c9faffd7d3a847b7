// `touchpoint test` through the binary (exit codes, report, JUnit, the
// shipped pipelines' own cases), and a lua step in a running hub: the records
// it makes from one posted record are stored, its rejects dead-lettered.
#include <fstream>

#include "support.hpp"

namespace tp_it {
namespace {
namespace fs = std::filesystem;

class PipelineTestCommand : public HubTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    write_hub_config();
  }

  static std::string read(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), {}};
  }
};

TEST_F(PipelineTestCommand, TheShippedPipelinesPassTheirOwnCases) {
  const fs::path junit = root_ / "junit.xml";
  CommandResult r = cli({"test", std::string(TP_SOURCE_DIR) + "/pipelines", "--junit", junit.string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("pipelines/orders.yaml (pipeline orders)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pipelines/web-signups.test.yaml (pipeline web-signups)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("8 case(s) in 2 file(s): 8 passed, 0 failed"), std::string::npos) << r.out;
  const std::string xml = read(junit);
  EXPECT_NE(xml.find("<testsuites errors=\"0\" failures=\"0\" name=\"touchpoint test\" tests=\"8\">"),
            std::string::npos)
      << xml;
}

TEST_F(PipelineTestCommand, AFailingCaseExitsOneAndPrintsTheDifference) {
  write_webhook_pipeline("web", "  - normalize_email: { field: email }\n");
  std::ofstream(pipelines_ / "web.test.yaml") << "pipeline: web.yaml\n"
                                                 "tests:\n"
                                                 "  - name: keeps the case\n"
                                                 "    input: { data: { email: Ada@Example.com } }\n"
                                                 "    output: { data: { email: Ada@Example.com } }\n";
  const fs::path junit = root_ / "out.xml";
  // Without FILE: the hub config's pipelines_dir.
  CommandResult r = cli({"test", "--junit", junit.string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("  FAIL  keeps the case\n"
                       "        output 1 data/email: expected \"Ada@Example.com\", got \"ada@example.com\"\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("1 case(s) in 1 file(s): 0 passed, 1 failed"), std::string::npos) << r.out;
  EXPECT_NE(read(junit).find("<failure message=\"output 1 data/email: expected"), std::string::npos) << read(junit);

  // The hub loads web.yaml and not the test file beside it.
  CommandResult v = cli({"validate"});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("1 pipeline(s)"), std::string::npos) << v.out;
}

TEST_F(PipelineTestCommand, AFileThatDoesNotLoadOrNoCasesExitTwo) {
  write_pipeline_file("bad.yaml",
                      "source: { plugin: webhook }\ntransforms:\n  - lua: { source: 'x = = 1' }\ntests: []\n");
  CommandResult r = cli({"test", (pipelines_ / "bad.yaml").string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("ERROR " + (pipelines_ / "bad.yaml").string() +
                       ":3:20: Lua script does not load: script:1: unexpected symbol near '='"),
            std::string::npos)
      << r.out;
  CommandResult none = cli({"test", root_.string()});
  EXPECT_EQ(none.exit_code, 2) << none.out;
  EXPECT_NE(none.err.find("no test cases found"), std::string::npos) << none.err;
  CommandResult missing = cli({"test", (root_ / "nope.yaml").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no such file or directory"), std::string::npos) << missing.err;
}

TEST_F(PipelineTestCommand, ALuaStepInTheRunningHubStoresWhatItMakesAndDeadLettersItsRejects) {
  write_webhook_pipeline("orders",
                         "  - lua:\n"
                         "      source: |\n"
                         "        function process(r)\n"
                         "          if not r.data.items then reject('no items') end\n"
                         "          local out = {r}\n"
                         "          for i, sku in ipairs(r.data.items) do\n"
                         "            out[#out + 1] = {type = 'item', data = {sku = sku, email = r.data.email}}\n"
                         "          end\n"
                         "          return out\n"
                         "        end\n");
  start_hub();
  HttpResponse ok = post("orders", R"({"id":"o-1","email":"anna@example.de","items":["A","B"]})");
  ASSERT_EQ(ok.status, 202) << ok.error << ok.body;
  HttpResponse rejected = post("orders", R"({"id":"o-2","email":"max@example.de"})");
  ASSERT_EQ(rejected.status, 202) << rejected.error << rejected.body;
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", 3));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM dead_letters", 1));
  StoreReader& db = store();
  EXPECT_EQ(
      db.rows("SELECT id, type, json_extract(data, '$.sku') FROM records ORDER BY id"),
      (std::vector<std::vector<std::string>>{{"o-1", "profile", ""}, {"o-1#2", "item", "A"}, {"o-1#3", "item", "B"}}));
  EXPECT_EQ(db.rows("SELECT record_id, step, error_class, reason FROM dead_letters"),
            (std::vector<std::vector<std::string>>{{"o-2", "1:lua", "rejected", "no items"}}));
}

}  // namespace
}  // namespace tp_it
