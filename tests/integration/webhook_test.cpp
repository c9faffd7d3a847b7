// Webhook source end to end: HTTP in, journal, applier, SQLite store out.
#include <nlohmann/json.hpp>
#include <set>

#include "support.hpp"

namespace tp_it {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kTransforms =
    "  - normalize_email: { field: email }\n"
    "  - require: { fields: { email: { type: string } } }\n";

class WebhookTest : public HubTest {};

TEST_F(WebhookTest, SingleBatchAndNdjsonLandInStoreAsProfiles) {
  write_hub_config();
  write_webhook_pipeline("web", kTransforms);
  ASSERT_NO_FATAL_FAILURE(start_hub());

  // One object.
  HttpResponse r =
      post("web", R"({"id":"w-1","customer_id":"C1","email":"  Jane.Doe@Example.COM ","first_name":"Jane"})");
  ASSERT_EQ(r.status, 202) << r.error << r.body;
  EXPECT_EQ(json::parse(r.body), json({{"accepted", 1}}));

  // An array: w-2 and w-3 are the same person (same e-mail), w-4 someone else.
  r = post("web", R"([{"id":"w-2","email":"max@example.org","first_name":"Max"},
                      {"id":"w-3","email":"MAX@example.org","phone":"+4917012345678"},
                      {"id":"w-4","email":"erika@example.net"}])");
  ASSERT_EQ(r.status, 202) << r.error << r.body;
  EXPECT_EQ(json::parse(r.body), json({{"accepted", 3}}));

