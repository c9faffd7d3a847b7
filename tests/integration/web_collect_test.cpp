// The web collect API end to end: the real Segment client
// (@segment/analytics-node, tests/fixtures/segment) and raw HTTP against the
// hub's webhook source in protocol: segment, into the SQLite store.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support.hpp"

namespace tp_it {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kWriteKey = "wk_test_5f3a9c";

std::filesystem::path fixture_dir() { return std::filesystem::path(TP_SOURCE_DIR) / "tests/fixtures/segment"; }

// A loopback port nobody listens on right now, for a hub started after its client.
int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

class WebCollectTest : public HubTest {
 protected:
  // pipelines/web.yaml: the Segment API on `listen`, the write key from a file.
  void write_web_pipeline(const std::string& listen, const std::string& extra = "") {
    write_file(pipelines_ / "web.write_key", std::string(kWriteKey) + "\n");
    write_pipeline_file("web.yaml",
                        "name: web\n"
                        "source:\n"
                        "  plugin: webhook\n"
                        "  config:\n"
                        "    protocol: segment\n"
                        "    listen: \"" +
                            listen +
                            "\"\n"
                            "    port_file: " +
                            (data_ / "web.port").string() +
                            "\n"
                            "    write_keys: [\"${file:web.write_key}\"]\n"
                            "    event_types: { \"Order Completed\": purchase }\n" +
                            extra + "store: true\n");
  }

  std::string base() { return "http://127.0.0.1:" + std::to_string(webhook_port("web")); }

  HttpResponse send(const std::string& endpoint, const std::string& body,
                    std::vector<std::string> headers = {"Content-Type: application/json"}, bool auth = true) {
    if (auth) headers.push_back("Authorization: Basic " + basic(kWriteKey));
    return http_request("POST", base() + "/v1/" + endpoint, body, headers);
  }

  static std::string basic(const std::string& key) {
    static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::string in = key + ":";
    std::string out;
    for (size_t i = 0; i < in.size(); i += 3) {
      uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
      if (i + 1 < in.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
      if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
      out.push_back(kAlphabet[(n >> 18) & 63]);
      out.push_back(kAlphabet[(n >> 12) & 63]);
      out.push_back(i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=');
      out.push_back(i + 2 < in.size() ? kAlphabet[n & 63] : '=');
    }
    return out;
  }

  json profile(const std::string& ref) {
    CommandResult c = cli({"profile", "show", ref, "--json"});
    EXPECT_EQ(c.exit_code, 0) << ref << ": " << c.err;
    return json::parse(c.out, nullptr, false);
  }
};

std::set<std::string> identity_set(const json& p) {
  std::set<std::string> out;
  for (const json& i : p["identities"]) out.insert(i.value("kind", "") + "=" + i.value("value", ""));
  return out;
}

TEST_F(WebCollectTest, TheRealSegmentClientRetriesUntilTheHubIsUpAndEveryEventLandsOnce) {
  const std::filesystem::path node = program_on_path("node");
  ASSERT_FALSE(node.empty()) << "node is not on PATH (scripts/install-deps.sh installs nodejs)";
  ASSERT_TRUE(std::filesystem::exists(fixture_dir() / "node_modules/@segment/analytics-node"))
      << "the Segment client is not installed: npm ci --prefix tests/fixtures/segment (scripts/test.sh does it)";

  // An anonymous visitor browses, signs up (identify merges the anonymous
  // history into the customer) and buys; a second customer only identifies.
  const std::string anon = "anon-7d1c";
  json calls = json::array();
  for (int i = 0; i < 12; ++i) {
    const std::string n = std::to_string(i);
    calls.push_back(json::parse(R"({"call":"page","args":{"anonymousId":"anon-7d1c","name":"Product )" + n +
                                R"(","properties":{"url":"https://shop.example/p/)" + n + R"(","path":"/p"}}})"));
  }
  for (const json& c : json::parse(R"([
      {"call":"track","args":{"anonymousId":"anon-7d1c","event":"Product Viewed","properties":{"sku":"P-7"}}},
      {"call":"identify","args":{"userId":"U-100","anonymousId":"anon-7d1c",
                                 "traits":{"email":"Lena.Berg@Example.org","first_name":"Lena"}}},
      {"call":"track","args":{"userId":"U-100","event":"Order Completed",
                              "properties":{"revenue":99.5,"currency":"EUR","product_id":"P-7","order_id":"O-1"}}},
      {"call":"identify","args":{"userId":"U-200","traits":{"first_name":"Jonas"}}},
      {"call":"group","args":{"userId":"U-200","groupId":"ACME","traits":{"plan":"b2b"}}},
      {"call":"screen","args":{"userId":"U-200","name":"Settings"}}])"))
    calls.push_back(c);
  const size_t n = calls.size();
  write_file(root_ / "calls.json", calls.dump());

