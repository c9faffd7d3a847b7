// `touchpoint validate` (and `run` with an invalid config): exit codes and
// file:line:col messages an admin can act on.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

// --discover opens each source, asks which fields it offers and warns about
// steps that read one it does not offer (and no earlier step writes).
TEST_F(ValidateTest, DiscoverWarnsAboutAStepReadingAFieldTheSourceDoesNotOffer) {
  const fs::path inbox = data_ / "crm-inbox";
  fs::create_directories(inbox);
  write_file(inbox / "export.csv", "Kundennummer;E-Mail;Ort\n1;a@example.de;Berlin\n");
  write_pipeline_file("crm.yaml",
                      "name: crm\n"
                      "source:\n"
                      "  plugin: csv\n"
                      "  config:\n"
                      "    inbox: " +
                          inbox.string() +
                          "\n"
                          "    delimiter: \";\"\n"
                          "    only_mapped: true\n"
                          "    columns: { Kundennummer: customer_id, E-Mail: email, Ort: address.city }\n"
                          "transforms:\n"
                          "  - normalize_email: { field: email }\n"
                          "  - normalize_phone: { field: phone, default_region: DE }\n"
                          "  - default: { channel: crm }\n"
                          "  - require: { fields: [channel, address, address.city.part] }\n"
                          "  - rename: { address.city: city }\n"
                          "  - filter: { field: address.city, op: exists }\n"
                          "store: true\n");
  CommandResult plain = cli({"validate"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.err.find("does not offer"), std::string::npos) << plain.err;

  CommandResult r = cli({"validate", "--discover"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string crm = (pipelines_ / "crm.yaml").string();
  EXPECT_NE(r.err.find(crm + ": step 2:normalize_phone reads 'phone', which the source does not offer "
                             "(it offers: address.city, customer_id, email) [warning]"),
            std::string::npos)
      << r.err;
  // Written by an earlier step, or on the branch of an offered path: no warning.
  EXPECT_EQ(r.err.find("'channel'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("'address'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("'address.city.part'"), std::string::npos) << r.err;
  // Renamed away: the filter reads a field that is no longer there.
  EXPECT_NE(r.err.find("step 6:filter reads 'address.city'"), std::string::npos) << r.err;
  // The webhook lists no fields; the empty csv inbox of pipeline cc has no file to read a header from.
  EXPECT_NE(r.out.find("web: source 'webhook' lists no fields; steps not checked"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cc: source 'csv' lists no fields"), std::string::npos) << r.out;
  // Nothing was imported: the file is still in the inbox, none is done.
  EXPECT_TRUE(fs::exists(inbox / "export.csv"));
  EXPECT_TRUE(!fs::exists(inbox / "done") || fs::is_empty(inbox / "done"));
}

TEST_F(ValidateTest, DiscoverReportsASourceThatCannotOpen) {
  // A port something else listens on: the webhook's open() fails to bind it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  write_webhook_pipeline("busy", "", "", "127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
  CommandResult r = cli({"validate", "--discover"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("busy.yaml: could not discover the fields of source 'webhook'"), std::string::npos) << r.err;
  ::close(fd);
}

TEST_F(ValidateTest, PluginsInspectDiscoverPrintsTheDocument) {
  const fs::path inbox = data_ / "in";
  fs::create_directories(inbox);
  write_file(inbox / "a.csv", "id,email\n1,a@example.de\n");
  write_file(root_ / "csv.json", "{\"inbox\":\"" + inbox.string() + "\"}");
  const std::string so = (plugin_dir() / "libtp_csv.so").string();
  CommandResult r = cli({"plugins", "inspect", so, "--discover", (root_ / "csv.json").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.out.find(R"(discover:     {"streams":[{"name":"a.csv","fields":["id","email"],"columns":["id","email"]}]})"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("fields:       email id\n"), std::string::npos) << r.out;

  write_file(root_ / "bad.json", "[1,2]");
  r = cli({"plugins", "inspect", so, "--discover", (root_ / "bad.json").string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("is not a JSON object"), std::string::npos) << r.err;
  write_file(root_ / "wrong.json", "{\"inbox\":\"" + inbox.string() + "\",\"delimiter\":\"xy\"}");
  r = cli({"plugins", "inspect", so, "--discover", (root_ / "wrong.json").string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("discover: "), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tp_it
