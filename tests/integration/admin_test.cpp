// The admin endpoint: bearer token, public probes, loopback only.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace tp_it {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

class AdminTest : public HubTest {};

/// A local IPv4 address that is not loopback, or "" if the machine has none.
std::string non_loopback_ipv4() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  std::string out;
  for (ifaddrs* i = list; i != nullptr && out.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127) continue;
    char buf[INET_ADDRSTRLEN];
    if (::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf))) out = buf;
  }
  ::freeifaddrs(list);
  return out;
}

TEST_F(AdminTest, TokenProtectsEverythingButTheProbesAndListensOnLoopbackOnly) {
  write_hub_config();
  write_webhook_pipeline("web");
  ASSERT_NO_FATAL_FAILURE(start_hub());

  // admin.addr: loopback, a real port (configured as port 0).
  const std::string addr = hub_->admin_address();
  ASSERT_EQ(addr.rfind("127.0.0.1:", 0), 0u) << addr;
  const int port = std::stoi(addr.substr(addr.find(':') + 1));
  EXPECT_GT(port, 0);

  // The token file was created on first start, 0600, long and random.
  struct stat st {};
  ASSERT_EQ(::stat((data_ / "admin.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string token = admin_token();
  EXPECT_GE(token.size(), 32u);

  // Probes are public.
  HttpResponse r = admin_get("/health", false);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), json({{"status", "ok"}}));
  EXPECT_EQ(admin_get("/ready", false).status, 200);

  // Everything else needs the token.
  for (const char* path : {"/status", "/metrics", "/dlq"}) {
    r = admin_get(path, false);
    EXPECT_EQ(r.status, 401) << path;
    EXPECT_EQ(r.headers["www-authenticate"], "Bearer") << path;
    EXPECT_TRUE(json::parse(r.body, nullptr, false).contains("error")) << path << ": " << r.body;
    r = http_request("GET", hub_->admin_url(path), "", {"Authorization: Bearer " + std::string(token.size(), 'x')});
    EXPECT_EQ(r.status, 401) << path << " with a wrong token";
    r = http_request("GET", hub_->admin_url(path), "", {"Authorization: Bearer " + token + "x"});
    EXPECT_EQ(r.status, 401) << path << " with a longer token";
  }
  EXPECT_EQ(admin_post("/dlq/replay?id=1", false).status, 401);
  EXPECT_EQ(admin_post("/reload", false).status, 401);

  r = admin_get("/status");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "application/json");
  json s = json::parse(r.body);
  EXPECT_EQ(s["ready"], true);
  ASSERT_EQ(s["pipelines"].size(), 1u) << s.dump();
  EXPECT_EQ(s["pipelines"][0]["name"], "web");
  EXPECT_EQ(s["pipelines"][0]["source"]["plugin"], "webhook");
  EXPECT_EQ(s["pipelines"][0]["source"]["running"], true);
  EXPECT_EQ(s["applier"]["lag_entries"], 0) << s.dump();
  EXPECT_EQ(fs::path(s["store"]["path"].get<std::string>()), data_ / "touchpoint.db");
  EXPECT_TRUE(s["journal"].contains("durable_seq")) << s.dump();

  r = admin_get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"].rfind("text/plain", 0), 0u) << r.headers["content-type"];
  for (const char* metric : {"touchpoint_journal_bytes", "touchpoint_dlq_size", "touchpoint_store_applied_seq",
                             "touchpoint_plugin_call_seconds", "webhook_listening_port"})
    EXPECT_NE(r.body.find(metric), std::string::npos) << metric << " missing from /metrics:\n" << r.body;

  r = admin_get("/dlq");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), json::array());
  EXPECT_EQ(admin_get("/nope").status, 404);

  // Not reachable on another local address.
  const std::string other = non_loopback_ipv4();
  if (!other.empty()) {
    bool connected = true;
    try {
      raw_exchange(other, port, "GET /health HTTP/1.0\r\n\r\n", false, 2s);
    } catch (const std::exception&) {
      connected = false;
    }
    EXPECT_FALSE(connected) << "admin port " << port << " answers on " << other;
  } else {
    std::cerr << "[admin test] no non-loopback IPv4 address: skipped the reachability check\n";
  }

  // The token survives a restart.
  EXPECT_EQ(hub_->terminate(20s), 0);
  ASSERT_NO_FATAL_FAILURE(start_hub());
  EXPECT_EQ(admin_token(), token);
  EXPECT_EQ(admin_get("/status").status, 200);
}

