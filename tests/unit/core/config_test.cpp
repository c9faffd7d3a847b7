// Hub and pipeline config loading: valid files, positioned errors
// (file:line:col), secret/path references and hostile input.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <functional>
#include <set>

#include "config/hub_config.hpp"
#include "config/pipeline_config.hpp"
#include "config/yaml_util.hpp"
#include "plugin/plugin_loader.hpp"
#include "runtime/validation.hpp"
#include "test_util.hpp"

namespace touchpoint::core {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using test::write_file;

/// The ConfigError text of fn, or "<no error>". Any other exception fails the test.
std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

class ConfigTest : public ::testing::Test {
 protected:
  fs::path file(const std::string& name, const std::string& text) {
    fs::path p = tmp_ / name;
    write_file(p, text);
    return p;
  }
  std::string hub_error(const std::string& text) {
    fs::path p = file("hub.yaml", text);
    return error_of([&] { load_hub_config(p); });
  }
  HubConfig hub() {
    HubConfig h;
    h.data_dir = tmp_ / "data";
    return h;
  }
  std::string pipeline_error(const std::string& text) {
    fs::path p = file("p.yaml", text);
    return error_of([&] { load_pipeline(p, hub()); });
  }
  /// The message prefix for a position in p.yaml / hub.yaml.
  std::string at(const std::string& name, int line, int col) {
    return (tmp_ / name).string() + ":" + std::to_string(line) + ":" + std::to_string(col) + ": ";
  }

  TempDir tmp_;
};

TEST_F(ConfigTest, ValidHubConfigLoads) {
  fs::path p = file("etc/touchpoint.yaml", R"(# comment
data_dir: ../var
plugin_dir: /usr/lib/tp
pipelines_dir: pipes
log_level: debug
store:
  type: sqlite
  path: custom.db
journal:
  segment_size: 8MiB
  max_size: 1GiB
  fsync: false
apply:
  batch_records: 100
  poll_interval_ms: 250
  shutdown_timeout_ms: 0
sinks:
  retry: { max_attempts: 3, initial_backoff_ms: 10, max_backoff_ms: 1000, jitter: 0.5 }
admin:
  listen: 0.0.0.0:9000
  allow_insecure_remote: true
  token_file: secrets/admin.token
  public_health: false
plugins:
  owner: touchpoint
)");
  HubConfig c = load_hub_config(p);
  const fs::path etc = tmp_ / "etc";
  EXPECT_EQ(c.file, p);
  EXPECT_EQ(c.data_dir, (tmp_ / "var").lexically_normal());
  EXPECT_EQ(c.plugin_dir, fs::path("/usr/lib/tp"));
  EXPECT_EQ(c.pipelines_dir, etc / "pipes");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.store_type, "sqlite");
  EXPECT_EQ(c.store_path, (tmp_ / "var" / "custom.db").lexically_normal());
  EXPECT_EQ(c.journal_segment_bytes, 8ull << 20);
  EXPECT_EQ(c.journal_max_bytes, 1ull << 30);
  EXPECT_FALSE(c.journal_fsync);
  EXPECT_EQ(c.apply_batch_records, 100u);
  EXPECT_EQ(c.poll_interval_ms, 250);
  EXPECT_EQ(c.shutdown_timeout_ms, 0);
  EXPECT_EQ(c.sink_retry.max_attempts, 3);
  EXPECT_EQ(c.sink_retry.initial_backoff_ms, 10);
  EXPECT_EQ(c.sink_retry.max_backoff_ms, 1000);
  EXPECT_DOUBLE_EQ(c.sink_retry.jitter, 0.5);
  EXPECT_EQ(c.admin_listen, "0.0.0.0:9000");
  EXPECT_EQ(c.admin_token_file, etc / "secrets" / "admin.token");
  EXPECT_FALSE(c.admin_public_health);
  EXPECT_TRUE(c.admin_allow_insecure_remote);
  EXPECT_EQ(c.plugin_owner, "touchpoint");
}

TEST_F(ConfigTest, EmptyHubConfigGivesDefaults) {
  HubConfig c = load_hub_config(file("hub.yaml", "# nothing\n"));
  EXPECT_EQ(c.data_dir, fs::path("/var/lib/touchpoint"));
  EXPECT_EQ(c.store_path, fs::path("/var/lib/touchpoint/touchpoint.db"));
  EXPECT_EQ(c.pipelines_dir, tmp_ / "pipelines");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_TRUE(c.journal_fsync);
  EXPECT_EQ(c.sink_retry.max_attempts, 8);
}

TEST_F(ConfigTest, ShippedConfigsLoad) {
  const fs::path src(TOUCHPOINT_SOURCE_DIR);
  HubConfig c = load_hub_config(src / "config" / "touchpoint.yaml");
  EXPECT_EQ(c.journal_segment_bytes, 64ull << 20);
  EXPECT_EQ(c.pipelines_dir, src / "pipelines");
  std::vector<ConfigError> errors;
  auto pipelines = load_pipelines(c.pipelines_dir, c, errors);
  for (const ConfigError& e : errors) ADD_FAILURE() << e.what();
  EXPECT_FALSE(pipelines.empty());
}

