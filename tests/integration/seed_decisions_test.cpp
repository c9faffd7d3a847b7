// The seed's contact rules end to end through the real binary, with the
// shipped rulebook (config/rulebook.yaml) and the shipped records pipeline
// (pipelines/records.yaml, on a free port): profiles, consents, events and a
// blacklist entry posted as envelopes over HTTP, then POST /v1/decide with
// explicit times, checked for exact decisions, channels and reason codes.
#include <nlohmann/json.hpp>
#include <set>

#include "support.hpp"

namespace tp_it {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

class SeedDecisionsTest : public HubTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(write_shipped_customer_setup());
    ASSERT_NO_FATAL_FAILURE(start_hub());
  }

  void send(const json& envelopes) {
    const std::string url = "http://127.0.0.1:" + std::to_string(webhook_port("records")) + "/v1/records";
    HttpResponse r = http_request("POST", url, envelopes.dump(), {"Content-Type: application/json"});
    ASSERT_EQ(r.status, 202) << r.error << r.body;
  }
  HttpResponse decide_raw(const std::string& body) {
    return http_request("POST", hub_->admin_url("/v1/decide"), body,
                        {"Authorization: Bearer " + admin_token(), "Content-Type: application/json"});
  }
  json decide(const json& proposals) {
    HttpResponse r = decide_raw(proposals.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }
  static std::set<std::string> codes(const json& answer) {
    std::set<std::string> out;
    for (const json& reason : answer["reasons"]) out.insert(reason["code"].get<std::string>());
    return out;
  }
};

