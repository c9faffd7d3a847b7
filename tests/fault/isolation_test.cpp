// Plugins with `isolation: process` (docs/isolation.md): the faulty plugin
// segfaults, hangs and leaks in a touchpoint-plugin-host process of its own.
// Each time the hub keeps running and answering, the records in flight are
// not lost (the sink's write is retried, the source resumes at its durable
// cursor), the process is restarted, and the exit is visible in the log,
// in /metrics and in /status.
#include <signal.h>

#include "fault_support.hpp"

namespace tp_fault {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using tp_it::poll_until;

class IsolationTest : public FaultTest {
 protected:
  json isolated(const std::string& instance) {
    json s = status();
    if (!s.is_object()) return json();
    for (const json& e : s["isolated_plugins"])
      if (e["instance"] == instance) return e;
    return json();
  }
  std::string isolated_sink(const std::string& name, const json& config, int64_t call_timeout_ms, int batch,
                            const std::string& extra = "") {
    return faulty_sink(name, config, call_timeout_ms, batch) + "    isolation: process\n" + extra;
  }
  std::string isolated_webhook(const std::string& name) { return webhook_source(name) + "  isolation: process\n"; }
  std::string metrics() {
    HttpResponse r = admin_get("/metrics");
    return r.status == 200 ? r.body : std::string();
  }
};

TEST_F(IsolationTest, SinkThatSegfaultsIsRestartedAndTheHubKeepsRunning) {
  const fs::path out = root_ / "sink.jsonl", marker = root_ / "crash.once";
  write_config();
  write_pipeline("web", isolated_webhook("web"),
                 isolated_sink("out",
                               {{"out_file", out.string()},
                                {"crash_in_write", 3},
                                {"crash_once_file", marker.string()},
                                {"crash_point", "before"},
                                {"crash_signal", "segv"}},
                               2000, 20));
  ASSERT_NO_FATAL_FAILURE(start_hub());
  const json source = isolated("web");
  ASSERT_TRUE(source.is_object()) << status().dump();
  EXPECT_EQ(source["up"], true);
  EXPECT_GT(source["pid"].get<long>(), 0);
  EXPECT_NE(source["pid"].get<long>(), static_cast<long>(hub_->pid())) << "the webhook runs in its own process";

  const std::set<std::string> acked = post_batches("segv", 10, 20);
  ASSERT_EQ(acked.size(), 200u);
  ASSERT_TRUE(wait_delivered(out, acked, 30s)) << status().dump();
  EXPECT_TRUE(hub_->running());
  EXPECT_TRUE(fs::exists(marker)) << "write() #3 never crashed";
  EXPECT_NE(hub_->log().find("plugin process of 'web.out' killed by signal 11"), std::string::npos) << hub_->log();
  EXPECT_NE(hub_->log().find("plugin process of 'web.out' restarted"), std::string::npos);
  const json sink = isolated("web.out");
  EXPECT_EQ(sink["up"], true) << sink.dump();
  EXPECT_GE(sink["restarts"].get<int64_t>(), 1) << sink.dump();
  EXPECT_NE(sink.value("last_exit", "").find("signal 11"), std::string::npos) << sink.dump();
  const std::string m = metrics();
  EXPECT_NE(m.find("touchpoint_plugin_process_exits_total{"), std::string::npos);
  EXPECT_NE(m.find("reason=\"crash\""), std::string::npos);
  // The crash came before the batch was written and the write was retried:
  // every record exactly once, nothing dead-lettered.
  const auto delivered = sink_deliveries(out);
  EXPECT_EQ(delivered.size(), acked.size());
  for (const auto& [id, n] : delivered) EXPECT_EQ(n, 1) << id << " delivered " << n << " times";
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters"), 0);
  expect_exactly_once(store(), "web", acked, acked);
  EXPECT_EQ(status()["abandoned_plugin_instances"], 0);

  // A hub killed outright takes its plugin processes with it.
  const long webhook_pid = isolated("web")["pid"].get<long>();
  hub_->kill9();
  EXPECT_TRUE(poll_until([&] { return ::kill(static_cast<pid_t>(webhook_pid), 0) != 0; }, 5s))
      << "plugin process " << webhook_pid << " outlived the hub";
}

TEST_F(IsolationTest, SinkThatHangsIsKilledAtItsDeadlineInsteadOfAbandoned) {
  const fs::path out = root_ / "sink.jsonl";
  write_config();
  write_pipeline("web", webhook_source("web"),
                 isolated_sink("out",
                               {{"out_file", out.string()},
                                {"hang_in_write", 2},
                                {"hang_once_file", (root_ / "hang.once").string()},
                                {"hang_ms", 60000}},
                               1000, 50));
  ASSERT_NO_FATAL_FAILURE(start_hub());
  const std::set<std::string> acked = post_batches("hang", 10, 50);
  ASSERT_EQ(acked.size(), 500u);
  ASSERT_TRUE(wait_delivered(out, acked, 30s)) << status().dump();
  EXPECT_NE(hub_->log().find("faulty: hanging in write() #2"), std::string::npos);
  EXPECT_NE(hub_->log().find("did not answer within 800 ms (killed)"), std::string::npos) << hub_->log();
  const json sink = isolated("web.out");
  EXPECT_GE(sink["restarts"].get<int64_t>(), 1) << sink.dump();
  EXPECT_EQ(status()["abandoned_plugin_instances"], 0) << "a hung isolated plugin is killed, not abandoned";
  EXPECT_NE(metrics().find("reason=\"timeout\""), std::string::npos);
  const auto delivered = sink_deliveries(out);
  EXPECT_EQ(delivered.size(), acked.size());
  for (const auto& [id, n] : delivered) EXPECT_EQ(n, 1) << id << " delivered " << n << " times";
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters"), 0);
  // No abandoned instance: a normal, quick shutdown.
  EXPECT_EQ(hub_->terminate(20s), 0);
  EXPECT_EQ(hub_->log().find("shutdown abandoned:"), std::string::npos);
}

TEST_F(IsolationTest, SinkThatLeaksIsKilledAtItsMemoryLimit) {
  const fs::path out = root_ / "sink.jsonl";
  write_config();
  write_pipeline("web", webhook_source("web"),
                 isolated_sink("out", {{"out_file", out.string()}, {"leak_mb_per_write", 64}}, 5000, 20,
                               "    memory_limit_mb: 200\n"));
  ASSERT_NO_FATAL_FAILURE(start_hub());
  const std::set<std::string> acked = post_batches("leak", 12, 20);
  ASSERT_EQ(acked.size(), 240u);
  ASSERT_TRUE(wait_delivered(out, acked, 60s)) << status().dump();
  EXPECT_TRUE(hub_->running());
  EXPECT_NE(hub_->log().find("over memory_limit_mb 200 (killed)"), std::string::npos) << hub_->log();
  const json sink = isolated("web.out");
  EXPECT_GE(sink["restarts"].get<int64_t>(), 1) << sink.dump();
  EXPECT_NE(metrics().find("reason=\"memory\""), std::string::npos);
  // A kill between the append and the reply may deliver a batch twice; none is lost.
  for (const auto& [id, n] : sink_deliveries(out)) EXPECT_GE(n, 1) << id;
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters"), 0);
  EXPECT_EQ(hub_->terminate(20s), 0);
}

TEST_F(IsolationTest, SourceThatHangsInReadResumesAtItsDurableCursor) {
  constexpr uint64_t kRecords = 2000;
  write_config();
  write_pipeline("src",
                 "source:\n"
                 "  plugin: faulty\n"
                 "  isolation: process\n"
                 "  call_timeout_ms: 1000\n"
                 "  poll_interval_ms: 50\n"
                 "  config: " +
                     json{{"records", kRecords},
                          {"unit_records", 20},
                          {"id_prefix", "s"},
                          {"hang_in_read", 10},
                          {"hang_once_file", (root_ / "hang.once").string()},
                          {"hang_ms", 60000}}
                         .dump() +
                     "\n");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", static_cast<int64_t>(kRecords), 40s)) << status().dump();
  ASSERT_TRUE(wait_applied(10s));
  EXPECT_NE(hub_->log().find("faulty: hanging in read() #10"), std::string::npos);
  EXPECT_NE(hub_->log().find("plugin process of 'src' did not answer within 800 ms (killed)"), std::string::npos);
  EXPECT_GE(isolated("src")["restarts"].get<int64_t>(), 1);
  EXPECT_EQ(status()["abandoned_plugin_instances"], 0);
  // The new process opened at the last committed cursor: every record exactly once.
  std::set<std::string> all;
  for (const std::string& id : make_ids("s", 0, kRecords)) all.insert(id);
  expect_exactly_once(store(), "src", all, all);
  EXPECT_EQ(hub_->terminate(20s), 0);
}

// Hostile values cross the process boundary intact: a 5-million-digit phone
// number and a 4 MiB name with NUL escapes and non-BMP characters, in one
// request through an isolated webhook.
TEST_F(IsolationTest, HugeAndOddValuesCrossTheProcessBoundaryIntact) {
  write_config();
  write_pipeline("web", isolated_webhook("web"));
  ASSERT_NO_FATAL_FAILURE(start_hub());
  const std::string digits(5'000'000, '7');
  std::string odd;
  while (odd.size() < 4 * 1024 * 1024) odd += "\\u0000 \xf0\x9f\x98\x80 \\\"q\\\" ";
  const std::string body =
      "[{\"id\":\"huge-1\",\"customer_id\":\"huge-1\",\"phone\":\"" + digits + "\",\"name\":\"" + odd + "\"}]";
  HttpResponse r = post("web", body);
  ASSERT_EQ(r.status, 202) << r.error << r.body.substr(0, 300);
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", 1, 20s));
  EXPECT_EQ(store().scalar("SELECT length(json_extract(data, '$.phone')) FROM records WHERE id = 'huge-1'"),
            static_cast<int64_t>(digits.size()));
  EXPECT_EQ(isolated("web")["restarts"], 0) << "nothing about the values should have cost the process";
  EXPECT_EQ(hub_->terminate(20s), 0);
}

// A sink batch larger than one frame can carry (six records of 14 MiB, over
// the wire's 80 MiB) is sent as several write() calls, not refused as if the
// process were broken.
TEST_F(IsolationTest, ABatchOfHugeRecordsIsSplitAcrossFramesAndDelivered) {
  const fs::path out = root_ / "sink.jsonl";
  write_config();
  write_pipeline("web", webhook_source("web", "    max_body_bytes: 16777216\n"),
                 isolated_sink("out", {{"out_file", out.string()}}, 20000, 10));
  ASSERT_NO_FATAL_FAILURE(start_hub());
  // Held until all three are in the outbox, so they leave in one batch.
  auto lock = std::make_unique<StoreWriteLock>(data_ / "touchpoint.db");
  std::set<std::string> acked;
  const std::string blob(14 * 1024 * 1024, 'b');
  for (int i = 0; i < 6; ++i) {
    const std::string id = "big-" + std::to_string(i);
    HttpResponse r = post("web", "[{\"id\":\"" + id + "\",\"customer_id\":\"" + id + "\",\"blob\":\"" + blob + "\"}]");
    ASSERT_EQ(r.status, 202) << r.error << r.body.substr(0, 300);
    acked.insert(id);
  }
  lock->release();
  ASSERT_TRUE(wait_delivered(out, acked, 60s)) << status().dump();
  for (const auto& [id, n] : sink_deliveries(out)) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(isolated("web.out")["restarts"], 0) << isolated("web.out").dump();
  EXPECT_EQ(hub_->log().find("plugin process of 'web.out'"), std::string::npos) << "no exit, no restart";
  EXPECT_EQ(hub_->terminate(20s), 0);
}

TEST_F(IsolationTest, ValidateRunsAnIsolatedPluginsConfigCheckInItsOwnProcess) {
  write_config("{ segment_size: 1MiB }", "{ batch_records: 1024, poll_interval_ms: 50, shutdown_timeout_ms: 10000 }",
               "plugins: { isolate: [faulty] }\n");
  write_pipeline("web", webhook_source("web"), faulty_sink("out", {{"out_file", 7}}, 1000, 20));
  const tp_it::CommandResult r = cli({"validate"});
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("rejects its config: faulty: out_file must be a string"), std::string::npos)
      << r.out << r.err;
}

}  // namespace
}  // namespace tp_fault
