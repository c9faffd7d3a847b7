// SIGHUP reload (validate first, keep the running config when the new one is
// invalid), POST /reload, signals during start-up, and SIGTERM draining.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "support.hpp"

namespace tp_it {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

class ReloadTest : public HubTest {
 protected:
  json pipelines() {
    HttpResponse r = admin_get("/status");
    EXPECT_EQ(r.status, 200) << r.body;
    json s = json::parse(r.body, nullptr, false);
    return s.is_object() ? s["pipelines"] : json();
  }
  std::vector<std::string> pipeline_names() {
    std::vector<std::string> out;
    for (const json& p : pipelines()) out.push_back(p["name"].get<std::string>());
    return out;
  }
};

TEST_F(ReloadTest, HupStartsNewPipelineKeepsOldConfigWhenInvalidAndTermStopsCleanly) {
  write_hub_config();
  write_webhook_pipeline("alpha");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  ASSERT_EQ(post("alpha", R"({"id":"a-1","email":"a1@example.com"})").status, 202);
  EXPECT_EQ(pipeline_names(), std::vector<std::string>{"alpha"});

  // 1. A new pipeline file + SIGHUP: it starts, alpha keeps running.
  size_t mark = hub_->log_size();
  write_webhook_pipeline("beta");
  hub_->signal(SIGHUP);
  ASSERT_TRUE(hub_->wait_for_log("pipeline 'beta' started", 10s, mark)) << hub_->log_since(mark);
  EXPECT_EQ(hub_->log_since(mark).find("pipeline 'alpha' stopped"), std::string::npos)
      << "unchanged pipelines keep running";
  HttpResponse r = post("beta", R"({"id":"b-1","email":"b1@example.com"})");
  ASSERT_EQ(r.status, 202) << r.error << r.body;
  EXPECT_EQ(pipeline_names(), (std::vector<std::string>{"alpha", "beta"}));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records WHERE id='b-1' AND pipeline='beta'", 1));

  // 2. An invalid pipeline file + SIGHUP: refused, logged with file:line, nothing changes.
  const json before = pipelines();
  const int alpha_port = webhook_port("alpha"), beta_port = webhook_port("beta");
  mark = hub_->log_size();
  write_pipeline_file("gamma.yaml",
                      "name: gamma\n"
                      "source:\n"
                      "  plugin: webhook\n"
                      "  config: { listen: \"127.0.0.1:0\"\n"
                      "store: true\n");
  // ... and a broken change to a running pipeline in the same reload.
  write_webhook_pipeline("beta", "  - no_such_transform: {}\n");
  hub_->signal(SIGHUP);
  ASSERT_TRUE(hub_->wait_for_log("reload refused", 10s, mark)) << hub_->log_since(mark);
  const std::string reload_log = hub_->log_since(mark);
  EXPECT_NE(reload_log.find((pipelines_ / "gamma.yaml").string() + ":"), std::string::npos) << reload_log;
  EXPECT_NE(reload_log.find("unknown transform 'no_such_transform'"), std::string::npos) << reload_log;
  EXPECT_TRUE(hub_->running());
  EXPECT_EQ(pipelines(), before);
  EXPECT_EQ(webhook_port("alpha"), alpha_port);
  EXPECT_EQ(webhook_port("beta"), beta_port);
  ASSERT_EQ(post("alpha", R"({"id":"a-2","email":"a2@example.com"})").status, 202);
  ASSERT_EQ(post("beta", R"({"id":"b-2","email":"b2@example.com"})").status, 202);
  HttpResponse m = admin_get("/metrics");
  EXPECT_NE(m.body.find("touchpoint_reloads_total{result=\"rejected\"}"), std::string::npos) << m.body;
  EXPECT_EQ(admin_get("/ready", false).status, 200);

  // 3. Fixed again, through POST /reload: beta removed, gamma stays away.
  fs::remove(pipelines_ / "gamma.yaml");
  fs::remove(pipelines_ / "beta.yaml");
  mark = hub_->log_size();
  r = admin_post("/reload");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(admin_post("/reload", false).status, 401);
  ASSERT_TRUE(hub_->wait_for_log("pipeline 'beta' stopped for reload", 10s, mark)) << hub_->log_since(mark);
  ASSERT_TRUE(poll_until([&] { return pipeline_names() == std::vector<std::string>{"alpha"}; }, 10s));

  // 4. SIGTERM right after a burst of posts: everything acknowledged is applied
  // before the process exits 0 with "stopped cleanly".
  for (int i = 3; i < 23; ++i) {
    std::string id = "a-" + std::to_string(i);
    ASSERT_EQ(post("alpha", R"({"id":")" + id + R"(","email":")" + id + R"(@example.com"})").status, 202);
  }
  EXPECT_EQ(hub_->terminate(20s), 0);
  EXPECT_NE(hub_->log().find("stopped cleanly"), std::string::npos);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM records WHERE pipeline='alpha'"), 22);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM records WHERE pipeline='beta'"), 2);
}

