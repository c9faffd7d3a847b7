// A plugin compiled only against the frozen ABI 1.0 header, in plain C,
// loaded by today's PluginLoader and driven by today's host: negotiate,
// validate, open, check, discover, read -> emit -> journal -> done -> commit,
// write with per-record outcomes, close.
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "config/hub_config.hpp"
#include "journal/journal.hpp"
#include "journal/journal_reader.hpp"
#include "journal/unit_codec.hpp"
#include "plugin/isolation/isolated_plugin.hpp"
#include "plugin/plugin_instance.hpp"
#include "test_util.hpp"
#include "util/metrics.hpp"

namespace {
using namespace abi_test;
namespace core = touchpoint::core;
using core::PluginInstance;
using core::PluginLoader;

std::map<std::string, std::string> read_state(const fs::path& file) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

tp_str str(std::string_view s) { return tp_str{s.data(), s.size()}; }

TEST(FrozenPlugin, NegotiatesAbi1_0WithTheCurrentLoader) {
  PluginLoader loader(ABI_FROZEN_PLUGIN_DIR, "", PluginInstance::host_api());
  auto p = loader.get("frozen_v1_0");
  EXPECT_EQ(p->abi_version, TP_MAKE_VERSION(1, 0));
  EXPECT_EQ(p->version, "1.0.0");
  EXPECT_EQ(p->description, "ABI 1.0 guard-rail plugin (plain C, frozen header)");
  EXPECT_TRUE(p->is_source());
  EXPECT_TRUE(p->is_sink());
  ASSERT_NE(p->vtable, nullptr);
  EXPECT_EQ(p->vtable->size, 72u) << "a 1.0 vtable, whatever size the current one has";
  for (auto fn : {reinterpret_cast<const void*>(p->vtable->validate), reinterpret_cast<const void*>(p->vtable->check),
                  reinterpret_cast<const void*>(p->vtable->discover), reinterpret_cast<const void*>(p->vtable->commit)})
    EXPECT_NE(fn, nullptr);
}

// validate/discover are not reachable through PluginInstance, so they are
// called through the vtable, with core's host API table (ctx NULL: every
// host service then answers "unknown").
TEST(FrozenPlugin, ValidateCheckAndDiscoverThroughTheVtable) {
  PluginLoader loader(ABI_FROZEN_PLUGIN_DIR, "", PluginInstance::host_api());
  const tp_plugin_vtable* vt = loader.get("frozen_v1_0")->vtable;
  char msg[256];
  tp_error err{sizeof(tp_error), msg, sizeof msg, 0};

  EXPECT_EQ(vt->validate(str("{}"), &err), TP_OK);
  EXPECT_EQ(vt->validate(str(R"({"fail_open":true})"), &err), TP_STATUS_INVALID_CONFIG);
  EXPECT_EQ(std::string(msg, err.len), "fail_open is set");

  tp_instance* self = nullptr;
  err.len = 0;
  ASSERT_EQ(vt->open(PluginInstance::host_api(), nullptr, str("{}"), &self, &err), TP_OK) << std::string(msg, err.len);
  ASSERT_NE(self, nullptr);

  err.len = 0;
  EXPECT_EQ(vt->check(self, &err), TP_STATUS_INVALID_CONFIG);
  EXPECT_EQ(std::string(msg, err.len), "no state_file configured");

  std::vector<std::string> chunks;
  auto collect = [](void* ctx, tp_str chunk) {
    static_cast<std::vector<std::string>*>(ctx)->emplace_back(chunk.data, chunk.len);
  };
  EXPECT_EQ(vt->discover(self, collect, &chunks, &err), TP_OK);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0] + chunks[1], R"({"streams":[{"name":"frozen","fields":["email","plan"]}]})");
  vt->close(self);
}

struct Outcome {
  size_t index;
  tp_status status;
  std::string message;
};

// The same plugin, loaded into this process and run in a plugin process of
// its own (isolation: process) behind the proxy: what it sees is the same.
class FrozenPluginBothWays : public ::testing::TestWithParam<bool> {};