TEST_F(ConfigTest, FuzzFindingsInHubAndPipelineConfigs) {
  // fuzz_hub_config (hub-journal-size-overflow): 2 * segment_size wrapped.
  EXPECT_NE(hub_error("journal:\n  segment_size: 9223372036854775808\n  max_size: 4096\n").find("at most 64GiB"),
            std::string::npos);
  EXPECT_NE(hub_error("journal:\n  segment_size: 64GiB\n  max_size: 100GiB\n").find("at least twice"),
            std::string::npos);
  // fuzz_pipeline_config (config-typed-scalar-regex): a long plain scalar of
  // digits overflowed the stack in std::regex; now it is just a string.
  const std::string digits(200000, '7');
  EXPECT_TRUE(typed_scalar(YAML::Node(digits)) == Json(digits)) << "a 200,000-digit scalar";
  EXPECT_EQ(typed_scalar(YAML::Load("-12")), Json(-12));
  EXPECT_EQ(typed_scalar(YAML::Load("+1.5e3")), Json(1500.0));
  EXPECT_EQ(typed_scalar(YAML::Load(".5")), Json(0.5));
  EXPECT_EQ(typed_scalar(YAML::Load("1e")), Json("1e"));
  EXPECT_EQ(typed_scalar(YAML::Load("+")), Json("+"));
}

TEST_F(ConfigTest, HubErrorsArePositioned) {
  EXPECT_EQ(hub_error("data_dir: d\nlog_level: info\njournal:\n  segmnt_size: 1MiB\n"),
            at("hub.yaml", 4, 3) + "unknown key 'segmnt_size' in journal (allowed: segment_size, max_size, fsync)");
  EXPECT_EQ(hub_error("datadir: x\n"),
            at("hub.yaml", 1, 1) +
                "unknown key 'datadir' in hub config (allowed: data_dir, plugin_dir, "
                "pipelines_dir, log_level, store, journal, apply, sinks, admin, plugins, customer, reports)");
  EXPECT_EQ(hub_error("journal:\n  fsync: maybe\n"), at("hub.yaml", 2, 10) + "journal.fsync must be true or false");
  EXPECT_EQ(hub_error("apply:\n  batch_records: many\n"),
            at("hub.yaml", 2, 18) + "apply.batch_records must be an integer, got 'many'");
  EXPECT_EQ(hub_error("apply:\n  batch_records: 0\n"),
            at("hub.yaml", 2, 18) + "apply.batch_records must be between 1 and 1000000");
  EXPECT_EQ(hub_error("apply: [1, 2]\n"), at("hub.yaml", 1, 8) + "apply must be a mapping");
  EXPECT_EQ(hub_error("data_dir: [a]\n"), at("hub.yaml", 1, 11) + "data_dir must be a string");
  EXPECT_EQ(hub_error("journal:\n  segment_size: 1KiB\n"),
            at("hub.yaml", 2, 17) + "journal.segment_size must be at least 4KiB");
  EXPECT_EQ(hub_error("journal:\n  segment_size: 64MiB\n  max_size: 100MiB\n"),
            at("hub.yaml", 3, 13) + "journal.max_size must be at least twice journal.segment_size (67108864 bytes)");
  EXPECT_EQ(hub_error("journal:\n  max_size: 64MB\n"),
            at("hub.yaml", 2, 13) + "journal.max_size: unknown unit 'MB' (use B, KiB, MiB or GiB)");
  EXPECT_EQ(hub_error("journal:\n  max_size: lots\n"),
            at("hub.yaml", 2, 13) + "journal.max_size must be a size like 64MiB, got 'lots'");
  EXPECT_EQ(hub_error("log_level: loud\n"),
            at("hub.yaml", 1, 12) + "log_level must be one of trace, debug, info, warn, error");
  EXPECT_EQ(hub_error("store:\n  type: postgres\n"),
            at("hub.yaml", 2, 9) + "store.type 'postgres' is not supported (supported: sqlite)");
  EXPECT_EQ(hub_error("admin:\n  listen: 8079\n"), at("hub.yaml", 2, 11) + "admin.listen must be host:port");
  EXPECT_EQ(hub_error("sinks:\n  retry: { jitter: 2 }\n"), at("hub.yaml", 2, 20) + "jitter must be a number in [0, 1]");
  EXPECT_EQ(hub_error("sinks:\n  retry:\n    initial_backoff_ms: 100\n    max_backoff_ms: 10\n"),
            at("hub.yaml", 3, 5) + "max_backoff_ms must be >= initial_backoff_ms");
  EXPECT_EQ(hub_error("- just\n- a list\n"), at("hub.yaml", 1, 1) + "hub config must be a mapping");
}