  // NDJSON.
  r = post("web", "{\"id\":\"w-5\",\"email\":\"nd1@example.com\"}\n{\"id\":\"w-6\",\"email\":\"nd2@example.com\"}\n",
           {"Content-Type: application/x-ndjson"});
  ASSERT_EQ(r.status, 202) << r.error << r.body;
  EXPECT_EQ(json::parse(r.body), json({{"accepted", 2}}));

  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", 6))
      << "records applied: " << store().scalar("SELECT COUNT(*) FROM records");
  StoreReader& db = store();
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM records"), 6);
  EXPECT_EQ(db.scalar("SELECT COUNT(DISTINCT id) FROM records"), 6);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM records WHERE pipeline='web' AND source='web' AND type='profile'"), 6);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM records WHERE profile_id IS NULL"), 0);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM dead_letters"), 0);

  // The record keeps its key; the e-mail went through normalize_email.
  auto row = db.rows("SELECT key, data FROM records WHERE id='w-1'");
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0][0], "C1");
  json data = json::parse(row[0][1]);
  EXPECT_EQ(data.value("first_name", ""), "Jane");
  EXPECT_EQ(data.value("email", "").find(' '), std::string::npos) << data.dump();
  EXPECT_NE(data.value("email", "").find("@example.com"), std::string::npos) << data.dump();

  // Profiles: w-2/w-3 share one; 5 people in total.
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM profiles"), 5);
  EXPECT_EQ(db.scalar("SELECT COUNT(DISTINCT profile_id) FROM records WHERE id IN ('w-2','w-3')"), 1);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM identities WHERE kind='ext:web' AND value='C1'"), 1);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM identities WHERE kind='phone' AND value='+4917012345678'"), 1);

  // The CLI finds the profile by e-mail, with its identities and records.
  CommandResult c = cli({"profile", "show", "max@example.org", "--json"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  json p = json::parse(c.out);
  std::set<std::string> kinds;
  for (const json& i : p["identities"]) kinds.insert(i["kind"].get<std::string>());
  EXPECT_TRUE(kinds.count("email")) << c.out;
  EXPECT_TRUE(kinds.count("phone")) << c.out;
  EXPECT_EQ(p["records"].size(), 2u) << c.out;
  EXPECT_EQ(p["attributes"]["first_name"].value("value", ""), "Max") << c.out;

  c = cli({"profile", "show", "nobody@example.com"});
  EXPECT_EQ(c.exit_code, 3) << c.out << c.err;
  EXPECT_NE(c.err.find("no profile"), std::string::npos) << c.err;

  EXPECT_EQ(hub_->terminate(20s), 0);
}

TEST_F(WebhookTest, BadBodiesGetClearClientErrorsAndGoodOnesAreKept) {
  write_hub_config();
  write_webhook_pipeline("web", "", "    max_body_bytes: 65536\n");
  ASSERT_NO_FATAL_FAILURE(start_hub());

  HttpResponse r = post("web", R"({"id":"g-1","email":"good1@example.com"})");
  ASSERT_EQ(r.status, 202) << r.error << r.body;

  // Status, a JSON body with a non-empty "error"; returns the body.
  auto expect_error = [](const HttpResponse& res, long status, const std::string& what) -> json {
    EXPECT_EQ(res.status, status) << what << ": " << res.error << " " << res.body;
    json j = json::parse(res.body, nullptr, false);
    const bool has_error =
        j.is_object() && j.contains("error") && j["error"].is_string() && !j["error"].get<std::string>().empty();
    EXPECT_TRUE(has_error) << what << ": no JSON error body: " << res.body;
    return has_error ? j : json{{"error", ""}};
  };

  // Malformed JSON: 400 with the byte position.
  json j = expect_error(post("web", R"({"id":"m-1" "email":"x@example.com"})"), 400, "malformed");
  EXPECT_TRUE(j.contains("position") && j["position"].is_number()) << j.dump();

  // Truncated JSON document (a batch cut off in the middle): nothing of it is taken.
  j = expect_error(post("web", R"([{"id":"t-1","email":"t1@example.com"},{"id":"t-2","em)"), 400, "truncated");
  EXPECT_TRUE(j.contains("position")) << j.dump();

  // Invalid UTF-8.
  expect_error(post("web", "{\"id\":\"u-1\",\"name\":\"\xff\xfe\"}"), 400, "invalid utf-8");

  // An array element that is not an object.
  expect_error(post("web", R"([{"id":"e-1"}, 42])"), 400, "non-object element");

  // Nesting deeper than the limit.
  std::string deep = R"({"id":"d-1","x":)" + std::string(200, '[') + std::string(200, ']') + "}";
  expect_error(post("web", deep), 400, "deep nesting");

  // A form body is not JSON (curl -d's content type is accepted for JSON bodies, so the parser says why).
  expect_error(post("web", "id=f-1&email=f%40example.com", {"Content-Type: application/x-www-form-urlencoded"}), 400,
               "form body");
  expect_error(post("web", "<html/>", {"Content-Type: text/html"}), 415, "html body");

  // Huge body: 413 before it is read.
  std::string huge = "[";
  for (int i = 0; huge.size() < 100000; ++i)
    huge += (i ? "," : "") + std::string(R"({"id":"h-)") + std::to_string(i) + R"(","email":"h@example.com"})";
  huge += "]";
  j = expect_error(post("web", huge), 413, "huge body");
  EXPECT_NE(j["error"].get<std::string>().find("max_body_bytes"), std::string::npos) << j.dump();

  // A request whose body is cut short (Content-Length larger than what arrives).
  const int port = webhook_port("web");
  std::string raw = raw_exchange("127.0.0.1", port,
                                 "POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                 "Content-Length: 200\r\n\r\n{\"id\":\"raw-1\",\"email\":\"r@example.com\"}",
                                 true, 5s);
  EXPECT_EQ(raw.find(" 202 "), std::string::npos) << raw;

  // Wrong method and wrong path.
  HttpResponse g = http_request("GET", webhook_url("web"), "", {});
  EXPECT_EQ(g.status, 405) << g.body;
  HttpResponse w = http_request("POST", "http://127.0.0.1:" + std::to_string(port) + "/other", "{}", {});
  EXPECT_EQ(w.status, 404) << w.body;

  // text/plain is accepted (webhook README: the format is detected from the
  // body; only types that are clearly not JSON are refused).
  r = post("web", R"({"id":"ct-1","email":"ct@example.com"})", {"Content-Type: text/plain"});
  EXPECT_EQ(r.status, 202) << r.body;

  r = post("web", R"({"id":"g-2","email":"good2@example.com"})");
  ASSERT_EQ(r.status, 202) << r.error << r.body;

  // Exactly the accepted records are in the store; nothing of the rejected requests.
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records WHERE id='g-2'", 1));
  auto ids = store().rows("SELECT id FROM records ORDER BY id");
  std::vector<std::string> got;
  for (auto& row : ids) got.push_back(row[0]);
  EXPECT_EQ(got, (std::vector<std::string>{"ct-1", "g-1", "g-2"}));
  EXPECT_TRUE(hub_->running());

  // Every response was counted in the plugin's metrics.
  HttpResponse m = admin_get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("webhook_requests_total"), std::string::npos);
  EXPECT_NE(m.body.find("status=\"413\""), std::string::npos) << m.body;
}

TEST_F(WebhookTest, RecordsRejectedByATransformLandInDeadLettersWithReason) {
  write_hub_config();
  write_webhook_pipeline("web", kTransforms);
  ASSERT_NO_FATAL_FAILURE(start_hub());

  // The request is accepted as a unit; the transform rejects one record later.
  HttpResponse r = post("web", R"([{"id":"r-1","email":"ok@example.com"},{"id":"r-2","first_name":"NoMail"}])");
  ASSERT_EQ(r.status, 202) << r.error << r.body;

  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM dead_letters", 1));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records WHERE id='r-1'", 1));
  auto dl = store().rows("SELECT record_id, pipeline, step, error_class, reason, payload, state FROM dead_letters");
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(dl[0][0], "r-2");
  EXPECT_EQ(dl[0][1], "web");
  EXPECT_EQ(dl[0][2], "2:require");
  EXPECT_EQ(dl[0][3], "rejected");
  EXPECT_NE(dl[0][4].find("email"), std::string::npos) << dl[0][4];
  EXPECT_NE(dl[0][5].find("NoMail"), std::string::npos) << "payload keeps the original record: " << dl[0][5];
  EXPECT_EQ(dl[0][6], "new");
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM records WHERE id='r-2'"), 0);

  // /status and /metrics report it.
  json status = json::parse(admin_get("/status").body);
  EXPECT_EQ(status["store"]["dead_letters"], 1) << status.dump();
  HttpResponse m = admin_get("/metrics");
  EXPECT_NE(m.body.find("touchpoint_dead_letters_total"), std::string::npos) << m.body;
}

}  // namespace
}  // namespace tp_it
