// Crash safety: clients post concurrently, the hub is killed with SIGKILL in
// the middle of the stream (several times), restarted, and every record that
// got a 202 must be in the store exactly once.
#include <algorithm>
#include <atomic>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "support.hpp"

namespace tp_it {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

class CrashTest : public HubTest {};

TEST_F(CrashTest, KillNineMidStreamLosesNoAcknowledgedRecordAndDuplicatesNone) {
  constexpr int kRounds = 3;
  constexpr int kClients = 4;
  constexpr int kBatch = 20;
  constexpr size_t kAckedPerRound = 1200;  // kill once this many were acknowledged in the round

  write_hub_config();
  write_webhook_pipeline("web", "  - normalize_email: { field: email }\n");

  std::mutex mu;
  std::set<std::string> acked;   // got a 202
  std::set<std::string> posted;  // sent at least once (202 or not)
  size_t failed_requests = 0;

  for (int round = 0; round < kRounds; ++round) {
    ASSERT_NO_FATAL_FAILURE(start_hub());
    const std::string url = webhook_url("web");
    ASSERT_FALSE(url.empty());
    std::atomic<bool> stop{false};
    std::atomic<size_t> acked_round{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < kClients; ++t) {
      clients.emplace_back([&, t] {
        for (int i = 0; !stop.load(); ++i) {
          std::vector<std::string> ids;
          json batch = json::array();
          for (int j = 0; j < kBatch; ++j) {
            std::string id = "c" + std::to_string(round) + "-" + std::to_string(t) + "-" + std::to_string(i) + "-" +
                             std::to_string(j);
            batch.push_back({{"id", id}, {"email", id + "@crash.example.com"}, {"n", j}});
            ids.push_back(std::move(id));
          }
          {
            std::lock_guard<std::mutex> lk(mu);
            posted.insert(ids.begin(), ids.end());
          }
          HttpResponse r = http_request("POST", url, batch.dump(), {"Content-Type: application/json"}, 5s);
          std::lock_guard<std::mutex> lk(mu);
          if (r.status == 202) {
            acked.insert(ids.begin(), ids.end());
            acked_round += ids.size();
          } else {
            ++failed_requests;  // the hub died under us (or pushed back): not acknowledged
            if (r.status == 0) std::this_thread::sleep_for(2ms);
          }
        }
      });
    }
    const bool enough = poll_until([&] { return acked_round.load() >= kAckedPerRound; }, 20s);
    hub_->kill9();  // clients are still posting: requests are in flight
    stop = true;
    for (auto& c : clients) c.join();
    ASSERT_TRUE(enough) << "round " << round << ": only " << acked_round.load() << " records acknowledged";
  }

  // Restart; a client retries a few acknowledged requests (idempotent by id).
  ASSERT_NO_FATAL_FAILURE(start_hub());
  EXPECT_NE(hub_->log().find("recovered"), std::string::npos);
  {
    json retry = json::array();
    int n = 0;
    for (const std::string& id : acked) {
      if (n++ == 50) break;
      retry.push_back({{"id", id}, {"email", id + "@crash.example.com"}});
    }
    HttpResponse r = post("web", retry.dump());
    ASSERT_EQ(r.status, 202) << r.error << r.body;
  }

  std::set<std::string> stored;
  auto load_stored = [&] {
    stored.clear();
    for (auto& row : store().rows("SELECT id FROM records")) stored.insert(row[0]);
  };
  const bool all_there = poll_until(
      [&] {
        load_stored();
        return std::includes(stored.begin(), stored.end(), acked.begin(), acked.end());
      },
      20s);
  // Let the applier finish whatever else is durable before the final counts.
  ASSERT_TRUE(poll_until(
      [&] {
        json s = json::parse(admin_get("/status").body, nullptr, false);
        return s.is_object() && s["store"]["applied_seq"] == s["journal"]["durable_seq"];
      },
      20s));
  load_stored();

  std::vector<std::string> missing;
  std::set_difference(acked.begin(), acked.end(), stored.begin(), stored.end(), std::back_inserter(missing));
  EXPECT_TRUE(all_there && missing.empty())
      << missing.size() << " acknowledged records lost, e.g. " << (missing.empty() ? "" : missing.front());
  std::vector<std::string> phantom;
  std::set_difference(stored.begin(), stored.end(), posted.begin(), posted.end(), std::back_inserter(phantom));
  EXPECT_TRUE(phantom.empty()) << phantom.size() << " records nobody posted, e.g. " << phantom.front();

  StoreReader& db = store();
  const int64_t rows = db.scalar("SELECT COUNT(*) FROM records");
  EXPECT_EQ(rows, static_cast<int64_t>(stored.size()));
  EXPECT_EQ(db.scalar("SELECT COUNT(DISTINCT id) FROM records"), rows) << "duplicate record ids";
  // One e-mail per record, so exactly one profile and one identity per record:
  // a record applied twice would have created a second profile.
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM profiles"), rows);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM identities WHERE kind='email'"), rows);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM records WHERE profile_id IS NULL"), 0);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM dead_letters"), 0);
  std::cerr << "[crash test] " << kRounds << " kill -9 rounds: " << acked.size() << " records acknowledged, "
            << stored.size() << " stored, " << posted.size() << " posted, " << failed_requests
            << " requests without 202\n";

  EXPECT_EQ(hub_->terminate(20s), 0);
  EXPECT_NE(hub_->log().find("stopped cleanly"), std::string::npos);
}