TEST_F(ConfigTest, ConversionsAndReportsKeysAreReadAndCheckedWithTheirPosition) {
  const HubConfig h = load_hub_config(file("hub.yaml",
                                           "reports: { quality_refresh_s: 0 }\n"
                                           "customer:\n  conversions:\n    events: [purchase]\n    window_days: 14\n"
                                           "    half_life_days: 3\n"
                                           "    campaigns: { cars: { events: [test_drive], category: cars } }\n"));
  EXPECT_EQ(h.reports_quality_refresh_s, 0);
  const report::ConversionConfig& c = h.customer.conversions;
  EXPECT_EQ(c.defaults.events, std::vector<std::string>{"purchase"});
  EXPECT_EQ(c.defaults.window_ms, 14 * report::kDayMs);
  EXPECT_EQ(c.half_life_ms, 3 * report::kDayMs);
  EXPECT_EQ(c.rule_for("cars").events, std::vector<std::string>{"test_drive"});
  EXPECT_EQ(c.rule_for("cars").category, "cars");
  EXPECT_EQ(c.rule_for("cars").window_ms, 14 * report::kDayMs);  // inherited from the default

  auto err = [&](const std::string& conversions) {
    return hub_error("customer:\n  conversions: " + conversions + "\n");
  };
  EXPECT_NE(err("{ window_days: 0 }").find("window_days"), std::string::npos) << err("{ window_days: 0 }");
  EXPECT_NE(err("{ events: [] }").find("non-empty list"), std::string::npos);
  EXPECT_NE(err("{ events: purchase }").find("non-empty list"), std::string::npos);
  EXPECT_NE(err("{ events: [\"" + std::string(65, 'x') + "\"] }").find("1 to 64 characters"), std::string::npos);
  EXPECT_NE(err("{ half_life_days: -1 }").find("half_life_days"), std::string::npos);
  EXPECT_NE(err("{ windw_days: 3 }").find("unknown key 'windw_days'"), std::string::npos);
  EXPECT_NE(err("{ campaigns: { x: { product: [a] } } }").find("product"), std::string::npos);
  EXPECT_NE(err("{ campaigns: [x] }").find("must be a mapping"), std::string::npos);
  EXPECT_EQ(err("{ window_days: 0 }").rfind(at("hub.yaml", 2, 31), 0), 0u) << err("{ window_days: 0 }");
  EXPECT_NE(hub_error("reports: { quality_refresh_s: 86401 }\n").find("quality_refresh_s"), std::string::npos);
  EXPECT_NE(hub_error("reports: { refresh: 1 }\n").find("unknown key 'refresh'"), std::string::npos);
}

TEST_F(ConfigTest, SizeOverflowIsAnError) {
  EXPECT_EQ(hub_error("journal:\n  max_size: 17179869184GiB\n"),
            at("hub.yaml", 2, 13) + "journal.max_size is too large");
  EXPECT_EQ(hub_error("journal:\n  max_size: 99999999999999999999999\n"),
            at("hub.yaml", 2, 13) + "journal.max_size must be a size like 64MiB, got '99999999999999999999999'");
}

TEST_F(ConfigTest, DuplicateKeysAreRejected) {
  EXPECT_EQ(hub_error("log_level: info\ndata_dir: a\nlog_level: debug\n"),
            at("hub.yaml", 3, 1) + "duplicate key 'log_level' in hub config");
  EXPECT_EQ(pipeline_error("source:\n  plugin: csv\n  plugin: webhook\n"),
            at("p.yaml", 3, 3) + "duplicate key 'plugin' in source");
}

TEST_F(ConfigTest, MalformedYamlIsPositioned) {
  // yaml-cpp reports where it gave up: the flow sequence opened on line 2 never closes.
  EXPECT_EQ(hub_error("data_dir: x\nlog_level: [info\n"), at("hub.yaml", 3, 1) + "end of sequence flow not found");
  EXPECT_EQ(hub_error("data_dir: x\n  log_level: info\n"), at("hub.yaml", 2, 12) + "illegal map value");
  EXPECT_EQ(hub_error("journal:\n\tfsync: true\n"), at("hub.yaml", 2, 7) + "illegal map value");
  EXPECT_EQ(hub_error("journal: {fsync: true\n"), at("hub.yaml", 2, 1) + "end of map flow not found");
  EXPECT_EQ(hub_error("a: *nowhere\n"), at("hub.yaml", 1, 4) + "the referenced anchor is not defined");
}

TEST_F(ConfigTest, UnreadableFileIsAnError) {
  EXPECT_EQ(error_of([&] { load_hub_config(tmp_ / "missing.yaml"); }),
            (tmp_ / "missing.yaml").string() + ":0:0: cannot read file");
  fs::create_directories(tmp_ / "dir.yaml");
  EXPECT_EQ(error_of([&] { load_hub_config(tmp_ / "dir.yaml"); }),
            (tmp_ / "dir.yaml").string() + ":0:0: cannot read file");
}