TEST_F(AdminTest, BadQueryParametersAreClientErrors) {
  write_hub_config();
  write_webhook_pipeline("web");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  for (const char* q : {"/dlq?limit=abc", "/dlq?limit=-1", "/dlq?limit=0"}) {
    HttpResponse r = admin_get(q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
    EXPECT_NE(r.body.find("limit"), std::string::npos) << r.body;
  }
  EXPECT_EQ(admin_get("/dlq?limit=5").status, 200);
  HttpResponse r = admin_post("/dlq/replay?id=abc");
  EXPECT_EQ(r.status, 400) << r.body;
  r = admin_post("/dlq/replay?id=424242");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.body.find("424242"), std::string::npos) << r.body;
  r = admin_post("/dlq/replay");  // everything only when asked for with all=true
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(admin_post("/dlq/replay?all=true").status, 202);
  EXPECT_TRUE(hub_->running());
}

TEST_F(AdminTest, ProbesNeedTheTokenWhenNotPublic) {
  admin_yaml_ = "{ listen: \"127.0.0.1:0\", public_health: false }";
  write_hub_config();
  write_webhook_pipeline("web");
  hub_->start();
  // wait_ready() polls /ready without a token: here it stays 401, so wait for admin.addr only.
  ASSERT_TRUE(poll_until([&] { return read_file(data_ / "admin.addr").ends_with("\n"); }, 20s)) << hub_->log();
  std::string addr = read_file(data_ / "admin.addr");
  addr.pop_back();
  const std::string base = "http://" + addr;
  EXPECT_EQ(http_request("GET", base + "/health", "", {}).status, 401);
  EXPECT_EQ(http_request("GET", base + "/ready", "", {}).status, 401);
  const std::vector<std::string> auth{"Authorization: Bearer " + admin_token()};
  EXPECT_TRUE(poll_until([&] { return http_request("GET", base + "/ready", "", auth).status == 200; }, 10s));
  EXPECT_EQ(http_request("GET", base + "/health", "", auth).status, 200);
}

TEST_F(AdminTest, ATooShortTokenFileStopsStartUp) {
  write_hub_config();
  write_webhook_pipeline("web");
  write_file(data_ / "admin.token", "short\n");
  fs::permissions(data_ / "admin.token", fs::perms::owner_read | fs::perms::owner_write);
  hub_->start();
  EXPECT_EQ(hub_->wait_exit(20s), 1);
  EXPECT_NE(hub_->log().find("shorter than 16 characters"), std::string::npos) << hub_->log();
}

TEST_F(AdminTest, ATokenFileOthersCanReadStopsStartUp) {
  write_hub_config();
  write_webhook_pipeline("web");
  write_file(data_ / "admin.token", std::string(64, 'a') + "\n");
  fs::permissions(data_ / "admin.token",
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  hub_->start();
  EXPECT_EQ(hub_->wait_exit(20s), 1);
  EXPECT_NE(hub_->log().find("is accessible by group or others (mode 0644); run: chmod 600"), std::string::npos)
      << hub_->log();
  fs::permissions(data_ / "admin.token", fs::perms::owner_read | fs::perms::owner_write);
  hub_->start();
  EXPECT_TRUE(hub_->wait_ready(20s)) << hub_->log();
}

}  // namespace
}  // namespace tp_it
