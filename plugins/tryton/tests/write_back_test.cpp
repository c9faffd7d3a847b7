// The hub's feedback written into a real trytond: an invalid e-mail, a
// revoked consent, a sale on a call, notes; each applied twice changes
// Tryton once. A Tryton that is down makes the batch retryable; what Tryton
// refuses, and malformed feedback, is permanent with the reason.
#include <gtest/gtest.h>

#include "support.hpp"
#include "tryton_rows.hpp"

namespace touchpoint::tryton::test {
namespace {

using touchpoint::testing::EmittedRecord;
using touchpoint::testing::Harness;
using touchpoint::testing::Outcome;

/// A feedback record as the hub's contact loop queues it (core/contact/contact_loop.cpp).
EmittedRecord feedback(const std::string& response_id, const std::string& kind, const std::string& channel, Json detail,
                       Json effects, Json identities) {
  Json data{{"customer", {{"profile_id", 42}, {"identities", identities}}},
            {"response",
             {{"id", response_id},
              {"source", "mail"},
              {"kind", kind},
              {"channel", channel},
              {"at", "2026-12-03T10:00:00.000Z"},
              {"detail", detail}}},
            {"contact",
             {{"id", "c-0123456789abcdef01234567"},
              {"channel", channel},
              {"campaign", "spring"},
              {"purpose", "marketing"},
              {"offer", "property-insurance"}}},
            {"effects", effects}};
  EmittedRecord r;
  r.id = response_id + "#feedback";
  r.type = "feedback";
  r.data = data.dump();
  r.meta = "{}";
  return r;
}

Json of_party(int64_t id) { return {{"ext:tryton", {std::to_string(id)}}, {"email", {"anna@example.de"}}}; }

struct WriteBackTest : ::testing::Test {
  Trytond t;
  Harness h{plugin_path()};
  std::unique_ptr<touchpoint::testing::Instance> inst = h.open(t.config());
  int64_t anna = t.party("Anna Schmidt",
                         Json::array({{{"type", "email"}, {"value", "Anna@Example.de"}},
                                      {{"type", "email"}, {"value", "anna.work@example.de"}},
                                      {{"type", "mobile"}, {"value", "0170 1234567"}}}),
                         Json::array({{{"street", "Hauptstr. 1"}, {"postal_code", "10115"}, {"city", "Berlin"}}}));

  std::vector<Outcome> write(const std::vector<EmittedRecord>& batch) { return inst->write(batch); }
  Json mechanisms() {
    return t.rpc().model(
        "party.contact_mechanism", "search_read",
        Json::array({Json::array({Json::array({"party", "=", anna})}), 0, 10, Json::array({Json::array({"id", "ASC"})}),
                     Json::array({"value", "active", "comment"})}),
        Json{{"active_test", false}});
  }
  Json notes() {
    return t.rpc().model(
        "ir.note", "search_read",
        Json::array({Json::array({Json::array({"resource", "=", "party.party," + std::to_string(anna)})}), 0, 100,
                     Json(), Json::array({"message"})}));
  }
};

TEST_F(WriteBackTest, AHardBounceDeactivatesThatAddressAndNotesItOnceHoweverOftenItArrives) {
  const EmittedRecord bounce =
      feedback("b1", "bounce_hard", "email", {{"status", "5.1.1"}, {"diagnostic", "550 5.1.1 user unknown"}},
               Json::array({{{"effect", "invalidate_channel"},
                             {"channel", "email"},
                             {"value", "anna@example.de"},
                             {"reason", "bounce_hard 5.1.1"}}}),
               of_party(anna));
  for (int round = 0; round < 2; ++round) {
    const std::vector<Outcome> out = write({bounce});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].status, TP_OK) << out[0].message;
  }
  const Json m = mechanisms();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_FALSE(is_active(m[0])) << "the bounced address (matched case-insensitively)";
  EXPECT_EQ(m[0]["comment"], "touchpoint: invalid since 2026-12-03 (bounce_hard 5.1.1)") << "once, not twice";
  EXPECT_TRUE(is_active(m[1])) << "the other e-mail address is fine";
  EXPECT_TRUE(is_active(m[2]));
  const Json n = notes();
  ASSERT_EQ(n.size(), 1u) << n.dump();
  const std::string text = n[0]["message"];
  EXPECT_EQ(text.rfind("[touchpoint b1] bounce_hard on e-mail at 2026-12-03T10:00:00.000Z, campaign spring", 0), 0u)
      << text;
  EXPECT_NE(text.find("status 5.1.1: 550 5.1.1 user unknown"), std::string::npos) << text;
  EXPECT_EQ(h.counters()["tryton_writes"], 2.0) << "deactivation and note; the second round wrote nothing";
}

