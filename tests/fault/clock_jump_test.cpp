// The wall clock jumps (an NTP step, a VM resumed from a snapshot): the hub
// runs under libfaketime (Debian package `faketime`) with
// FAKETIME_TIMESTAMP_FILE, which the test rewrites at runtime to move the
// hub's CLOCK_REALTIME back an hour and forward a day. The monotonic clock is
// left alone (FAKETIME_DONT_FAKE_MONOTONIC), as in a real clock step.
//
// Promised: outbox retries scheduled before a backward jump are due at once
// (no stall for the length of the jump), records keep flowing, and webhook
// signatures are checked against the hub's (faked) clock with the documented
// tolerance. The last two tests check the other back-off timers of the hub
// (a stuck sink's reopen, a stuck source's restart) against the same rule.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>

#include "fault_support.hpp"

namespace tp_fault {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using tp_it::poll_until;

constexpr const char* kSecret = "fault-clock-secret";

// The MT variant: with FAKETIME_NO_CACHE the plain library re-reads the
// timestamp file into a static buffer that other threads read at the same
// time, so now and then one of the hub's threads sees the real time (about
// 1 run in 15 of the first test here; libfaketime PR #547). The MT variant
// serialises its clock calls.
const std::string& libfaketime() {
  static const std::string path = [] {
    if (const char* env = std::getenv("TP_LIBFAKETIME"); env != nullptr && *env != '\0') return std::string(env);
    for (const char* p : {"/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                          "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
                          "/usr/lib/faketime/libfaketimeMT.so.1", "/usr/local/lib/faketime/libfaketimeMT.so.1"})
      if (::access(p, R_OK) == 0) return std::string(p);
    return std::string();
  }();
  return path;
}

#define TP_REQUIRE_FAKETIME()                                                                             \
  do {                                                                                                    \
    if (libfaketime().empty())                                                                            \
      GTEST_SKIP() << "needs libfaketime (Debian package faketime) or TP_LIBFAKETIME=<libfaketimeMT.so>"; \
  } while (0)

std::string hmac_b64(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(len));
  out.resize(static_cast<size_t>(n));
  return out;
}

int64_t real_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class ClockJumpTest : public FaultTest {
 protected:
  void SetUp() override {
    FaultTest::SetUp();
    clock_file_ = root_ / "faketime.rc";
    set_clock("+0");
  }
  /// Moves the hub's wall clock (libfaketime syntax, relative to the real time).
  void set_clock(const std::string& spec) { tp_it::write_file_atomic(clock_file_, spec + "\n"); }
  void start_faked_hub() {
    ASSERT_NO_FATAL_FAILURE(start_hub_env({{"LD_PRELOAD", libfaketime()},
                                           {"FAKETIME_TIMESTAMP_FILE", clock_file_.string()},
                                           {"FAKETIME_NO_CACHE", "1"},
                                           {"FAKETIME_DONT_FAKE_MONOTONIC", "1"}}));
  }
  /// A Standard Webhooks signed POST with the given webhook-timestamp.
  HttpResponse post_signed(const std::vector<std::string>& ids, int64_t ts) {
    const std::string body = records_body(ids), id = "msg-" + std::to_string(++messages_);
    const std::string sig = hmac_b64(kSecret, id + "." + std::to_string(ts) + "." + body);
    return post("web", body,
                {"Content-Type: application/json", "webhook-id: " + id, "webhook-timestamp: " + std::to_string(ts),
                 "webhook-signature: v1," + sig});
  }
  json source_of(const std::string& pipeline) {
    json s = status();
    if (!s.is_object()) return json();
    for (const json& p : s["pipelines"])
      if (p["name"] == pipeline) return p["source"];
    return json();
  }
  json first_sink() {
    json s = status();
    if (!s.is_object() || s["pipelines"].empty() || s["pipelines"][0]["sinks"].empty()) return json();
    return s["pipelines"][0]["sinks"][0];
  }
  bool delivered_all(const fs::path& out, const std::set<std::string>& ids) {
    auto d = sink_deliveries(out);
    for (const std::string& id : ids)
      if (!d.count(id)) return false;
    return true;
  }

  fs::path clock_file_;
  int messages_ = 0;
};