TEST_F(CrashTest, SigtermUnderLoadDrainsEverythingAcknowledged) {
  constexpr int kClients = 4;
  constexpr int kBatch = 20;
  write_hub_config();
  write_webhook_pipeline("web");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  const std::string url = webhook_url("web");

  std::mutex mu;
  std::set<std::string> acked;
  std::map<long, size_t> statuses;
  std::atomic<bool> stop{false};
  std::atomic<size_t> acked_count{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        std::vector<std::string> ids;
        json batch = json::array();
        for (int j = 0; j < kBatch; ++j) {
          ids.push_back("s-" + std::to_string(t) + "-" + std::to_string(i) + "-" + std::to_string(j));
          batch.push_back({{"id", ids.back()}, {"email", ids.back() + "@term.example.com"}});
        }
        HttpResponse r = http_request("POST", url, batch.dump(), {"Content-Type: application/json"}, 15s);
        std::lock_guard<std::mutex> lk(mu);
        ++statuses[r.status];
        if (r.status == 202) {
          acked.insert(ids.begin(), ids.end());
          acked_count += ids.size();
        } else if (r.status == 0) {
          std::this_thread::sleep_for(2ms);
        }
      }
    });
  }
  const bool enough = poll_until([&] { return acked_count.load() >= 800; }, 20s);
  hub_->signal(SIGTERM);  // while the clients keep posting
  const int rc = hub_->wait_exit(30s);
  stop = true;
  for (auto& c : clients) c.join();
  ASSERT_TRUE(enough);
  EXPECT_EQ(rc, 0);
  EXPECT_NE(hub_->log().find("stopped cleanly"), std::string::npos);
  // Only 202, 503 (shutting down) or no answer at all (connection refused/reset).
  for (const auto& [status, n] : statuses)
    EXPECT_TRUE(status == 202 || status == 503 || status == 0) << n << " responses with status " << status;

  // The hub is gone: everything acknowledged was applied before it exited.
  std::set<std::string> stored;
  for (auto& row : store().rows("SELECT id FROM records")) stored.insert(row[0]);
  std::vector<std::string> missing;
  std::set_difference(acked.begin(), acked.end(), stored.begin(), stored.end(), std::back_inserter(missing));
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << acked.size()
                               << " acknowledged records not applied at exit, e.g. " << missing.front();
}

// apply.shutdown_timeout_ms bounds the drain: the hub exits cleanly when the
// deadline passes, and what it did not apply is applied from the journal at
// the next start — once.
TEST_F(CrashTest, ShutdownDeadlineLeavesTheRestInTheJournal) {
  write_hub_config();
  std::string yaml = read_file(config_);
  const std::string fixture_apply = "shutdown_timeout_ms: 10000";
  ASSERT_NE(yaml.find(fixture_apply), std::string::npos) << yaml;
  yaml.replace(yaml.find(fixture_apply), fixture_apply.size(), "shutdown_timeout_ms: 0");
  write_file(config_, yaml);
  write_webhook_pipeline("web", "  - normalize_email: { field: email }\n");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  constexpr int kRequests = 40, kBatch = 1000;
  for (int i = 0; i < kRequests; ++i) {
    json batch = json::array();
    for (int j = 0; j < kBatch; ++j) {
      const std::string id = "d-" + std::to_string(i) + "-" + std::to_string(j);
      batch.push_back({{"id", id}, {"email", id + "@deadline.example.com"}});
    }
    ASSERT_EQ(post("web", batch.dump()).status, 202);
  }
  hub_->signal(SIGTERM);
  ASSERT_EQ(hub_->wait_exit(30s), 0) << hub_->log();
  const int64_t at_exit = store().scalar("SELECT COUNT(*) FROM records");
  if (hub_->log().find("drain did not finish") != std::string::npos) {
    EXPECT_LT(at_exit, int64_t(kRequests) * kBatch);
  } else {
    EXPECT_EQ(at_exit, int64_t(kRequests) * kBatch);  // this machine was fast enough to drain at once
  }
  ASSERT_NO_FATAL_FAILURE(start_hub());
  EXPECT_TRUE(wait_count("SELECT COUNT(*) FROM records", int64_t(kRequests) * kBatch, 60s));
  EXPECT_EQ(store().scalar("SELECT COUNT(DISTINCT id) FROM records"), int64_t(kRequests) * kBatch);
  EXPECT_EQ(hub_->terminate(30s), 0);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM records"), int64_t(kRequests) * kBatch);
}