// A changed pipeline that validates but cannot start (its new port is taken)
// must not leave the source down: the previous version keeps running.
TEST_F(ReloadTest, ChangedPipelineThatCannotStartKeepsItsPreviousVersion) {
  write_hub_config();
  write_webhook_pipeline("alpha");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  ASSERT_EQ(post("alpha", R"({"id":"a-1","email":"a1@example.com"})").status, 202);

  // Hold a port so the new version cannot bind it.
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t len = sizeof(sa);
  ::getsockname(holder, reinterpret_cast<sockaddr*>(&sa), &len);
  const int taken = ntohs(sa.sin_port);

  const size_t mark = hub_->log_size();
  fs::remove(data_ / "alpha.port");
  write_webhook_pipeline("alpha", "", "", "127.0.0.1:" + std::to_string(taken));
  hub_->signal(SIGHUP);
  const bool rolled_back = hub_->wait_for_log("keeps running its previous configuration", 10s, mark);
  ::close(holder);
  ASSERT_TRUE(rolled_back) << hub_->log_since(mark);
  EXPECT_NE(hub_->log_since(mark).find("failed to start after reload"), std::string::npos);
  EXPECT_EQ(pipeline_names(), std::vector<std::string>{"alpha"});
  HttpResponse r = post("alpha", R"({"id":"a-2","email":"a2@example.com"})");
  EXPECT_EQ(r.status, 202) << r.error << r.body;
  EXPECT_NE(webhook_port("alpha"), taken);
  HttpResponse m = admin_get("/metrics");
  EXPECT_NE(m.body.find("touchpoint_reloads_total{result=\"partial\"}"), std::string::npos) << m.body;
  EXPECT_EQ(hub_->terminate(20s), 0);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM records WHERE id IN ('a-1','a-2')"), 2);
}

// Per-pipeline reload: editing and reloading one pipeline restarts only that
// one; a source on another pipeline keeps acknowledging without a pause.
TEST_F(ReloadTest, ReloadingOnePipelineDoesNotPauseAnother) {
  write_hub_config();
  write_webhook_pipeline("alpha");
  write_webhook_pipeline("beta");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  const std::string alpha = webhook_url("alpha");

  struct Ack {
    long status;
    std::chrono::steady_clock::time_point at;
  };
  std::vector<Ack> acks;
  std::atomic<bool> stop{false};
  std::thread poster([&] {
    for (int i = 0; !stop.load(); ++i) {
      HttpResponse r = http_request("POST", alpha, R"({"id":"a-)" + std::to_string(i) + R"(","email":"a@example.com"})",
                                    {"Content-Type: application/json"});
      acks.push_back({r.status, std::chrono::steady_clock::now()});
    }
  });
  const size_t mark = hub_->log_size();
  for (int round = 1; round <= 3; ++round) {
    const size_t round_mark = hub_->log_size();
    write_webhook_pipeline("beta", "  - default: { round: " + std::to_string(round) + " }\n");
    hub_->signal(SIGHUP);
    EXPECT_TRUE(hub_->wait_for_log("pipeline 'beta' started", 10s, round_mark)) << hub_->log_since(round_mark);
  }
  stop = true;
  poster.join();

  EXPECT_EQ(hub_->log_since(mark).find("pipeline 'alpha' stopped"), std::string::npos) << hub_->log_since(mark);
  ASSERT_GT(acks.size(), 10u);
  std::chrono::steady_clock::duration longest{};
  for (size_t i = 0; i < acks.size(); ++i) {
    EXPECT_EQ(acks[i].status, 202) << "request " << i;
    if (i > 0) longest = std::max(longest, acks[i].at - acks[i - 1].at);
  }
  EXPECT_LT(longest, 100ms) << "longest gap between acknowledgements on alpha: "
                            << std::chrono::duration_cast<std::chrono::milliseconds>(longest).count() << " ms over "
                            << acks.size() << " requests";
  HttpResponse b = post("beta", R"({"id":"b-1","email":"b@example.com"})");
  EXPECT_EQ(b.status, 202) << b.error;
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records WHERE id='b-1' AND json_extract(data, '$.round') = 3", 1));
}

// Two hubs on one data directory would append to the same journal.
TEST_F(ReloadTest, ASecondHubOnTheSameDataDirectoryIsRefused) {
  write_hub_config();
  write_webhook_pipeline("alpha");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  HubProcess second(touchpoint_binary(), config_, data_, root_ / "hub2.log");
  second.start();
  EXPECT_EQ(second.wait_exit(20s), 1);
  EXPECT_NE(second.log().find("is in use by another hub (pid " + std::to_string(hub_->pid()) + ")"), std::string::npos)
      << second.log();
  EXPECT_TRUE(hub_->running());
  EXPECT_EQ(post("alpha", R"({"id":"a-1","email":"a1@example.com"})").status, 202);
  // The lock goes with the process, also after kill -9.
  hub_->kill9();
  ASSERT_NO_FATAL_FAILURE(start_hub());
  EXPECT_EQ(hub_->terminate(20s), 0);
}

// A supervisor may signal as soon as the process exists (systemctl reload
// right after start, or a stop during a long journal replay). The hub must
// neither die from the default SIGHUP action nor skip its clean shutdown.
TEST_F(ReloadTest, SignalsDuringStartUpAreHandled) {
  write_hub_config();
  write_webhook_pipeline("alpha");

  hub_->start();
  ASSERT_TRUE(hub_->wait_for_log("sqlite store", 10s)) << hub_->log();
  hub_->signal(SIGHUP);
  ASSERT_TRUE(hub_->wait_ready(20s)) << "hub died from an early SIGHUP (status "
                                     << (hub_->exit_status() ? *hub_->exit_status() : -1) << ")";
  EXPECT_TRUE(hub_->wait_for_log("reloading pipelines", 10s));
  ASSERT_EQ(post("alpha", R"({"id":"s-1","email":"s1@example.com"})").status, 202);
  EXPECT_EQ(hub_->terminate(20s), 0);

  const size_t mark = hub_->log_size();
  hub_->start();
  ASSERT_TRUE(hub_->wait_for_log("sqlite store", 10s, mark)) << hub_->log();
  hub_->signal(SIGTERM);
  EXPECT_EQ(hub_->wait_exit(20s), 0) << "an early SIGTERM must still stop cleanly";
  EXPECT_NE(hub_->log_since(mark).find("stopped cleanly"), std::string::npos) << hub_->log_since(mark);
}

}  // namespace
}  // namespace tp_it