TEST_F(ClockJumpTest, SinksKeepDeliveringAndSignaturesFollowTheHubsClockWhenTheClockJumps) {
  TP_REQUIRE_FAKETIME();
  const fs::path out = root_ / "sink.jsonl";
  write_config();
  // Retries 20 s apart: delivered sooner only because the jump makes them due.
  write_pipeline("web",
                 webhook_source("web", std::string("    secret: \"") + kSecret + "\"\n    tolerance_seconds: 300\n"),
                 faulty_sink("out", {{"out_file", out.string()}, {"fail_first", 2}}, 2000, 50,
                             "{ max_attempts: 100, initial_backoff_ms: 20000, max_backoff_ms: 20000, jitter: 0 }"));
  ASSERT_NO_FATAL_FAILURE(start_faked_hub());
  std::set<std::string> acked;
  size_t next = 0;
  auto post_ok = [&](int64_t ts, const char* what) {
    std::vector<std::string> ids = make_ids("clk", next, 50);
    next += 50;
    HttpResponse r = post_signed(ids, ts);
    EXPECT_EQ(r.status, 202) << what << ": " << r.body;
    if (r.status == 202) acked.insert(ids.begin(), ids.end());
  };
  auto post_refused = [&](int64_t ts, const char* what) {
    HttpResponse r = post_signed(make_ids("refused", next, 5), ts);
    EXPECT_EQ(r.status, 401) << what << ": " << r.body;
  };

  // Both batches fail once and are scheduled 20 s ahead. One after the
  // other: posted together they may reach the sink as one write.
  post_ok(real_now_s(), "before the jump");
  ASSERT_TRUE(poll_until([&] { return first_sink()["failed_writes"] == 1; }, 15s)) << first_sink().dump();
  post_ok(real_now_s(), "before the jump");
  ASSERT_TRUE(poll_until([&] { return first_sink()["failed_writes"] == 2; }, 15s)) << first_sink().dump();

  // Back an hour: the retries must not wait for the clock to catch up.
  set_clock("-1h");
  const auto jumped = std::chrono::steady_clock::now();
  EXPECT_TRUE(poll_until([&] { return delivered_all(out, acked); }, 12s))
      << "retries scheduled before the clock went back an hour were not delivered";
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - jumped);
  EXPECT_LT(waited, 15s) << "delivered only after the 20 s backoff: the jump was not detected";
  const int64_t back = real_now_s() - 3600;
  post_ok(back, "hub clock - 0 s");
  post_ok(back - 250, "250 s behind the hub's clock (tolerance 300)");
  post_refused(real_now_s(), "an hour ahead of the hub's clock");
  post_refused(back + 400, "400 s ahead of the hub's clock");
  post_refused(back - 400, "400 s behind the hub's clock");

  // Forward a day.
  set_clock("+1d");
  const int64_t fwd = real_now_s() + 86400;
  post_ok(fwd, "hub clock after a day forward");
  post_ok(fwd - 250, "250 s behind the hub's clock");
  post_refused(real_now_s(), "a day behind the hub's clock");
  post_refused(back, "the clock of before the jump");

  ASSERT_TRUE(poll_until([&] { return delivered_all(out, acked); }, 15s)) << first_sink().dump();
  ASSERT_TRUE(wait_applied(20s));
  ASSERT_TRUE(poll_until([&] { return status()["store"]["outbox"] == 0; }, 10s));
  const auto delivered = sink_deliveries(out);
  EXPECT_EQ(delivered.size(), acked.size());
  for (const auto& [id, n] : delivered) EXPECT_EQ(n, 1) << id << " delivered " << n << " times";
  EXPECT_EQ(acked.size(), 300u);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters"), 0);
  expect_exactly_once(store(), "web", acked, acked);
  std::cerr << "[fault] clock jump: retries delivered " << waited.count() << " ms after the jump back\n";
  EXPECT_EQ(hub_->terminate(20s), 0);
}