TEST_F(WriteBackTest, AWrongNumberDeactivatesTheMobileGivenInNationalForm) {
  const std::vector<Outcome> out = write({feedback("w1", "call_outcome", "phone", {{"outcome", "wrong_number"}},
                                                   Json::array({{{"effect", "invalidate_channel"},
                                                                 {"channel", "phone"},
                                                                 {"value", "+491701234567"},
                                                                 {"reason", "call_outcome wrong_number"}}}),
                                                   of_party(anna))});
  EXPECT_EQ(out.at(0).status, TP_OK) << out[0].message;
  EXPECT_FALSE(is_active(mechanisms()[2]));
  EXPECT_TRUE(is_active(mechanisms()[0]));
}

TEST_F(WriteBackTest, ARevokedConsentTagsThePartyOnceWithOneSharedCategory) {
  const int64_t ben = t.party("Ben");
  const Json revoke = Json::array({{{"effect", "revoke_consent"}, {"channel", "email"}, {"purpose", "marketing"}}});
  const std::vector<Outcome> out =
      write({feedback("u1", "unsubscribe", "email", {{"method", "one-click"}}, revoke, of_party(anna)),
             feedback("u1", "unsubscribe", "email", {}, revoke, of_party(anna)),
             feedback("u2", "unsubscribe", "email", {}, revoke, of_party(ben))});
  for (const Outcome& o : out) EXPECT_EQ(o.status, TP_OK) << o.message;
  const Json cats = t.rpc().model("party.category", "search_read",
                                  Json::array({Json::array(), 0, 10, Json(), Json::array({"name"})}));
  ASSERT_EQ(cats.size(), 1u);
  EXPECT_EQ(cats[0]["name"], "Touchpoint: no e-mail marketing");
  const Json parties =
      t.rpc().model("party.party", "read", Json::array({Json::array({anna, ben}), Json::array({"categories"})}));
  EXPECT_EQ(parties[0]["categories"], Json::array({cats[0]["id"]}));
  EXPECT_EQ(parties[1]["categories"], Json::array({cats[0]["id"]}));
}

TEST_F(WriteBackTest, ASaleOnACallBecomesOneOpportunityWithProductAndAmount) {
  const EmittedRecord sale =
      feedback("s1", "call_outcome", "phone", {{"outcome", "sale"}, {"product", "savings-plus"}, {"revenue", 120.5}},
               Json::array({{{"effect", "purchase"},
                             {"product", "savings-plus"},
                             {"offer", "property-insurance"},
                             {"revenue", 120.5},
                             {"channel", "phone"}}}),
               of_party(anna));
  EXPECT_EQ(write({sale}).at(0).status, TP_OK);
  EXPECT_EQ(write({sale}).at(0).status, TP_OK);
  const Json opp =
      t.rpc().model("sale.opportunity", "search_read",
                    Json::array({Json::array(), 0, 10, Json(),
                                 Json::array({"party", "description", "amount", "reference", "state", "start_date"})}));
  ASSERT_EQ(opp.size(), 1u) << opp.dump();
  EXPECT_EQ(opp[0]["party"], anna);
  EXPECT_EQ(opp[0]["description"], "savings-plus (sold on a phone contact)");
  EXPECT_EQ(opp[0]["amount"]["decimal"], "120.50");
  EXPECT_EQ(opp[0]["state"], "lead");
  EXPECT_EQ(opp[0]["start_date"], (Json{{"__class__", "date"}, {"year", 2026}, {"month", 12}, {"day", 3}}));
  EXPECT_EQ(notes().size(), 1u) << "call outcomes are noted too";
}