constexpr const char* kValidPipeline = R"(# a pipeline
name: crm-sync
description: CRM into the store and out to mail
source:
  plugin: webhook
  config:
    listen: 127.0.0.1:8080
    inbox: ${data_dir}/inbox
    token: ${env:TP_CORE_TEST_TOKEN}
    password: ${file:secret.txt}
    header: "Bearer ${env:TP_CORE_TEST_TOKEN}"
    port: 8080
    ratio: 0.5
    quoted: "8080"
    enabled: true
    nothing: ~
    nested: { list: [1, two, "3"] }
  poll_interval_ms: 50
transforms:
  - rename: { mail: email }
  - normalize_email: { field: email }
store: true
sinks:
  - name: mail
    plugin: smtp
    config: { host: mail.example.com }
    retry: { max_attempts: 2 }
    batch_size: 10
  - name: crm
    plugin: crm
)";

TEST_F(ConfigTest, ValidPipelineLoadsWithResolvedReferences) {
  ::setenv("TP_CORE_TEST_TOKEN", "tok-123", 1);
  file("secret.txt", "s3cr3t\r\n");
  fs::path p = file("crm.yaml", kValidPipeline);
  HubConfig h = hub();
  h.sink_retry.max_attempts = 5;
  PipelinePtr pl = load_pipeline(p, h);
  EXPECT_EQ(pl->name, "crm-sync");
  EXPECT_EQ(pl->description, "CRM into the store and out to mail");
  EXPECT_EQ(pl->source.plugin, "webhook");
  EXPECT_EQ(pl->source.instance, "crm-sync");
  EXPECT_EQ(pl->source.line, 5);
  EXPECT_EQ(pl->source.col, 3);
  EXPECT_EQ(pl->source.poll_interval_ms, 50);
  const Json& c = pl->source.config;
  EXPECT_EQ(c["inbox"], (tmp_ / "data").string() + "/inbox");
  EXPECT_EQ(c["token"], "tok-123");
  EXPECT_EQ(c["password"], "s3cr3t");  // trailing newline dropped
  EXPECT_EQ(c["header"], "Bearer tok-123");
  EXPECT_EQ(c["port"], 8080);
  EXPECT_EQ(c["ratio"], 0.5);
  EXPECT_EQ(c["quoted"], "8080");
  EXPECT_EQ(c["enabled"], true);
  EXPECT_TRUE(c["nothing"].is_null());
  EXPECT_EQ(c["nested"], Json::parse(R"({"list": [1, "two", "3"]})"));
  EXPECT_EQ(pl->source.secret_refs, (std::set<std::string>{"header", "password", "token"}));
  ASSERT_EQ(pl->steps.size(), 2u);
  EXPECT_EQ(pl->steps[0].kind, "rename");
  EXPECT_EQ(pl->steps[1].name, "2:normalize_email");
  EXPECT_TRUE(pl->to_store);
  ASSERT_EQ(pl->sinks.size(), 2u);
  EXPECT_EQ(pl->sinks[0].name, "mail");
  EXPECT_EQ(pl->sinks[0].plugin.instance, "crm-sync.mail");
  EXPECT_EQ(pl->sinks[0].plugin.config["host"], "mail.example.com");
  EXPECT_EQ(pl->sinks[0].retry.max_attempts, 2);
  EXPECT_EQ(pl->sinks[0].batch_size, 10u);
  EXPECT_EQ(pl->sinks[1].retry.max_attempts, 5);  // hub default
  EXPECT_FALSE(pl->fingerprint.empty());
  EXPECT_EQ(load_pipeline(p, h)->fingerprint, pl->fingerprint);
}

TEST_F(ConfigTest, PipelineNameDefaultsToFileStem) {
  PipelinePtr pl = load_pipeline(file("web_in.yaml", "source: { plugin: webhook }\n"), hub());
  EXPECT_EQ(pl->name, "web_in");
  EXPECT_TRUE(pl->steps.empty());
}