TEST_F(SeedDecisionsTest, TheSeedsExamplesGetExactDecisionsAndReasons) {
  auto consent = [](const std::string& who, const std::string& channel, const std::string& status) {
    return json{{"type", "consent"},
                {"data",
                 {{"customer", who},
                  {"channel", channel},
                  {"purpose", "marketing"},
                  {"status", status},
                  {"at", "2026-01-05T10:00:00Z"}}}};
  };
  ASSERT_NO_FATAL_FAILURE(send(json::array({
      // Anna: e-mail yes, phone no, likes catalogues; low credit score; signed a mortgage on Monday.
      {{"type", "profile"},
       {"data",
        {{"customer_id", "K-1"},
         {"email", "Anna@Example.de"},
         {"phone", "+49 30 1234567"},
         {"credit_score", 450},
         {"address", {{"street", "Hauptstraße 1"}, {"zip", "10115"}, {"city", "Berlin"}}},
         {"preferred_channel", "post"}}}},
      consent("anna@example.de", "email", "granted"),
      consent("anna@example.de", "phone", "denied"),
      consent("anna@example.de", "post", "granted"),
      {{"type", "event"},
       {"data",
        {{"customer", "anna@example.de"},
         {"event_type", "contract_signed"},
         {"product", "mortgage"},
         {"category", "real-estate"},
         {"at", "2026-03-02T15:30:00+01:00"}}}},
      // Ben visited his branch on 1 March.
      {{"type", "profile"}, {"data", {{"customer_id", "K-2"}, {"email", "ben@example.de"}}}},
      consent("ben@example.de", "email", "granted"),
      {{"type", "event"},
       {"data", {{"customer", "ben@example.de"}, {"event_type", "branch_visit"}, {"at", "2026-03-01T11:00:00+01:00"}}}},
      // Carla is blacklisted.
      {{"type", "profile"}, {"data", {{"customer_id", "K-3"}, {"email", "carla@example.de"}}}},
      consent("carla@example.de", "email", "granted"),
      {{"type", "suppression"},
       {"data", {{"customer", "carla@example.de"}, {"list", "blacklist"}, {"reason", "asked never to be contacted"}}}},
  })));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", 11)) << store().scalar("SELECT COUNT(*) FROM records");
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters"), 0);

  const std::string tuesday = "2026-03-03T10:00:00+01:00";
  const json answers = decide(json::array({
      {{"customer", "anna@example.de"}, {"channel", "email"}, {"purpose", "marketing"}, {"at", tuesday}},
      {{"customer", "anna@example.de"}, {"channel", "phone"}, {"purpose", "marketing"}, {"at", tuesday}},
      {{"customer", "anna@example.de"},
       {"channel", "email"},
       {"purpose", "marketing"},
       {"offer_category", "credit"},
       {"at", tuesday}},
      {{"customer", "anna@example.de"},
       {"channel", "email"},
       {"purpose", "marketing"},
       {"offer", "mortgage"},
       {"offer_category", "real-estate"},
       {"at", tuesday}},
      {{"customer", "ext:records:K-1"}, {"channel", "best"}, {"purpose", "marketing"}, {"at", tuesday}},
      {{"customer", "anna@example.de"},
       {"channel", "phone"},
       {"purpose", "service"},
       {"at", "2026-03-03T21:00:00+01:00"}},
      {{"customer", "ben@example.de"},
       {"channel", "email"},
       {"purpose", "marketing"},
       {"at", "2026-03-05T10:00:00+01:00"}},
      {{"customer", "ben@example.de"},
       {"channel", "email"},
       {"purpose", "marketing"},
       {"at", "2026-03-12T10:00:00+01:00"}},
      {{"customer", "carla@example.de"}, {"channel", "email"}, {"purpose", "marketing"}, {"at", tuesday}},
      {{"customer", "nobody@example.de"}, {"channel", "email"}, {"purpose", "marketing"}, {"at", tuesday}},
  }));
  ASSERT_TRUE(answers.is_array()) << answers.dump();
  ASSERT_EQ(answers.size(), 10u) << answers.dump();
  struct Expect {
    const char* decision;
    const char* channel;
    std::set<std::string> codes;
  };
  const std::vector<Expect> expected = {
      {"send", "email", {}},                       // e-mail yes
      {"suppress", "phone", {"consent_missing"}},  // phone no
      {"suppress", "email", {"condition"}},        // credit score 450: no credit offer
      {"suppress", "email", {"recent_purchase"}},  // mortgage signed Monday: no mortgage mail Tuesday
      {"send", "post", {}},                        // likes catalogues: best is post
      {"suppress", "phone", {"contact_hours"}},    // no calls after 20:00 Berlin
      {"suppress", "email", {"quiet_period"}},     // 4 days after the branch visit
      {"send", "email", {}},                       // 11 days after it
      {"suppress", "email", {"suppressed"}},       // blacklisted
      {"suppress", "email", {"unknown_customer"}},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("proposal " + std::to_string(i) + ": " + answers[i].dump());
    EXPECT_EQ(answers[i].value("decision", ""), expected[i].decision);
    EXPECT_EQ(answers[i].value("channel", ""), expected[i].channel);
    EXPECT_EQ(codes(answers[i]), expected[i].codes);
    EXPECT_EQ(answers[i].value("rulebook", "").rfind("sha256:", 0), 0u);
  }
  // Deciding stores nothing unless asked.
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM decisions"), 0);

  // Hostile proposals: a clear 400 naming the field, and nothing stored.
  HttpResponse bad = decide_raw(R"({"customer":"anna@example.de","channel":"fax"})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("channel"), std::string::npos) << bad.body;
  bad = decide_raw(R"({"customer":["anna@example.de"],"channel":"email"})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  bad = decide_raw(std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_EQ(bad.status, 400) << bad.body.substr(0, 200);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM decisions"), 0);

  // A revoked consent posted now changes the next decision.
  ASSERT_NO_FATAL_FAILURE(send(json::array({json{{"type", "consent"},
                                                 {"data",
                                                  {{"customer", "anna@example.de"},
                                                   {"channel", "email"},
                                                   {"purpose", "marketing"},
                                                   {"status", "revoked"},
                                                   {"at", "2026-03-03T09:00:00+01:00"}}}}})));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", 12));
  const json after =
      decide(json{{"customer", "anna@example.de"}, {"channel", "email"}, {"purpose", "marketing"}, {"at", tuesday}});
  EXPECT_EQ(after.value("decision", ""), "suppress") << after.dump();
  EXPECT_EQ(codes(after), std::set<std::string>{"consent_missing"}) << after.dump();

  // Carla asks to be forgotten (Art. 17): the store forgets her, each
  // connector reports, and her records posted again do not bring her back.
  HttpResponse erased = http_request("POST", hub_->admin_url("/v1/gdpr/erase"), R"({"customer":"carla@example.de"})",
                                     {"Authorization: Bearer " + admin_token(), "Content-Type: application/json"});
  ASSERT_EQ(erased.status, 200) << erased.body;
  const json receipt = json::parse(erased.body);
  EXPECT_EQ(receipt.value("profiles", 0), 1) << erased.body;
  EXPECT_EQ(receipt.value("complete", false), true) << erased.body;
  ASSERT_EQ(receipt["connectors"].size(), 1u) << erased.body;
  EXPECT_EQ(receipt["connectors"][0].value("status", ""), "holds_no_data") << erased.body;
  EXPECT_EQ(codes(decide(json{{"customer", "carla@example.de"}, {"channel", "email"}, {"at", tuesday}})),
            std::set<std::string>{"unknown_customer"});
  const int64_t profiles = store().scalar("SELECT COUNT(*) FROM profiles");
  ASSERT_NO_FATAL_FAILURE(
      send(json::array({json{{"type", "profile"}, {"data", {{"customer_id", "K-3b"}, {"email", "carla@example.de"}}}},
                        json{{"type", "profile"}, {"data", {{"customer_id", "K-9"}, {"email", "dora@example.de"}}}}})));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM profiles", profiles + 1));  // Dora's only
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM identities WHERE value = 'carla@example.de'"), 0);

  EXPECT_EQ(hub_->terminate(20s), 0);
}

}  // namespace
}  // namespace tp_it