TEST_F(WriteBackTest, FeedbackWithoutAPartyIsDoneAndWhatCannotBeAppliedIsPermanentWithTheReason) {
  EmittedRecord wrong_type = feedback("x", "opened", "email", {}, Json::array(), of_party(anna));
  wrong_type.type = "profile";
  EmittedRecord not_json = wrong_type;
  not_json.type = "feedback";
  not_json.data = "{\"customer\": 1}";
  const std::vector<Outcome> out =
      write({feedback("o1", "opened", "email", {}, Json::array(), {{"email", {"x@example.de"}}}),
             feedback("g1", "bounce_hard", "email", {}, Json::array(), of_party(999999)),
             feedback("h1", "bounce_hard", "email", {}, Json::array(), {{"ext:tryton", {"12; DROP TABLE"}}}),
             wrong_type, not_json});
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].status, TP_OK) << "a customer who is not in Tryton: nothing to write";
  EXPECT_EQ(out[1].status, TP_STATUS_PERMANENT);
  EXPECT_NE(out[1].message.find("party 999999 is not in Tryton"), std::string::npos) << out[1].message;
  EXPECT_EQ(out[2].status, TP_STATUS_PERMANENT);
  EXPECT_NE(out[2].message.find("is not a Tryton party id"), std::string::npos) << out[2].message;
  EXPECT_EQ(out[3].status, TP_STATUS_PERMANENT);
  EXPECT_NE(out[3].message.find("feedback: true"), std::string::npos) << out[3].message;
  EXPECT_EQ(out[4].status, TP_STATUS_PERMANENT);
  EXPECT_NE(out[4].message.find("data.customer must be an object"), std::string::npos) << out[4].message;
  EXPECT_EQ(h.counters()["tryton_feedback_without_party"], 1.0);
}

TEST_F(WriteBackTest, ATrytonThatIsDownMakesTheBatchRetryableAndItLandsOnceItIsBack) {
  const Json revoke = Json::array({{{"effect", "revoke_consent"}, {"channel", "post"}, {"purpose", "marketing"}}});
  const std::vector<EmittedRecord> batch{
      feedback("r1", "letter_returned", "post", {{"reason", "refused"}}, revoke, of_party(anna)),
      feedback("r2", "complaint", "email", {}, Json::array(), of_party(anna))};
  t.stop();
  const std::vector<Outcome> down = write(batch);
  ASSERT_EQ(down.size(), 2u);
  EXPECT_EQ(down[0].status, TP_STATUS_RETRYABLE) << down[0].message;
  EXPECT_EQ(down[1].status, TP_STATUS_RETRYABLE) << down[1].message;
  t.start();
  for (const Outcome& o : write(batch)) EXPECT_EQ(o.status, TP_OK) << o.message;
  EXPECT_EQ(notes().size(), 2u);
}

TEST_F(WriteBackTest, AHugeOrHostileResponseBecomesABoundedNote) {
  const std::string note = "'); DROP TABLE ir_note; -- " + std::string(3'000'000, 'x');
  const std::vector<Outcome> out = write({feedback(
      "n1", "call_outcome", "phone", {{"outcome", "not_interested"}, {"note", note}}, Json::array(), of_party(anna))});
  EXPECT_EQ(out.at(0).status, TP_OK) << out[0].message;
  const Json n = notes();
  ASSERT_EQ(n.size(), 1u);
  EXPECT_LT(n[0]["message"].get<std::string>().size(), 2048u);
  EXPECT_NE(n[0]["message"].get<std::string>().find("note: '); DROP TABLE ir_note; -- xxx"), std::string::npos);
}

}  // namespace
}  // namespace touchpoint::tryton::test