TEST_F(ConfigTest, PipelineErrorsArePositioned) {
  EXPECT_EQ(pipeline_error("name: p\nstore: true\n"), at("p.yaml", 1, 1) + "missing key 'source'");
  EXPECT_EQ(pipeline_error("name: p\nsource:\n  config: {}\n"), at("p.yaml", 3, 3) + "missing key 'plugin'");
  EXPECT_EQ(pipeline_error("source: { plugin: csv }\nsinks:\n  - plugin: crm\n"),
            at("p.yaml", 3, 5) + "missing key 'name'");
  EXPECT_EQ(pipeline_error("source: { plugin: csv, confg: {} }\n"),
            at("p.yaml", 1, 24) +
                "unknown key 'confg' in source (allowed: plugin, config, poll_interval_ms, call_timeout_ms, "
                "isolation, memory_limit_mb)");
  EXPECT_EQ(pipeline_error("source: { plugin: csv }\nstore: yes\n"),
            at("p.yaml", 2, 8) + "store must be true or false");
  EXPECT_EQ(pipeline_error("source: { plugin: csv }\ntransforms: { rename: {} }\n"),
            at("p.yaml", 2, 13) + "transforms must be a list");
  EXPECT_EQ(pipeline_error("source: { plugin: csv, config: [1] }\n"), at("p.yaml", 1, 32) + "config must be a mapping");
  EXPECT_EQ(pipeline_error("source: { plugin: Bad Name }\n"), at("p.yaml", 1, 19) + "invalid plugin name 'Bad Name'");
  EXPECT_EQ(pipeline_error("source: { plugin: csv }\nstore: false\n"),
            at("p.yaml", 1, 1) + "pipeline 'p' has no destination: set store: true or add sinks");
  EXPECT_EQ(pipeline_error("name: Web\nsource: { plugin: csv }\n"),
            at("p.yaml", 1, 7) + "invalid pipeline name 'Web' (lower-case letters, digits, '-' and '_', at most 63)");
  EXPECT_EQ(pipeline_error("source: { plugin: csv }\nsinks:\n  - { name: a, plugin: x }\n  - { name: a, plugin: y }\n"),
            at("p.yaml", 4, 13) + "duplicate sink name 'a'");
  EXPECT_EQ(pipeline_error("source: { plugin: csv }\nsinks:\n  - { name: a, plugin: x, batch_size: 0 }\n"),
            at("p.yaml", 3, 39) + "batch_size must be between 1 and 10000");
  EXPECT_EQ(pipeline_error("[1, 2]\n"), at("p.yaml", 1, 1) + "a pipeline file must be a mapping");
  std::string unknown_step = pipeline_error("source: { plugin: csv }\ntransforms:\n  - frobnicate: {}\n");
  EXPECT_EQ(unknown_step.rfind(at("p.yaml", 3, 5) + "unknown transform 'frobnicate'", 0), 0u) << unknown_step;
}

TEST_F(ConfigTest, ReferenceErrors) {
  ::unsetenv("TP_CORE_TEST_UNSET_VAR");
  EXPECT_EQ(pipeline_error("source:\n  plugin: csv\n  config:\n    key: ${env:TP_CORE_TEST_UNSET_VAR}\n"),
            at("p.yaml", 4, 10) + "environment variable 'TP_CORE_TEST_UNSET_VAR' is not set");
  EXPECT_EQ(pipeline_error("source:\n  plugin: csv\n  config:\n    key: ${file:no/such/file}\n"),
            at("p.yaml", 4, 10) + "cannot read secret file '" + (tmp_ / "no/such/file").string() + "'");
  EXPECT_EQ(pipeline_error("source:\n  plugin: csv\n  config:\n    key: ${vault:x}\n"),
            at("p.yaml", 4, 10) + "unknown reference '${vault:x}' (use ${env:NAME}, ${file:/path} or ${data_dir})");
  EXPECT_EQ(pipeline_error("source:\n  plugin: csv\n  config:\n    key: \"${env:X\"\n"),
            at("p.yaml", 4, 10) + "unterminated '${' in '${env:X'");
  // Nested references are found at any depth, with their own position.
  EXPECT_EQ(
      pipeline_error("source:\n  plugin: csv\n  config:\n    a:\n      - ok\n      - ${env:TP_CORE_TEST_UNSET_VAR}\n"),
      at("p.yaml", 6, 9) + "environment variable 'TP_CORE_TEST_UNSET_VAR' is not set");
}

TEST_F(ConfigTest, AbsoluteSecretFileAndEmptyEnv) {
  write_file(tmp_ / "abs" / "key", "k\n\n");
  ::setenv("TP_CORE_TEST_EMPTY", "", 1);
  PipelinePtr pl = load_pipeline(
      file("p.yaml", "source:\n  plugin: csv\n  config:\n    key: ${file:" + (tmp_ / "abs" / "key").string() +
                         "}\n    e: \"[${env:TP_CORE_TEST_EMPTY}]\"\n"),
      hub());
  EXPECT_EQ(pl->source.config["key"], "k");
  EXPECT_EQ(pl->source.config["e"], "[]");
}

TEST_F(ConfigTest, LoadPipelinesCollectsAllErrors) {
  const fs::path dir = tmp_ / "pipes";
  write_file(dir / "a.yaml", "name: same\nsource: { plugin: csv }\n");
  write_file(dir / "b.yaml", "name: same\nsource: { plugin: webhook }\n");
  write_file(dir / "c.yml", "source: { plugin: csv }\nbogus: 1\n");
  write_file(dir / "d.yaml", "source: { plugin: csv }\n");
  write_file(dir / "notes.txt", "ignored");
  std::vector<ConfigError> errors;
  auto pls = load_pipelines(dir, hub(), errors);
  ASSERT_EQ(pls.size(), 2u);
  EXPECT_EQ(pls[0]->name, "same");
  EXPECT_EQ(pls[1]->name, "d");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(std::string(errors[0].what()),
            (dir / "b.yaml").string() + ":1:1: pipeline name 'same' is already used by " + (dir / "a.yaml").string());
  EXPECT_EQ(errors[1].file(), (dir / "c.yml").string());
  EXPECT_EQ(errors[1].line(), 2);
  EXPECT_EQ(errors[1].col(), 1);

  errors.clear();
  EXPECT_TRUE(load_pipelines(tmp_ / "nope", hub(), errors).empty());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message(), "pipelines directory does not exist");
}