TEST_P(FrozenPluginBothWays, DrivenByTheRealHostThroughPluginInstance) {
  ScratchDir dir;
  const fs::path state_file = dir / "state.txt";

  core::journal::JournalOptions jo;
  jo.dir = dir / "journal";
  jo.fsync = false;
  core::journal::Journal journal(jo);
  core::Metrics metrics;
  core::HubConfig hub;
  hub.data_dir = dir.path();

  PluginLoader loader(ABI_FROZEN_PLUGIN_DIR, "", PluginInstance::host_api());

  core::PluginUse use;
  use.plugin = "frozen_v1_0";
  use.instance = "abi.frozen";
  use.config = core::Json{{"state_file", state_file.string()}};
  use.file = "abi_test.yaml";
  use.poll_interval_ms = 20;
  use.isolated = GetParam();
  core::BoundPlugin bound = core::bind_plugin(loader, use, TP_PLUGIN_HOST);
  EXPECT_EQ(bound.plugin->abi_version, TP_MAKE_VERSION(1, 0));
  EXPECT_EQ(bound.plugin->name, "frozen_v1_0");
  {
    PluginInstance inst(bound.plugin, bound.use, core::HostServices{&journal, &metrics, &hub}, "c0");
    inst.open();
    auto state = read_state(state_file);
    EXPECT_EQ(state["checkpoint"], "c0") << "checkpoint_get() answer";
    EXPECT_EQ(state["instance"], "abi.frozen") << "config_get(\"instance\") answer";
    EXPECT_EQ(inst.check(), "");

    // read() -> host emit -> journal -> done(TP_OK) -> commit("c1")
    inst.start_reading();
    ASSERT_TRUE(eventually([&] { return read_state(state_file)["committed"] == "c1"; })) << "commit never arrived";
    state = read_state(state_file);
    EXPECT_EQ(state["done_calls"], "1");
    EXPECT_EQ(state["done_status"], "0");
    EXPECT_EQ(metrics.value("abi_frozen_emits_total", "plugin=frozen_v1_0,instance=abi.frozen"), 1.0);

    core::journal::JournalReader reader(journal, 0);
    ASSERT_TRUE(eventually([&] { return reader.next(); }));
    auto unit = core::journal::decode_unit(reader.payload());
    EXPECT_EQ(unit.source, "abi.frozen");
    EXPECT_EQ(unit.cursor, "c1");
    ASSERT_EQ(unit.records.size(), 2u);
    EXPECT_EQ(unit.records[0].id, "r1");
    EXPECT_EQ(unit.records[0].type, "profile");
    EXPECT_EQ(unit.records[0].key, "cust-7");
    EXPECT_EQ(unit.records[0].ts_ms, 1700000000000);
    EXPECT_EQ(unit.records[0].data, R"({"email":"a@example.com"})");
    EXPECT_EQ(unit.records[0].meta, R"({"via":"frozen"})");
    EXPECT_EQ(unit.records[1].id, "r2");
    EXPECT_EQ(unit.records[1].data, R"({"plan":"gold"})");
    ASSERT_EQ(unit.rejects.size(), 1u);
    EXPECT_EQ(unit.rejects[0].raw, "garbage;row");
    EXPECT_EQ(unit.rejects[0].reason, "not a record");
    EXPECT_EQ(unit.rejects[0].location, "frozen:3");

    // write(): records built with the CURRENT header, read by a 1.0 plugin.
    tp_record records[3] = {};
    const char* ids[3] = {"w1", "w2", "w3"};
    const char* keys[3] = {"k1", "reject-me", "k3"};
    for (size_t i = 0; i < 3; ++i) {
      records[i].size = sizeof(tp_record);
      records[i].id = str(ids[i]);
      records[i].type = str("profile");
      records[i].key = str(keys[i]);
      records[i].data = str("{}");
      records[i].encoding = TP_ENCODING_JSON_UTF8;
      records[i].source = str("abi.frozen");
    }
    std::vector<core::SinkBatch::Item> items;
    for (const tp_record& r : records)
      items.push_back({std::string(r.id.data, r.id.len), std::string(r.type.data, r.type.len),
                       std::string(r.key.data, r.key.len), std::string(r.source.data, r.source.len),
                       std::string(r.data.data, r.data.len), std::string(), 0});
    auto batch = std::make_shared<core::SinkBatch>(std::move(items));
    core::CallResult written = inst.write(batch);
    EXPECT_EQ(written.status, TP_OK) << written.error;
    std::vector<Outcome> outcomes;
    for (size_t i = 0; i < batch->size(); ++i)
      if (auto o = batch->reported(i)) outcomes.push_back({i, o->first, o->second});
    ASSERT_EQ(outcomes.size(), 1u);
    EXPECT_EQ(outcomes[0].index, 1u);
    EXPECT_EQ(outcomes[0].status, TP_STATUS_PERMANENT);
    EXPECT_EQ(outcomes[0].message, "rejected by frozen plugin");

    inst.close();
    state = read_state(state_file);
    EXPECT_EQ(state["closed"], "1");
    EXPECT_EQ(state["writes"], "1");
    EXPECT_EQ(state["written"], "w1,w3");
    EXPECT_EQ(state["committed"], "c1");
    EXPECT_EQ(state["done_calls"], "1") << "one emit, one done()";
  }
  journal.stop();
}

INSTANTIATE_TEST_SUITE_P(Isolation, FrozenPluginBothWays, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "InItsOwnProcess" : "InProcess";
                         });

TEST(FrozenPlugin, OpenFailureReachesTheAdminWithPosition) {
  ScratchDir dir;
  core::journal::JournalOptions jo;
  jo.dir = dir / "journal";
  jo.fsync = false;
  core::journal::Journal journal(jo);
  core::HubConfig hub;
  hub.data_dir = dir.path();
  PluginLoader loader(ABI_FROZEN_PLUGIN_DIR, "", PluginInstance::host_api());

  core::PluginUse use;
  use.plugin = "frozen_v1_0";
  use.instance = "abi.broken";
  use.config = core::Json{{"fail_open", true}};
  use.file = "pipelines/broken.yaml";
  use.line = 3;
  use.col = 5;
  PluginInstance inst(loader.get("frozen_v1_0"), use, core::HostServices{&journal, nullptr, &hub}, "");
  try {
    inst.open();
    ADD_FAILURE() << "open() with fail_open succeeded";
  } catch (const core::PluginError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("pipelines/broken.yaml:3:5"), std::string::npos) << m;
    EXPECT_NE(m.find("failed to open: fail_open is set"), std::string::npos) << m;
  }
  inst.close();
  journal.stop();
}

}  // namespace
