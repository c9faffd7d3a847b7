// Sinks that fail: down for a while, hung past their deadline, or crashing
// the whole process. The outbox must deliver every record at least once.
// Duplicates are allowed only where the sink was cut off after it had written
// (the crash test's batch in flight), and the tests bound them exactly.
#include <csignal>
#include <fstream>

#include "fault_support.hpp"

namespace tp_fault {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using tp_it::poll_until;

class SinkFaultTest : public FaultTest {
 protected:
  /// The first sink of the first pipeline in /status.
  json sink_health() {
    json s = status();
    if (!s.is_object() || s["pipelines"].empty() || s["pipelines"][0]["sinks"].empty()) return json();
    return s["pipelines"][0]["sinks"][0];
  }
};

TEST_F(SinkFaultTest, SinkThatIsDownThenComesBackGetsEveryRecordExactlyOnce) {
  constexpr uint64_t kFailing = 6;
  const fs::path out = root_ / "sink.jsonl";
  write_config();
  write_pipeline("web", webhook_source("web"),
                 faulty_sink("out", {{"out_file", out.string()}, {"fail_first", kFailing}}));
  ASSERT_NO_FATAL_FAILURE(start_hub());
  const std::set<std::string> acked = post_batches("down", 10, 50);
  ASSERT_EQ(acked.size(), 500u);

  ASSERT_TRUE(wait_delivered(out, acked, 30s)) << sink_health().dump();
  const auto delivered = sink_deliveries(out);
  // The failing writes wrote nothing, so here at-least-once is exactly once.
  EXPECT_EQ(delivered.size(), acked.size());
  for (const auto& [id, n] : delivered) {
    EXPECT_EQ(n, 1) << id << " delivered " << n << " times";
    EXPECT_TRUE(acked.count(id)) << id << " was never posted";
  }
  json h = sink_health();
  EXPECT_EQ(h["failed_writes"], kFailing) << h.dump();
  EXPECT_EQ(h["restarts"], 0) << h.dump();
  EXPECT_NE(h.value("last_error", "").find("fail_first"), std::string::npos) << h.dump();
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters"), 0);
  expect_exactly_once(store(), "web", acked, acked);
  EXPECT_EQ(hub_->terminate(20s), 0);
}

TEST_F(SinkFaultTest, SinkThatHangsPastItsDeadlineIsRestartedAndDeliversEverything) {
  const fs::path out = root_ / "sink.jsonl";
  write_config();
  // write() #2 hangs 4 s; the deadline is 500 ms.
  write_pipeline("web", webhook_source("web"),
                 faulty_sink("out", {{"out_file", out.string()}, {"hang_in_write", 2}, {"hang_ms", 4000}}, 500));
  ASSERT_NO_FATAL_FAILURE(start_hub());
  const std::set<std::string> acked = post_batches("hang", 10, 50);
  ASSERT_EQ(acked.size(), 500u);

  ASSERT_TRUE(wait_delivered(out, acked, 30s)) << sink_health().dump();
  EXPECT_TRUE(hub_->wait_for_log("hanging in write() #2", 5s));
  const std::string log = hub_->log();
  EXPECT_NE(log.find("write() has not returned after"), std::string::npos) << "the deadline was not enforced";
  EXPECT_NE(log.find("web.out: abandoned"), std::string::npos);
  json h = sink_health();
  EXPECT_GE(h["restarts"].get<int64_t>(), 1) << h.dump();
  EXPECT_GE(h["failed_writes"].get<int64_t>(), 1) << h.dump();
  EXPECT_NE(h.value("last_error", "").find("did not return within 500 ms"), std::string::npos) << h.dump();
  EXPECT_EQ(status()["abandoned_plugin_instances"], 1);
  // The hung write wrote nothing: every record exactly once.
  const auto delivered = sink_deliveries(out);
  EXPECT_EQ(delivered.size(), acked.size());
  for (const auto& [id, n] : delivered) EXPECT_EQ(n, 1) << id << " delivered " << n << " times";
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters"), 0);
  expect_exactly_once(store(), "web", acked, acked);
  EXPECT_EQ(hub_->terminate(20s), 0);  // the abandoned instance is still asleep: bounded shutdown, _exit(0)
}

TEST_F(SinkFaultTest, SinkThatCrashesTheHubLosesNothingAndDuplicatesOnlyTheBatchInFlight) {
  constexpr size_t kBatch = 20;  // the sink's batch_size, and the records per request
  constexpr int kRequests = 25;
  const fs::path out = root_ / "sink.jsonl", marker = root_ / "crash.once";
  write_config();
  write_pipeline("web", webhook_source("web"),
                 faulty_sink("out",
                             {{"out_file", out.string()},
                              {"crash_in_write", 3},
                              {"crash_once_file", marker.string()},
                              {"crash_point", "after"}},
                             2000, static_cast<int>(kBatch)));
  ASSERT_NO_FATAL_FAILURE(start_hub());
  // Everything is acknowledged before the sink sees a record (the store is
  // held until then), so no request is in flight when the hub dies: the only
  // duplicates allowed are the crashing write's batch.
  auto lock = std::make_unique<StoreWriteLock>(data_ / "touchpoint.db");
  std::set<std::string> acked;
  for (int i = 0; i < kRequests; ++i) {
    std::vector<std::string> ids = make_ids("crash", static_cast<size_t>(i) * kBatch, kBatch);
    HttpResponse r = post_ids("web", ids);
    ASSERT_EQ(r.status, 202) << r.error << r.body;
    acked.insert(ids.begin(), ids.end());
  }
  lock->release();
  // write() #3 aborts the process after appending its batch.
  ASSERT_EQ(hub_->wait_exit(30s), 128 + SIGABRT) << "the sink's abort() must kill the hub";
  EXPECT_NE(hub_->log().find("faulty: aborting the process in write() #3"), std::string::npos);
  std::set<std::string> in_flight;
  {
    std::ifstream m(marker);
    for (std::string id; std::getline(m, id);)
      if (!id.empty()) in_flight.insert(id);
  }
  ASSERT_EQ(in_flight.size(), kBatch) << "the crashing write's batch";
  EXPECT_EQ(sink_deliveries(out).size(), 3 * kBatch) << "two writes delivered, the third appended, then the abort";

  // Restart: the outbox delivers the rest, and the batch in flight again.
  ASSERT_NO_FATAL_FAILURE(start_hub());
  ASSERT_TRUE(wait_applied(30s));
  ASSERT_TRUE(wait_delivered(out, acked, 30s)) << sink_health().dump();

  const auto delivered = sink_deliveries(out);
  size_t duplicated = 0;
  for (const std::string& id : acked) {
    auto it = delivered.find(id);
    ASSERT_NE(it, delivered.end()) << id << " never delivered";
    if (in_flight.count(id)) {
      EXPECT_EQ(it->second, 2) << id << " was in flight at the crash: delivered before it and once after";
    } else {
      EXPECT_EQ(it->second, 1) << id << " delivered " << it->second << " times";
    }
    if (it->second > 1) ++duplicated;
  }
  EXPECT_EQ(delivered.size(), acked.size()) << "the sink got records nobody posted";
  EXPECT_EQ(duplicated, kBatch);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters"), 0);
  expect_exactly_once(store(), "web", acked, acked);
  std::cerr << "[fault] sink crash: " << acked.size() << " records, " << duplicated
            << " delivered twice (the batch in flight)\n";
  EXPECT_EQ(hub_->terminate(20s), 0);
}

// A client that did not get its 202 (timeout, the hub was killed) sends the
// request again. The store keeps the record once (same id); the sinks must not
// get it a second time either.
TEST_F(SinkFaultTest, RetriedRequestIsStoredOnceAndNotDeliveredToSinksAgain) {
  const fs::path out = root_ / "sink.jsonl";
  write_config();
  write_pipeline("web", webhook_source("web"), faulty_sink("out", {{"out_file", out.string()}}));
  ASSERT_NO_FATAL_FAILURE(start_hub());
  const std::vector<std::string> ids = make_ids("retry", 0, 50);
  const std::set<std::string> acked(ids.begin(), ids.end());
  ASSERT_EQ(post_ids("web", ids).status, 202);
  ASSERT_TRUE(wait_delivered(out, acked, 20s));
  ASSERT_EQ(post_ids("web", ids).status, 202);  // the retry
  ASSERT_TRUE(wait_applied(20s));
  // Whatever the retry put in the outbox is delivered once this is 0.
  ASSERT_TRUE(poll_until([&] { return status()["store"]["outbox"] == 0; }, 20s));
  expect_exactly_once(store(), "web", acked, acked);
  size_t twice = 0;
  for (const auto& [id, n] : sink_deliveries(out))
    if (n > 1) ++twice;
  EXPECT_EQ(twice, 0u) << twice << " of " << ids.size()
                       << " records were delivered to the sink again although the store skipped them as duplicates";
  EXPECT_EQ(hub_->terminate(20s), 0);
}

}  // namespace
}  // namespace tp_fault