TEST_F(ConfigTest, PlainTextSecretIsFlaggedByValidation) {
  HubConfig h = hub();
  h.pipelines_dir = tmp_ / "pipes";
  ::setenv("TP_CORE_TEST_TOKEN", "tok", 1);
  write_file(
      h.pipelines_dir / "p.yaml",
      "source:\n  plugin: nosuchplugin\n  config:\n    api_token: hunter2\n    password: ${env:TP_CORE_TEST_TOKEN}\n"
      "    path: ${data_dir}/x\n");
  PluginLoader loader(tmp_ / "no-plugins", "", nullptr);
  ValidationResult r = validate_pipelines(h, loader);
  ASSERT_EQ(r.pipelines.size(), 1u);
  EXPECT_EQ(r.pipelines[0]->source.secret_refs, std::set<std::string>{"password"});
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0], (h.pipelines_dir / "p.yaml").string() +
                               ":2:3: option 'api_token' holds a plain-text secret; use ${env:NAME} or ${file:/path}");
  EXPECT_FALSE(r.ok());  // the plugin does not exist
}

// ---- hostile input --------------------------------------------------------

TEST_F(ConfigTest, HugeValueLoads) {
  std::string big(1 << 20, 'x');
  PipelinePtr pl = load_pipeline(file("p.yaml", "description: " + big + "\nsource: { plugin: csv }\n"), hub());
  EXPECT_EQ(pl->description.size(), big.size());
}

TEST_F(ConfigTest, OversizedFileIsRefused) {
  std::string text = "description: " + std::string(17 << 20, 'x') + "\nsource: { plugin: csv }\n";
  std::string err = pipeline_error(text);
  EXPECT_EQ(err, at("p.yaml", 0, 0) + "config file is larger than 16 MiB");
}

TEST_F(ConfigTest, DeeplyNestedYamlIsAnErrorNotACrash) {
  // Where the parser gives up (line 4 or the end of the file), not 0:0.
  const std::string prefix = (tmp_ / "p.yaml").string() + ":";
  for (const std::string& open : {std::string("["), std::string("{a: ")}) {
    std::string text = "source:\n  plugin: csv\n  config:\n    deep: ";
    for (int i = 0; i < 100000; ++i) text += open;
    std::string err = pipeline_error(text + "\n");
    EXPECT_EQ(err.rfind(prefix, 0), 0u) << err.substr(0, 200);
    EXPECT_EQ(err.find(prefix + "0:0:"), std::string::npos) << err.substr(0, 200);
    EXPECT_NE(err.find(": YAML nested too deeply (maximum depth of the parser exceeded)"), std::string::npos)
        << err.substr(0, 200);
  }
  // Nesting the parser accepts still converts.
  std::string text = "source:\n  plugin: csv\n  config:\n    deep: ";
  for (int i = 0; i < 300; ++i) text += "[";
  text += "1";
  for (int i = 0; i < 300; ++i) text += "]";
  PipelinePtr pl = load_pipeline(file("ok.yaml", text + "\n"), hub());
  const Json* j = &pl->source.config["deep"];
  int depth = 0;
  while (j->is_array()) {
    j = &(*j)[0];
    ++depth;
  }
  EXPECT_EQ(depth, 300);
}

TEST_F(ConfigTest, RecursiveAliasIsAnErrorNotACrash) {
  std::string err = pipeline_error("source:\n  plugin: csv\n  config:\n    loop: &a [x, *a]\n");
  EXPECT_EQ(err.rfind((tmp_ / "p.yaml").string() + ":4:", 0), 0u) << err;
  EXPECT_NE(err.find("YAML nested deeper than 1000 levels (or a recursive alias)"), std::string::npos) << err;
  err = hub_error("journal: &j { fsync: true, again: *j }\n");
  EXPECT_NE(err.find("recursive alias"), std::string::npos) << err;
}

TEST_F(ConfigTest, AliasBombIsRefused) {
  // "Billion laughs": 9 levels of 9 aliases each would expand to 9^9 strings.
  std::string text = "source:\n  plugin: csv\n  config:\n    l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i <= 9; ++i) {
    std::string prev = "*l" + std::to_string(i - 1);
    text += "    l" + std::to_string(i) + ": &l" + std::to_string(i) + " [" + prev;
    for (int k = 0; k < 8; ++k) text += ", " + prev;
    text += "]\n";
  }
  auto start = std::chrono::steady_clock::now();
  std::string err = pipeline_error(text);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  constexpr int kScale = 4;  // sanitizers slow every allocation