  // The client starts first: the hub is not there yet, so it retries.
  const int port = unused_port();
  ASSERT_GT(port, 0);
  const std::filesystem::path progress = root_ / "requests.log";
  const std::string host = "http://127.0.0.1:" + std::to_string(port);
  std::future<CommandResult> client = std::async(std::launch::async, [&] {
    return run_command({node.string(), (fixture_dir() / "send.js").string(), host, kWriteKey,
                        (root_ / "calls.json").string(), progress.string()},
                       root_, 90s);
  });
  auto requests_made = [&] {
    std::string text = std::filesystem::exists(progress) ? read_file(progress) : "";
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  };
  ASSERT_TRUE(poll_until([&] { return requests_made() >= 2; }, 30s)) << "the client made no retry";

  write_hub_config();
  write_web_pipeline("127.0.0.1:" + std::to_string(port));
  ASSERT_NO_FATAL_FAILURE(start_hub());

  CommandResult c = client.get();
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  json report = json::parse(c.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << c.out;
  EXPECT_EQ(report["results"], json(std::vector<std::string>(n, "ok"))) << c.out;
  EXPECT_GE(report["requests"].get<int>(), 3) << "expected failed attempts before the hub was up, then batches";

  // Exactly once, although the first batch was sent several times.
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records WHERE pipeline='web'", static_cast<int64_t>(n)));
  StoreReader& db = store();
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM records WHERE pipeline='web'"), static_cast<int64_t>(n));
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM dead_letters"), 0);

  // The anonymous history and the purchase are one customer's.
  json lena = profile("ext:web:U-100");
  const std::set<std::string> ids = identity_set(lena);
  EXPECT_TRUE(ids.count("email=lena.berg@example.org")) << lena.dump();
  EXPECT_TRUE(ids.count("ext:web_anonymous=" + anon)) << lena.dump();
  EXPECT_EQ(lena["attributes"]["first_name"].value("value", ""), "Lena") << lena.dump();
  EXPECT_EQ(profile("ext:web_anonymous:" + anon)["id"], lena["id"]);
  // The whole timeline (profile show lists only the latest entries).
  auto events = [&](const std::string& type) {
    return db.scalar("SELECT COUNT(*) FROM timeline WHERE profile_id=" + lena["id"].dump() + " AND event_type='" +
                     type + "'");
  };
  EXPECT_EQ(events("web_visit"), 12);
  EXPECT_EQ(events("product_viewed"), 1);
  EXPECT_EQ(events("purchase"), 1);
  double revenue = 0;
  for (const json& e : lena["timeline"])
    if (e.value("event_type", "") == "purchase") revenue = e.value("revenue", 0.0);
  EXPECT_DOUBLE_EQ(revenue, 99.5);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM profiles WHERE merged_into IS NULL OR merged_into = 0"), 2);

  // The client's context (library name) is kept in meta.
  auto rows = db.rows("SELECT meta FROM records WHERE key='U-200' AND type='group'");
  ASSERT_EQ(rows.size(), 1u);
  json meta = json::parse(rows[0][0]);
  EXPECT_EQ(meta["segment"]["type"], "group");
  EXPECT_EQ(meta["segment"]["context"]["library"]["name"], "@segment/analytics-node") << meta.dump();
  EXPECT_EQ(hub_->terminate(20s), 0);
}

TEST_F(WebCollectTest, CurlCallsAnswerAsSegmentDoesAndBadInputIsRefusedWithNothingStored) {
  write_hub_config();
  write_web_pipeline("127.0.0.1:0", "    max_body_bytes: 65536\n");
  ASSERT_NO_FATAL_FAILURE(start_hub());

  // The README's example: identify, then track.
  HttpResponse r = send("identify", R"({"userId":"U-1","traits":{"email":"anna@example.de","plan":"pro"}})");
  ASSERT_EQ(r.status, 200) << r.error << r.body;
  EXPECT_EQ(json::parse(r.body), json({{"success", true}}));
  r = send("track", R"({"userId":"U-1","event":"Signed Up","properties":{"source":"newsletter"}})");
  ASSERT_EQ(r.status, 200) << r.error << r.body;
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records WHERE pipeline='web'", 2));
  json anna = profile("anna@example.de");
  EXPECT_EQ(anna["attributes"]["plan"].value("value", ""), "pro") << anna.dump();
  ASSERT_EQ(anna["timeline"].size(), 1u) << anna.dump();
  EXPECT_EQ(anna["timeline"][0].value("event_type", ""), "signed_up");

  auto expect_error = [](const HttpResponse& res, long status, const std::string& needle) {
    EXPECT_EQ(res.status, status) << needle << ": " << res.error << " " << res.body;
    json j = json::parse(res.body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << res.body;
    EXPECT_NE(j["error"].get<std::string>().find(needle), std::string::npos) << res.body;
  };
  const std::string good = R"({"userId":"U-9","event":"x"})";
  // Authentication.
  expect_error(send("track", good, {"Authorization: Basic " + basic("wrong")}, false), 401, "unknown write key");
  expect_error(send("track", good, {}, false), 401, "no write key");
  expect_error(send("track", R"({"userId":"U-9","event":"x","writeKey":"nope"})", {}, false), 401, "unknown write key");
  // The body's writeKey authenticates too (analytics-node 2.x sends no header).
  r = send("track", std::string(R"({"userId":"U-9","event":"body key","writeKey":")") + kWriteKey + "\"}", {}, false);
  EXPECT_EQ(r.status, 200) << r.body;
  // Malformed, wrong types, missing fields.
  expect_error(send("track", R"({"userId":"U-9","event":)"), 400, "malformed JSON");
  expect_error(send("track", R"({"userId":{"id":1},"event":"x"})"), 400, "track.userId must be a string");
  expect_error(send("track", R"({"userId":"U-9"})"), 400, "track.event");
  expect_error(send("identify", R"({"traits":{"email":"a@b.de"}})"), 400, "needs a userId or an anonymousId");
  expect_error(send("batch", R"({"batch":[{"type":"track","userId":"a","event":"ok"},{"type":"bogus"}]})"), 400,
               "batch[1].type");
  expect_error(send("batch", R"({"batch":{}})"), 400, "an array of messages");
  expect_error(send("track", R"({"userId":"U-9","event":"x","timestamp":"yesterday"})"), 400, "ISO 8601");
  // Hostile values: a 5-million-digit user id (over max_body_bytes), a 40 KB message.
  expect_error(send("identify", R"({"userId":")" + std::string(5'000'000, '7') + "\"}"), 413, "max_body_bytes");
  expect_error(send("track", R"({"userId":"U-9","event":"x","properties":{"p":")" + std::string(40'000, 'x') + "\"}}"),
               400, "max_message_bytes");
  // An oversized batch is refused as a whole.
  std::string big = R"({"batch":[)";
  for (int i = 0; i < 2000; ++i) big += std::string(i ? "," : "") + R"({"type":"track","userId":"b","event":"e"})";
  big += "]}";
  expect_error(send("batch", big), 413, "max_body_bytes");
  expect_error(send("track", good, {"Content-Type: application/json", "Content-Encoding: gzip"}), 415,
               "Content-Encoding");
  EXPECT_EQ(http_request("GET", base() + "/v1/track", "", {}).status, 405);
  EXPECT_EQ(send("nope", good).status, 404);

  // Only the three good calls were stored; the refused ones left nothing.
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records WHERE pipeline='web'", 3));
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM records WHERE pipeline='web'"), 3);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM records WHERE key IN ('a','b')"), 0);
  EXPECT_EQ(hub_->terminate(20s), 0);
}

}  // namespace
}  // namespace tp_it