TEST_F(CrashTest, CsvImportKilledMidFileResumesWithoutLossOrDuplicates) {
  constexpr int kRows = kDeadlineScale > 1 ? 20000 : 60000;  // sanitizer builds apply several times slower
  write_hub_config();
  const fs::path inbox = data_ / "inbox";
  write_pipeline_file("cc.yaml",
                      "name: cc\n"
                      "source:\n"
                      "  plugin: csv\n"
                      "  poll_interval_ms: 50\n"
                      "  config: { inbox: " +
                          inbox.string() +
                          ", delimiter: \";\", type: profile, key_column: Kundennummer, settle_ms: 0, batch_rows: 250,"
                          " columns: { Kundennummer: customer_id, E-Mail: email } }\n"
                          "store: true\n");
  std::string csv = "Kundennummer;E-Mail\n";
  for (int i = 0; i < kRows; ++i) csv += "K" + std::to_string(i) + ";k" + std::to_string(i) + "@csv.example.com\n";
  fs::create_directories(inbox);

  ASSERT_NO_FATAL_FAILURE(start_hub());
  write_file_atomic(inbox / "big.csv", csv);
  // Kill as soon as a few units of the file are durable: mid-file.
  ASSERT_TRUE(poll_until(
      [&] {
        json s = json::parse(admin_get("/status").body, nullptr, false);
        return s.is_object() && s["journal"]["durable_seq"].get<int64_t>() >= 3;
      },
      20s));
  hub_->kill9();
  const int64_t at_kill = store().scalar("SELECT COUNT(*) FROM records");
  const bool finished_before_kill = fs::exists(inbox / "done" / "big.csv");

  ASSERT_NO_FATAL_FAILURE(start_hub());
  ASSERT_TRUE(poll_until([&] { return fs::exists(inbox / "done" / "big.csv"); }, 30s));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", kRows, 30s));
  ASSERT_TRUE(poll_until(
      [&] {
        json s = json::parse(admin_get("/status").body, nullptr, false);
        return s.is_object() && s["store"]["applied_seq"] == s["journal"]["durable_seq"];
      },
      20s));
  StoreReader& db = store();
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM records"), kRows);
  EXPECT_EQ(db.scalar("SELECT COUNT(DISTINCT key) FROM records"), kRows);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM profiles"), kRows);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM dead_letters"), 0);
  if (!finished_before_kill && at_kill < kRows) {
    // From its checkpoint: mid-file, or (when the journal replay reached the end) just the move to done/.
    const std::string log = hub_->log();
    EXPECT_TRUE(log.find("csv: resuming big.csv at line") != std::string::npos ||
                log.find("csv: finishing the interrupted commit of big.csv") != std::string::npos)
        << "restart did not resume from the checkpoint";
  }
  std::cerr << "[crash test] csv: " << at_kill << " of " << kRows << " rows applied when killed"
            << (finished_before_kill ? " (file already finished)" : "") << "\n";
  EXPECT_EQ(hub_->terminate(20s), 0);
}

// Start-up does not wait for the journal replay: with a large unapplied
// backlog the hub is ready at once, /status shows the lag, and the backlog
// is applied in the background, every record exactly once.
TEST_F(CrashTest, HubIsReadyWhileABacklogIsReplayed) {
  // A sanitizer build applies several times slower, so a third of the load
  // leaves as large a backlog (and replays in the same wall time).
  constexpr int kRequests = kDeadlineScale > 1 ? 100 : 300;
  constexpr int kBatch = 500;
  write_hub_config();
  write_webhook_pipeline("web", "  - normalize_email: { field: email }\n");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  const std::string url = webhook_url("web");
  std::atomic<int> next{0};
  std::atomic<int> acked{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      for (int i; (i = next++) < kRequests;) {
        json batch = json::array();
        for (int j = 0; j < kBatch; ++j) {
          const std::string id = "b" + std::to_string(i) + "-" + std::to_string(j);
          batch.push_back({{"id", id}, {"email", id + "@backlog.example.com"}});
        }
        if (http_request("POST", url, batch.dump(), {"Content-Type: application/json"}, 20s).status == 202)
          acked += kBatch;
      }
    });
  for (auto& c : clients) c.join();
  ASSERT_EQ(acked.load(), kRequests * kBatch);
  hub_->kill9();
  const int64_t applied_at_kill = store().scalar("SELECT COUNT(*) FROM records");
  ASSERT_LT(applied_at_kill, kRequests * kBatch) << "the applier caught up before the kill: no backlog to test with";

  hub_->start();
  ASSERT_TRUE(hub_->wait_ready(20s)) << hub_->log();
  json s = json::parse(admin_get("/status").body);
  EXPECT_EQ(s["ready"], true);
  EXPECT_GT(s["applier"]["lag_entries"].get<int64_t>(), 0) << "ready only after the replay: " << s.dump();
  // New input is accepted while the backlog is replayed.
  EXPECT_EQ(post("web", R"({"id":"late-1","email":"late@backlog.example.com"})").status, 202);
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", kRequests * kBatch + 1, 120s));
  EXPECT_EQ(store().scalar("SELECT COUNT(DISTINCT id) FROM records"), kRequests * kBatch + 1);
  std::cerr << "[crash test] backlog: " << (kRequests * kBatch - applied_at_kill) << " records to replay, lag "
            << s["applier"]["lag_entries"] << " entries when ready\n";
  EXPECT_EQ(hub_->terminate(60s), 0);
}

}  // namespace
}  // namespace tp_it
