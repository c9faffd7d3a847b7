// `touchpoint validate` (and `run` with an invalid config): exit codes and
// file:line:col messages an admin can act on.
#include <regex>

#include "support.hpp"

namespace tp_it {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ValidateTest : public HubTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    write_hub_config();
    write_webhook_pipeline("web", "  - normalize_email: { field: email }\n");
    write_pipeline_file("cc.yaml",
                        "name: cc\n"
                        "source:\n"
                        "  plugin: csv\n"
                        "  config: { inbox: " +
                            (data_ / "inbox").string() +
                            ", delimiter: \";\" }\n"
                            "store: true\n");
  }

  /// Asserts that some stderr line is exactly "<file>:<line>:<col>: <message containing `needle`>".
  static void expect_located(const std::string& err, const fs::path& file, int line, int col,
                             const std::string& needle) {
    const std::string prefix = file.string() + ":" + std::to_string(line) + ":" + std::to_string(col) + ": ";
    std::istringstream in(err);
    std::string l;
    while (std::getline(in, l))
      if (l.rfind(prefix, 0) == 0 && l.find(needle) != std::string::npos) return;
    ADD_FAILURE() << "no line '" << prefix << "...'" << needle << "...' in stderr:\n" << err;
  }
};

TEST_F(ValidateTest, ValidConfigExitsZero) {
  CommandResult r = cli({"validate"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("configuration valid"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 pipeline(s)"), std::string::npos) << r.out;
  r = cli({"validate", "--quiet"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

// The rulebook named by customer.rulebook is part of the configuration.
TEST_F(ValidateTest, BrokenRulebookExitsTwoWithFileLineCol) {
  const fs::path rulebook = root_ / "rulebook.yaml";
  write_file_atomic(rulebook,
                    "channels: [email]\n"
                    "rules:\n"
                    "  - name: caps\n"
                    "    kind: frequency_cap\n"
                    "    effect: suppress\n"
                    "    max: many\n");
  write_hub_config("customer:\n  rulebook: " + rulebook.string() + "\n");
  CommandResult r = cli({"validate"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  expect_located(r.err, rulebook, 6, 10, "max");
  write_file_atomic(rulebook, "channels: [email]\nrules: []\n");
  r = cli({"validate"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(ValidateTest, BrokenPipelineYamlExitsTwoWithFileLineCol) {
  // An unclosed flow mapping: a YAML syntax error.
  write_pipeline_file("broken.yaml",
                      "name: broken\n"
                      "source:\n"
                      "  plugin: webhook\n"
                      "  config: { listen: \"127.0.0.1:0\", path: /x\n"
                      "store: true\n");
  CommandResult r = cli({"validate"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  const std::regex located("(^|\\n)" + (pipelines_ / "broken.yaml").string() + ":[1-9][0-9]*:[1-9][0-9]*: [^\\n]+");
  EXPECT_TRUE(std::regex_search(r.err, located)) << r.err;
  EXPECT_NE(r.err.find("1 error(s)"), std::string::npos) << r.err;
}

TEST_F(ValidateTest, UnknownKeyNamesTheKeyWithItsLine) {
  write_pipeline_file("typo.yaml",
                      "name: typo\n"
                      "source:\n"
                      "  plugin: webhook\n"
                      "  config: { listen: \"127.0.0.1:0\" }\n"
                      "sotre: true\n");
  CommandResult r = cli({"validate"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  expect_located(r.err, pipelines_ / "typo.yaml", 5, 1, "unknown key 'sotre'");
}

TEST_F(ValidateTest, UnknownPluginIsAClearError) {
  write_pipeline_file("ghost.yaml",
                      "name: ghost\n"
                      "source:\n"
                      "  plugin: nosuchplugin\n"
                      "store: true\n");
  CommandResult r = cli({"validate"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  expect_located(r.err, pipelines_ / "ghost.yaml", 3, 3, "plugin 'nosuchplugin' not found");
  EXPECT_NE(r.err.find(plugin_dir().string()), std::string::npos) << "names where it looked: " << r.err;
}

TEST_F(ValidateTest, PluginRejectsItsOwnConfig) {
  write_pipeline_file("badopt.yaml",
                      "name: badopt\n"
                      "source:\n"
                      "  plugin: webhook\n"
                      "  config: { listen: \"127.0.0.1:0\", lisen_typo: 1 }\n"
                      "store: true\n");
  CommandResult r = cli({"validate"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  expect_located(r.err, pipelines_ / "badopt.yaml", 3, 3, "plugin 'webhook' rejects its config");
  EXPECT_NE(r.err.find("lisen_typo"), std::string::npos) << r.err;
}

TEST_F(ValidateTest, UnknownTransformListsTheKnownOnes) {
  write_pipeline_file("xf.yaml",
                      "name: xf\n"
                      "source:\n"
                      "  plugin: webhook\n"
                      "  config: { listen: \"127.0.0.1:0\" }\n"
                      "transforms:\n"
                      "  - rename: { a: b }\n"
                      "  - frobnicate: { x: 1 }\n"
                      "store: true\n");
  CommandResult r = cli({"validate"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  expect_located(r.err, pipelines_ / "xf.yaml", 7, 5, "unknown transform 'frobnicate'");
  EXPECT_NE(r.err.find("normalize_email"), std::string::npos) << r.err;
}

TEST_F(ValidateTest, BrokenHubConfigAndMissingFile) {
  write_file(config_, "data_dir: data\nplugin_dir: " + plugin_dir().string() + "\nlog_level: loud\n");
  CommandResult r = cli({"validate"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  expect_located(r.err, config_, 3, 12, "log_level must be one of");

  r = run_command({touchpoint_binary().string(), "validate", "--config", (root_ / "nope.yaml").string()}, root_);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("nope.yaml"), std::string::npos) << r.err;
}

TEST_F(ValidateTest, RunRefusesAnInvalidConfigWithExitTwo) {
  write_pipeline_file("ghost.yaml", "name: ghost\nsource: { plugin: nosuchplugin }\nstore: true\n");
  hub_->start();
  EXPECT_EQ(hub_->wait_exit(20s), 2);
  const std::string log = hub_->log();
  EXPECT_NE(log.find("plugin 'nosuchplugin' not found"), std::string::npos) << log;
  EXPECT_NE(log.find("configuration invalid, not starting"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(data_ / "admin.addr"));
}

TEST_F(ValidateTest, UsageErrorsExitTwo) {
  CommandResult r = run_command({touchpoint_binary().string(), "frobnicate"}, root_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos) << r.err;
  r = cli({"validate", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown option --bogus"), std::string::npos) << r.err;
  r = run_command({touchpoint_binary().string(), "version"}, root_);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("touchpoint ", 0), 0u) << r.out;
}

}  // namespace
}  // namespace tp_it
