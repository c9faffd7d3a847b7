// The phone channel end to end through the real binary: contact requests are
// decided and put on a call list (the callcenter plugin writing files); the
// call center reports its dispositions through the plugin's signed webhook
// (Standard Webhooks over real HTTP on loopback); "do not call" revokes the
// phone consent, so the next decision suppresses, and a sale becomes a
// purchase on the customer's timeline with the campaign that caused it.
#include "loop_support.hpp"

namespace tp_it {
namespace {
using namespace std::chrono_literals;
namespace fs = std::filesystem;

class LoopCallTest : public LoopTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(use_rulebook_with_calling_hours_now());
    calls_ = root_ / "calls";
    write_calls_pipeline(calls_);
    ASSERT_NO_FATAL_FAILURE(start_hub());
  }

  int disposition_port() { return gauge_port("callcenter_webhook_port"); }

  HttpResponse post_dispositions(const json& body, const std::string& id, const std::string& secret = kCallSecret) {
    return post_signed_dispositions(disposition_port(), body, id, secret);
  }

  static json person(const std::string& id, const std::string& email, const std::string& phone) {
    return customer(id, email, "phone", {{"phone", phone}, {"first_name", "Jörg"}});
  }
  static json call(const std::string& id, const std::string& email) {
    return request(id, email, "phone", "autumn",
                   {{"offer", "savings"}, {"offer_category", "savings"}, {"template", "autumn-call"}});
  }

  fs::path calls_;
};

TEST_F(LoopCallTest, ACallListGoesOutAndTheDispositionsComeBackThroughTheSignedWebhook) {
  json people = person("K-1", "joerg@example.de", "+49 30 1234567");
  for (const json& e : person("K-2", "karla@example.de", "+49 40 7654321")) people.push_back(e);
  ASSERT_NO_FATAL_FAILURE(send(people));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", 4)) << hub_->log();
  EXPECT_EQ(decide("joerg@example.de", "phone")["decision"], "send");

  ASSERT_NO_FATAL_FAILURE(
      send(json::array({call("autumn:K-1", "joerg@example.de"), call("autumn:K-2", "karla@example.de")})));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM contacts WHERE state='sent'", 2)) << hub_->log();
  const std::string dnc = contact_of("autumn:K-1"), sale = contact_of("autumn:K-2");

  // The call list carries the contact ids, the numbers in E.164 and the calling window.
  std::vector<json> entries = jsonl_rows(calls_);
  ASSERT_EQ(entries.size(), 2u);
  std::map<std::string, json> by_contact;
  for (const json& e : entries) by_contact[e["contact_id"]] = e;
  ASSERT_TRUE(by_contact.count(dnc) && by_contact.count(sale));
  EXPECT_EQ(by_contact[dnc]["phone"], "+49301234567");
  EXPECT_EQ(by_contact[dnc]["campaign"], "autumn");
  EXPECT_EQ(by_contact[dnc]["script"], "autumn-call");
  EXPECT_EQ(by_contact[dnc]["calling_window"]["timezone"], "UTC") << by_contact[dnc].dump();

  // A forged signature is refused and changes nothing.
  const json dispositions = json::array({{{"contact_id", dnc}, {"outcome", "do_not_call"}, {"agent", "a17"}},
                                         {{"contact_id", sale},
                                          {"outcome", "sale"},
                                          {"product", "savings-plus"},
                                          {"category", "savings"},
                                          {"revenue", 125.5}}});
  HttpResponse forged = post_dispositions(dispositions, "msg_1", "not-the-secret-but-32-bytes-long");
  EXPECT_EQ(forged.status, 401) << forged.body;
  HttpResponse hostile = post_dispositions(json::array({{{"contact_id", dnc}, {"outcome", "hang up\u0000"}}}), "msg_0");
  EXPECT_EQ(hostile.status, 400) << hostile.body;
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM contact_events WHERE what LIKE 'response:%'"), 0);

  // The real one: 200 only once durable; its replay is a duplicate.
  HttpResponse ok = post_dispositions(dispositions, "msg_2");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json::parse(ok.body)["accepted"], 2);
  HttpResponse replay = post_dispositions(dispositions, "msg_2");
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(json::parse(replay.body).value("duplicate", false), true) << replay.body;

  ASSERT_TRUE(poll_until([&] { return state_of(dnc) == "answered" && state_of(sale) == "answered"; }, 10s))
      << state_of(dnc) << " " << state_of(sale) << "\n"
      << hub_->log();
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM contact_events WHERE what LIKE 'response:%'"), 2);

  // "Do not call" revoked the phone consent: the next decision says so.
  const json after = decide("joerg@example.de", "phone");
  EXPECT_EQ(after["decision"], "suppress") << after.dump();
  ASSERT_FALSE(after["reasons"].empty()) << after.dump();
  EXPECT_EQ(after["reasons"][0]["code"], "consent_missing") << after.dump();
  EXPECT_EQ(decide("karla@example.de", "phone")["decision"], "send");

  // The sale is a purchase on Karla's timeline, attributed to the campaign.
  auto purchases = store().rows(
      "SELECT t.product, t.campaign, t.revenue FROM timeline t JOIN contacts c ON c.profile_id = t.profile_id "
      "WHERE c.id = ? AND t.event_type = 'purchase'",
      {sale});
  ASSERT_EQ(purchases.size(), 1u) << hub_->log();
  EXPECT_EQ(purchases[0][0], "savings-plus");
  EXPECT_EQ(purchases[0][1], "autumn");
  EXPECT_EQ(std::stod(purchases[0][2]), 125.5);

  // The contact's life, as the admin sees it.
  EXPECT_EQ(history_of(dnc),
            (std::vector<std::string>{"requested", "decided", "sending", "sent", "response:call_outcome"}));
}

}  // namespace
}  // namespace tp_it