TEST_F(ClockJumpTest, ClockJumpBackDoesNotDelayTheReopenOfAStuckSink) {
  TP_REQUIRE_FAKETIME();
  const fs::path out = root_ / "sink.jsonl", open_fails = root_ / "sink-open-fails";
  write_config();
  write_pipeline(
      "web", webhook_source("web"),
      faulty_sink("out",
                  {{"out_file", out.string()},
                   {"hang_in_write", 1},
                   {"hang_ms", 30000},
                   {"open_fail_file", open_fails.string()}},
                  500, 50, "{ max_attempts: 100, initial_backoff_ms: 2000, max_backoff_ms: 2000, jitter: 0 }"));
  ASSERT_NO_FATAL_FAILURE(start_faked_hub());
  tp_it::write_file(open_fails, "");  // the replacement instance cannot open yet
  const std::vector<std::string> ids = make_ids("reopen", 0, 50);
  ASSERT_EQ(post_ids("web", ids).status, 202);
  // write() #1 hangs past 500 ms; the replacement fails to open and is retried 2 s later.
  ASSERT_TRUE(poll_until(
      [&] { return first_sink().value("last_error", "").find("cannot restart the instance") != std::string::npos; },
      15s))
      << first_sink().dump();

  set_clock("-1h");
  fs::remove(open_fails);
  const std::set<std::string> acked(ids.begin(), ids.end());
  ASSERT_TRUE(poll_until([&] { return delivered_all(out, acked); }, 15s))
      << "the stuck sink's replacement was not reopened within 15 s after the clock went back an hour "
         "(its reopen backoff waits on the wall clock): "
      << first_sink().dump();
  ASSERT_TRUE(wait_applied(10s));
  expect_exactly_once(store(), "web", acked, acked);
}

TEST_F(ClockJumpTest, ClockJumpBackDoesNotDelayTheRestartOfAStuckSource) {
  TP_REQUIRE_FAKETIME();
  constexpr uint64_t kRecords = 3000;
  const fs::path hang = root_ / "hang-now", open_fails = root_ / "source-open-fails";
  write_config();
  write_pipeline("src",
                 "source:\n"
                 "  plugin: faulty\n"
                 "  call_timeout_ms: 500\n"
                 "  poll_interval_ms: 50\n"
                 "  config: " +
                     json{{"records", kRecords},
                          {"unit_records", 10},
                          {"id_prefix", "cs"},
                          {"hang_file", hang.string()},
                          {"hang_ms", 30000},
                          {"open_fail_file", open_fails.string()}}
                         .dump() +
                     "\n");
  ASSERT_NO_FATAL_FAILURE(start_faked_hub());
  tp_it::write_file(open_fails, "");
  tp_it::write_file(hang, "");  // the next read() hangs
  // Replaced after 500 ms; the replacement fails to open; the next try is 2 s later.
  ASSERT_TRUE(poll_until(
      [&] {
        json src = source_of("src");
        return src.is_object() && src["running"] == false && src.contains("error");
      },
      15s))
      << source_of("src").dump();

  set_clock("-1h");
  fs::remove(open_fails);
  ASSERT_TRUE(poll_until([&] { return source_of("src")["running"] == true; }, 15s))
      << "the stuck source was not restarted within 15 s after the clock went back an hour "
         "(its restart backoff waits on the wall clock): "
      << source_of("src").dump();
  std::set<std::string> all;
  for (const std::string& id : make_ids("cs", 0, kRecords)) all.insert(id);
  EXPECT_TRUE(wait_count("SELECT COUNT(*) FROM records", static_cast<int64_t>(kRecords), 30s));
  ASSERT_TRUE(wait_applied(10s));
  expect_exactly_once(store(), "src", all, all);
}

}  // namespace
}  // namespace tp_fault
