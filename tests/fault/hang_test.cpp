// Plugins that hang: a source stuck in read() is replaced by the supervisor
// and resumes at its durable cursor; a SIGTERM while a sink is stuck in
// write() ends within the call deadline plus a few seconds, names what was
// abandoned, and loses nothing (the outbox delivers it after the restart).
#include <csignal>

#include "fault_support.hpp"

namespace tp_fault {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using tp_it::poll_until;

class HangTest : public FaultTest {
 protected:
  json pipeline_status(const std::string& name) {
    json s = status();
    if (!s.is_object()) return json();
    for (const json& p : s["pipelines"])
      if (p["name"] == name) return p;
    return json();
  }
};

TEST_F(HangTest, SourceHangingInReadIsReplacedAndRecordsKeepFlowing) {
  constexpr uint64_t kRecords = 3000;
  write_config();
  write_pipeline(
      "src",
      "source:\n"
      "  plugin: faulty\n"
      "  call_timeout_ms: 500\n"
      "  poll_interval_ms: 50\n"
      "  config: " +
          json{
              {"records", kRecords}, {"unit_records", 20}, {"id_prefix", "h"}, {"hang_in_read", 10}, {"hang_ms", 20000}}
              .dump() +
          "\n");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", static_cast<int64_t>(kRecords), 40s))
      << pipeline_status("src").dump();
  ASSERT_TRUE(wait_applied(10s));
  const std::string log = hub_->log();
  EXPECT_NE(log.find("faulty: hanging in read() #10"), std::string::npos);
  EXPECT_NE(log.find("read() has not returned after"), std::string::npos);
  EXPECT_NE(log.find("pipeline 'src': source instance restarted"), std::string::npos);
  json p = pipeline_status("src");
  EXPECT_EQ(p["source"]["running"], true) << p.dump();
  EXPECT_GE(p["source"]["restarts"].get<int64_t>(), 1) << p.dump();
  EXPECT_FALSE(p["source"].contains("error")) << p.dump();
  EXPECT_GE(status()["abandoned_plugin_instances"].get<int64_t>(), 1);
  // Resumed at the durable cursor: every record exactly once, none re-emitted.
  std::set<std::string> all;
  for (const std::string& id : make_ids("h", 0, kRecords)) all.insert(id);
  expect_exactly_once(store(), "src", all, all);
  EXPECT_EQ(hub_->terminate(20s), 0);
  EXPECT_NE(hub_->log().find("shutdown abandoned:"), std::string::npos);
}

TEST_F(HangTest, SigtermWithAHungSinkEndsWithinTheCallDeadlineAndLosesNothing) {
  constexpr int64_t kDeadlineMs = 3000;
  const fs::path out = root_ / "sink.jsonl";
  write_config();
  write_pipeline("web", webhook_source("web"),
                 faulty_sink("out",
                             {{"out_file", out.string()},
                              {"hang_in_write", 1},
                              {"hang_ms", 120000},
                              {"hang_once_file", (root_ / "hang.once").string()}},
                             kDeadlineMs));
  ASSERT_NO_FATAL_FAILURE(start_hub());
  const std::vector<std::string> ids = make_ids("term", 0, 50);
  ASSERT_EQ(post_ids("web", ids).status, 202);
  ASSERT_TRUE(hub_->wait_for_log("faulty: hanging in write() #1", 15s));

  const size_t mark = hub_->log_size();
  const auto t0 = std::chrono::steady_clock::now();
  hub_->signal(SIGTERM);
  const int rc = hub_->wait_exit(60s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_EQ(rc, 0);
  EXPECT_LT(took.count(), kDeadlineMs + 5000) << "shutdown is not bounded by the call deadline";
  const std::string log = hub_->log_since(mark);
  EXPECT_NE(log.find("shutdown abandoned:"), std::string::npos) << log;
  EXPECT_NE(log.find("web.out: abandoned"), std::string::npos) << "the log must name the abandoned sink\n" << log;
  EXPECT_EQ(log.find("stopped cleanly"), std::string::npos);

  // Nothing is lost: after a restart the outbox delivers the batch (the once-file keeps it from hanging again).
  ASSERT_NO_FATAL_FAILURE(start_hub());
  const std::set<std::string> acked(ids.begin(), ids.end());
  ASSERT_TRUE(poll_until(
      [&] {
        auto d = sink_deliveries(out);
        json s = status();
        return d.size() == acked.size() && s.is_object() && s["store"]["outbox"] == 0;
      },
      20s));
  for (const auto& [id, n] : sink_deliveries(out)) {
    EXPECT_TRUE(acked.count(id)) << id;
    EXPECT_EQ(n, 1) << id << " delivered " << n << " times (the hung write wrote nothing)";
  }
  ASSERT_TRUE(wait_applied(10s));
  expect_exactly_once(store(), "web", acked, acked);
  std::cerr << "[fault] SIGTERM with a hung sink: exited " << rc << " after " << took.count() << " ms (deadline "
            << kDeadlineMs << " ms)\n";
  EXPECT_EQ(hub_->terminate(20s), 0);
}

}  // namespace
}  // namespace tp_fault