#else
  constexpr int kScale = 1;
#endif
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2) * kScale);
  // Refused while walking the anchored list on line 4, long before 9^9.
  EXPECT_EQ(err.rfind((tmp_ / "p.yaml").string() + ":4:", 0), 0u) << err;
  EXPECT_NE(err.find(": YAML is too large: more than 1000000 values with aliases expanded"), std::string::npos) << err;
  // Plain aliases are fine.
  PipelinePtr pl =
      load_pipeline(file("ok.yaml", "source:\n  plugin: csv\n  config:\n    a: &x { k: v }\n    b: *x\n"), hub());
  EXPECT_EQ(pl->source.config["b"], Json({{"k", "v"}}));
}

TEST_F(ConfigTest, NonUtf8BytesAreAPositionedError) {
  // Latin-1 "Straße" (0xDF) in a UTF-8 file.
  EXPECT_EQ(pipeline_error("source: { plugin: csv }\ndescription: Stra\xDF"
                           "e\n"),
            at("p.yaml", 2, 18) + "invalid UTF-8 byte 0xDF (config files must be UTF-8)");
  EXPECT_EQ(hub_error("log_level: info\n# comment \xFF\xFE\n"),
            at("hub.yaml", 2, 11) + "invalid UTF-8 byte 0xFF (config files must be UTF-8)");
  // Overlong encoding of '/' and a truncated sequence at the end of the file.
  EXPECT_EQ(hub_error("data_dir: \xC0\xAF\n"),
            at("hub.yaml", 1, 11) + "invalid UTF-8 byte 0xC0 (config files must be UTF-8)");
  EXPECT_EQ(hub_error("data_dir: x\xE2\x82"),
            at("hub.yaml", 1, 12) + "invalid UTF-8 byte 0xE2 (config files must be UTF-8)");
  // Valid multi-byte UTF-8 passes, and a BOM is fine.
  PipelinePtr pl =
      load_pipeline(file("ok.yaml", "\xEF\xBB\xBFsource: { plugin: csv }\ndescription: Straße → Köln 👍\n"), hub());
  EXPECT_EQ(pl->description, "Straße → Köln 👍");
}

TEST_F(ConfigTest, BinaryGarbageIsAnErrorNotACrash) {
  std::string garbage;
  uint32_t x = 12345;
  for (int i = 0; i < 4096; ++i) {
    x = x * 1103515245u + 12345u;
    garbage.push_back(static_cast<char>(x >> 24));
  }
  std::string err = pipeline_error(garbage);
  EXPECT_EQ(err.rfind((tmp_ / "p.yaml").string() + ":", 0), 0u) << err;
  EXPECT_EQ(hub_error(std::string("log_level: in\0fo\n", 17)),
            at("hub.yaml", 1, 14) + "control character 0x00 is not allowed");
  EXPECT_EQ(hub_error("log_level: \x1b[31minfo\n"), at("hub.yaml", 1, 12) + "control character 0x1B is not allowed");
  // UTF-16 (with its BOM) is refused at the first byte.
  EXPECT_EQ(hub_error(std::string("\xFF\xFEl\0o\0g\0\n\0", 10)),
            at("hub.yaml", 1, 1) + "invalid UTF-8 byte 0xFF (config files must be UTF-8)");
}

TEST_F(ConfigTest, RemoteAdminListenerNeedsTlsOrAnExplicitOptIn) {
  EXPECT_EQ(hub_error("admin:\n  listen: 0.0.0.0:8079\n"),
            at("hub.yaml", 2, 11) +
                "admin.listen 0.0.0.0:8079 is not a loopback address and admin.tls is not configured: the bearer "
                "token would travel in clear text (set admin.tls, or admin.allow_insecure_remote: true behind a TLS "
                "proxy)");
  EXPECT_EQ(hub_error("admin:\n  listen: 10.1.2.3:8079\n  tls: { cert_file: c.pem }\n"),
            at("hub.yaml", 3, 8) + "admin.tls needs both cert_file and key_file");
  for (const char* loopback : {"127.0.0.1:1", "127.9.9.9:1", "localhost:1", "[::1]:1"}) {
    fs::path p = file("hub.yaml", std::string("admin:\n  listen: \"") + loopback + "\"\n");
    EXPECT_EQ(load_hub_config(p).admin_listen, loopback);
  }
  fs::path p = file("hub.yaml", "admin:\n  listen: 0.0.0.0:8079\n  tls: { cert_file: c.pem, key_file: k.pem }\n");
  HubConfig c = load_hub_config(p);
  EXPECT_EQ(c.admin_tls_cert_file, (tmp_ / "c.pem").string());
  EXPECT_EQ(c.admin_tls_key_file, (tmp_ / "k.pem").string());
}

