// Pagination styles (offset, page number, Link header) over the
// simulator's generic routes, API-key and Basic auth, and hostile answers:
// items without ids, huge values, an answer that is not JSON or too large,
// a next link to another host, and a server that is not there.
#include <gtest/gtest.h>

#include <map>

#include "rest_sync.hpp"
#include "support.hpp"

namespace touchpoint::rest::test {
namespace {

using touchpoint::testing::EmittedRecord;
using touchpoint::testing::Harness;

Json generic(const CrmSim& sim, const std::string& path, const std::string& records, Json pagination) {
  return {{"base_url", sim.url()},
          {"auth", {{"type", "api_key"}, {"key", "sim-token"}}},
          {"read",
           {{"path", path},
            {"records", records},
            {"id", "/id"},
            {"pagination", std::move(pagination)},
            {"map", {{"external_ids", {{"shop", "{{/id}}"}}}, {"email", "{{/email}}"}}}}}};
}

void seed(CrmSim& sim, int n) {
  Json batch = Json::array();
  for (int i = 0; i < n; ++i) batch.push_back({{"email", "g" + std::to_string(i) + "@example.de"}, {"lastname", "G"}});
  sim.create(batch);
}

std::map<std::string, int> by_id(const std::vector<EmittedRecord>& records) {
  std::map<std::string, int> n;
  for (const EmittedRecord& r : records) ++n[Json::parse(r.data)["external_ids"]["shop"].get<std::string>()];
  return n;
}

void expect_each_once(const std::vector<EmittedRecord>& records, size_t n) {
  const auto counts = by_id(records);
  EXPECT_EQ(counts.size(), n);
  for (const auto& [id, times] : counts) EXPECT_EQ(times, 1) << id;
}

TEST(RestPaging, OffsetPageNumberAndLinkHeaderEachVisitEveryItemOnce) {
  CrmSim sim("hubspot");
  seed(sim, 250);
  const std::vector<Json> configs = {
      generic(sim, "/api/items", "/items", {{"type", "offset"}, {"size", 40}}),
      generic(sim, "/api/pages", "/data", {{"type", "page"}, {"size", 40}}),
      generic(sim, "/api/linked", "", {{"type", "link"}}),
  };
  for (const Json& c : configs) {
    SCOPED_TRACE(c["read"]["path"].get<std::string>());
    Json config = c;
    if (config["read"]["path"] == "/api/linked") config["read"]["query"] = {{"per_page", 40}};
    Harness h(plugin_path());
    auto inst = h.open(config.dump());
    for (int page = 0; page < 7; ++page) ASSERT_EQ(inst->read(), TP_OK);  // 250 items in pages of 40
    expect_each_once(h.records(), 250);
    ASSERT_EQ(inst->read(), TP_OK);
    EXPECT_EQ(h.records().size(), 250u) << "the next sweep's first page has nothing new";
    const Json requests = sim.stats()["requests"];
    EXPECT_EQ(requests.value("GET " + config["read"]["path"].get<std::string>(), 0), 8) << requests.dump();
  }
}

TEST(RestPaging, BasicAuthAndTheApiKeyAsAQueryParameter) {
  CrmSim sim("hubspot");
  seed(sim, 5);
  Json c = generic(sim, "/api/items", "/items", {{"type", "offset"}, {"size", 10}});
  c["auth"] = {{"type", "basic"}, {"user", "anyone"}, {"password", "sim-token"}};
  Harness h(plugin_path());
  expect_each_once(drain(h, *h.open(c.dump())), 5);
  c["auth"] = {{"type", "basic"}, {"user", "anyone"}, {"password", "wrong"}};
  Harness h2(plugin_path());
  std::string error;
  EXPECT_EQ(h2.open(c.dump())->read(&error), TP_STATUS_PERMANENT);
  EXPECT_NE(error.find("HTTP 401"), std::string::npos) << error;
}

TEST(RestPaging, HostileItemsAreRejectedOrKeptWhole) {
  CrmSim sim("hubspot");
  const std::string huge(3'000'000, '7');  // the simulator takes bodies up to 4 MiB
  sim.create(Json::array({{{"email", "big@example.de"}, {"lastname", huge}},
                          {{"email", "quote\"}, {\"admin\": true@example.de"}, {"lastname", "\u2028 <script>"}}}));
  Json c = generic(sim, "/api/items", "/items", {{"type", "offset"}, {"size", 10}});
  c["read"]["map"]["last_name"] = "{{/lastname}}";
  c["read"]["id"] = "/lastname";  // a 3 MB id is no id
  Harness h(plugin_path());
  auto inst = h.open(c.dump());
  drain(h, *inst);
  ASSERT_EQ(h.rejects().size(), 1u);
  EXPECT_NE(h.rejects()[0].reason.find("no id"), std::string::npos) << h.rejects()[0].reason;
  EXPECT_LE(h.rejects()[0].raw.size(), 4096u);
  ASSERT_EQ(h.records().size(), 1u);
  EXPECT_EQ(Json::parse(h.records()[0].data)["last_name"], "\u2028 <script>");

  c["read"]["id"] = "/id";
  Harness h2(plugin_path());
  auto inst2 = h2.open(c.dump());
  drain(h2, *inst2);
  ASSERT_EQ(h2.records().size(), 2u);
  bool found = false;
  for (const auto& r : h2.records()) found |= Json::parse(r.data)["last_name"] == huge;
  EXPECT_TRUE(found) << "a 3 MB value arrives whole";
}

TEST(RestPaging, AnAnswerThatIsNotJsonIsRetriedAndOneTooLargeStopsWithTheReason) {
  CrmSim sim("hubspot");
  seed(sim, 20);
  Json c = generic(sim, "/api/items", "/items", {{"type", "offset"}, {"size", 10}});
  {
    Harness h(plugin_path());
    auto inst = h.open(c.dump());
    sim.control("POST", "/_sim/fail", {{"status", 200}, {"count", 1}, {"body", "<html>maintenance</html>"}});
    ASSERT_EQ(inst->read(), TP_OK);
    EXPECT_TRUE(h.records().empty());
    EXPECT_EQ(h.counters()["rest_errors"], 1);
    bool said = false;
    for (const auto& l : h.logs()) said |= l.message.find("without JSON: <html>maintenance") != std::string::npos;
    EXPECT_TRUE(said);
  }
  c["max_response_bytes"] = 1024;
  Harness h(plugin_path());
  std::string error;
  EXPECT_EQ(h.open(c.dump())->read(&error), TP_STATUS_PERMANENT);
  EXPECT_NE(error.find("larger than max_response_bytes"), std::string::npos) << error;
}

TEST(RestPaging, ANextLinkToAnotherHostIsNotFollowed) {
  Config config = parse_config(Json{{"base_url", "http://127.0.0.1:9"},
                                    {"auth", {{"type", "bearer"}, {"token", "secret"}}},
                                    {"read", {{"path", "/x"}, {"id", "/id"}, {"pagination", {{"type", "link"}}}}}}
                                   .dump());
  HttpClient http(config);
  RestSync sync(http, config);
  SyncState s = sync.initial();
  s.in_sweep = true;
  s.page = {{"url", "http://attacker.example/steal"}};
  try {
    (void)sync.next_page(s);
    FAIL() << "followed";
  } catch (const ApiRefused& e) {
    EXPECT_NE(std::string(e.what()).find("not following it"), std::string::npos) << e.what();
  }
  EXPECT_EQ(http.requests(), 0u);
}

TEST(RestPaging, AServerThatIsNotThereIsRetriedWithOneWarning) {
  Json c = {
      {"base_url", "http://127.0.0.1:9"}, {"connect_timeout_ms", 1000}, {"read", {{"path", "/x"}, {"id", "/id"}}}};
  Harness h(plugin_path());
  auto inst = h.open(c.dump());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(h.counters()["rest_errors"], 1) << "the second and third reads wait for the backoff";
  int warnings = 0;
  for (const auto& l : h.logs()) warnings += l.message.find("retrying with backoff") != std::string::npos;
  EXPECT_EQ(warnings, 1);
}

}  // namespace
}  // namespace touchpoint::rest::test