TEST_F(ConfigTest, IsolationComesFromTheHubListAndCanBeSetPerUse) {
  HubConfig c = load_hub_config(file("hub.yaml", "plugins:\n  isolate: [vendor_crm]\n  host: bin/host\n"));
  EXPECT_EQ(c.plugin_isolate, std::set<std::string>{"vendor_crm"});
  EXPECT_EQ(c.plugin_host, tmp_ / "bin/host");
  EXPECT_EQ(hub_error("plugins:\n  isolate: vendor_crm\n"),
            at("hub.yaml", 2, 12) + "plugins.isolate must be a list of plugin names");

  HubConfig h = hub();
  h.plugin_isolate = {"vendor_crm"};
  PipelinePtr pl = load_pipeline(file("p.yaml",
                                      "source: { plugin: vendor_crm }\n"
                                      "sinks:\n"
                                      "  - { name: a, plugin: vendor_crm, isolation: in_process }\n"
                                      "  - { name: b, plugin: csv, isolation: process, memory_limit_mb: 64 }\n"
                                      "  - { name: c, plugin: csv }\n"),
                                 h);
  EXPECT_TRUE(pl->source.isolated);
  EXPECT_EQ(pl->source.memory_limit_mb, 1024);
  EXPECT_FALSE(pl->sinks[0].plugin.isolated);
  EXPECT_TRUE(pl->sinks[1].plugin.isolated);
  EXPECT_EQ(pl->sinks[1].plugin.memory_limit_mb, 64);
  EXPECT_FALSE(pl->sinks[2].plugin.isolated);
  EXPECT_EQ(pipeline_error("source: { plugin: csv, isolation: sandbox }\n"),
            at("p.yaml", 1, 35) + "isolation must be process or in_process");
  EXPECT_EQ(pipeline_error("source: { plugin: csv, memory_limit_mb: 64 }\n"),
            at("p.yaml", 1, 41) + "memory_limit_mb needs isolation: process");
  EXPECT_EQ(pipeline_error("source: { plugin: csv, isolation: process, memory_limit_mb: 1 }\n"),
            at("p.yaml", 1, 61) + "memory_limit_mb must be between 16 and 1048576");
}

TEST_F(ConfigTest, PluginPinsDeadlinesAndBudgets) {
  fs::path p = file("hub.yaml",
                    "apply: { record_budget_ms: 250 }\n"
                    "plugins:\n  call_timeout_ms: 5000\n  sha256:\n    webhook: "
                    "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\n");
  HubConfig c = load_hub_config(p);
  EXPECT_EQ(c.record_budget_ms, 250);
  EXPECT_EQ(c.plugin_call_timeout_ms, 5000);
  EXPECT_EQ(c.plugin_sha256.at("webhook"), "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  EXPECT_EQ(hub_error("plugins:\n  sha256: { csv: 1234 }\n"),
            at("hub.yaml", 2, 18) + "plugins.sha256.csv must be 64 hexadecimal digits (sha256sum of the .so)");
  EXPECT_EQ(hub_error("plugins:\n  call_timeout_ms: 5\n"),
            at("hub.yaml", 2, 20) + "plugins.call_timeout_ms must be between 100 and 3600000");
  EXPECT_EQ(hub_error("apply:\n  record_budget_ms: 0\n"),
            at("hub.yaml", 2, 21) + "apply.record_budget_ms must be between 1 and 600000");

  // A pipeline takes the hub's defaults and may override the deadline per plugin.
  HubConfig h = hub();
  h.record_budget_ms = 250;
  h.plugin_call_timeout_ms = 5000;
  fs::path pf =
      file("p.yaml", "source: { plugin: csv, call_timeout_ms: 1500 }\nsinks:\n  - { name: out, plugin: csv }\n");
  PipelinePtr pl = load_pipeline(pf, h);
  EXPECT_EQ(pl->record_budget, std::chrono::milliseconds(250));
  EXPECT_EQ(pl->source.call_timeout_ms, 1500);
  EXPECT_EQ(pl->sinks.at(0).plugin.call_timeout_ms, 5000);
}

TEST_F(ConfigTest, AFeedbackSinkGetsNoPipelineRecordsAndIsNoChannelSink) {
  PipelinePtr pl = load_pipeline(
      file("crm.yaml", "source: { plugin: csv }\nsinks:\n  - { name: back, plugin: csv, feedback: true }\n"), hub());
  ASSERT_EQ(pl->sinks.size(), 1u);
  EXPECT_TRUE(pl->sinks[0].feedback);
  EXPECT_FALSE(pl->has_record_sinks) << "the pipeline's own records do not go to a feedback sink";
  EXPECT_EQ(
      pipeline_error("source: { plugin: csv }\nsinks:\n  - { name: a, plugin: x, channel: email, feedback: true }\n"),
      at("p.yaml", 3, 53) + "a sink is either a channel sink or a feedback sink, not both");
  EXPECT_EQ(pipeline_error("source: { plugin: csv }\nsinks:\n  - { name: a, plugin: x, feedback: sure }\n"),
            at("p.yaml", 3, 37) + "feedback must be true or false");
}

}  // namespace
}  // namespace touchpoint::core
