// The contact loop inside the apply transaction (docs/channels.md): a
// contact request is decided and becomes a contact, a decision, a
// message_sent event and an outbox message for the channel's sink, or a
// suppressed contact with its reasons; a response is correlated to its
// contact and changes the customer so that the next decision shows it.
#include "contact/contact_loop.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "contact/contact_view.hpp"
#include "loop_test_util.hpp"

namespace touchpoint::core::test {
namespace {

constexpr const char* kRulebook = R"(
timezone: Europe/Berlin
channels: [email, phone, sms, post]
purposes: [marketing, service]
routing: { attribute: preferred_channel, order: [email, post, phone] }
rules:
  - name: suppression lists
    kind: suppression
    effect: suppress
    lists:
      deceased: { all_purposes: true }
    other_lists: apply
  - name: no contact without a valid address
    kind: channel_validity
    effect: suppress
  - name: marketing consent required
    kind: consent
    effect: suppress
    purposes: [marketing]
)";

class ContactLoopTest : public LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    if (IsSkipped()) return;
    start_loop(kRulebook, {{"email", "mail.smtp"}, {"post", "letters.shop"}});
  }

  /// Anna: an e-mail address and a postal address, marketing consent on both.
  void anna() {
    apply({rec("p1", "crm", "K-1",
               {{"email", "anna@example.de"},
                {"first_name", "Anna"},
                {"last_name", "Müller"},
                {"address", {{"street", "Hauptstr. 1"}, {"zip", "10115"}, {"city", "Berlin"}}}}),
           rec("c1", "crm", "", consent("email"), "consent"), rec("c2", "crm", "", consent("post"), "consent")});
  }
  static Json consent(const std::string& channel) {
    return {{"customer", "anna@example.de"},
            {"channel", channel},
            {"purpose", "marketing"},
            {"status", "granted"},
            {"at", "2026-01-01T00:00:00Z"}};
  }
  static Record request(const std::string& id, const std::string& channel, Json extra = Json::object()) {
    Json d{{"customer", "anna@example.de"}, {"channel", channel}, {"campaign", "spring"}, {"purpose", "marketing"}};
    d.update(extra);
    return rec(id, "campaigns", "", d, "contact_request");
  }
  static Record response(const std::string& id, const std::string& contact, const std::string& channel,
                         const std::string& kind, Json detail = Json::object()) {
    return rec(id, "mail", "", {{"contact_id", contact}, {"channel", channel}, {"kind", kind}, {"detail", detail}},
               "response", ms("2026-12-01T10:00:00Z"));
  }
  std::string contact_of(const std::string& request_id) { return contact::contact_id_for("campaigns", request_id); }
  std::vector<OutboxItem> outbox(const std::string& sink) { return store().outbox_due(sink, INT64_MAX / 2, 0, 100); }
  rules::Decision decide(const std::string& channel) {
    rules::Proposal p;
    p.customer = "anna@example.de";
    p.channel = channel;
    p.campaign = "next";
    return decider_->decide(p);
  }
  static std::vector<std::string> codes(const rules::Decision& d) {
    std::vector<std::string> out;
    for (const rules::Reason& r : d.reasons) out.push_back(r.code);
    return out;
  }
};

TEST_P(ContactLoopTest, AnAllowedRequestBecomesAContactADecisionATimelineEventAndOneOutboxMessage) {
  anna();
  const ApplyStats st = apply1(request("r1", "email", {{"template", "spring"}, {"vars", {{"rate", "3.1 %"}}}}));
  EXPECT_EQ(st.contacts_queued, 1u);
  const std::string id = contact_of("r1");
  ASSERT_EQ(id.size(), 26u);
  EXPECT_EQ(id.rfind("c-", 0), 0u);
  std::optional<ContactRow> c = store().reads().contact(id);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state, "queued");
  EXPECT_EQ(c->decision, "send");
  EXPECT_EQ(c->channel, "email");
  EXPECT_EQ(c->sink, "mail.smtp");
  EXPECT_EQ(c->profile_id, id_of("anna@example.de"));

  const std::vector<OutboxItem> items = outbox("mail.smtp");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].contact_id, id);
  const Record m = record_from_json(Json::parse(items[0].envelope));
  EXPECT_EQ(m.type, "message");
  EXPECT_EQ(m.id, id);
  EXPECT_EQ(m.data["to"], "anna@example.de");
  EXPECT_EQ(m.data["template"], "spring");
  EXPECT_EQ(m.data["vars"]["rate"], "3.1 %");
  EXPECT_EQ(m.data["customer"]["last_name"], "Müller");
  EXPECT_EQ(m.data["customer"]["profile_id"], c->profile_id);

  const customer::ProfileView v = view_of("anna@example.de");
  ASSERT_FALSE(v.timeline.empty());
  EXPECT_EQ(v.timeline[0].event_type, "message_sent");
  EXPECT_EQ(v.timeline[0].campaign, "spring");
  ASSERT_EQ(v.decisions.size(), 1u);
  EXPECT_EQ(v.decisions[0].decision, "send");

  std::optional<Json> life = contact::contact_life(store().reads(), id);
  ASSERT_TRUE(life);
  ASSERT_EQ((*life)["history"].size(), 2u);
  EXPECT_EQ((*life)["history"][0]["what"], "requested");
  EXPECT_EQ((*life)["history"][1]["what"], "decided");
}

TEST_P(ContactLoopTest, AReplayedRequestMakesNoSecondContactAndNoSecondMessage) {
  anna();
  apply1(request("r1", "email"));
  reopen_all();
  cs().set_loop_handler(loop_.get());
  const ApplyStats st = apply1(request("r1", "email"));
  EXPECT_EQ(st.contacts_queued, 0u);
  EXPECT_EQ(outbox("mail.smtp").size(), 1u);
  EXPECT_EQ(view_of("anna@example.de").decisions.size(), 1u);
}

TEST_P(ContactLoopTest, ASuppressedRequestIsStoredWithItsReasonsAndSendsNothing) {
  apply1(rec("p1", "crm", "K-1", {{"email", "anna@example.de"}}));  // no consent
  apply1(request("r1", "email"));
  std::optional<ContactRow> c = store().reads().contact(contact_of("r1"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state, "suppressed");
  EXPECT_EQ(c->decision, "suppress");
  EXPECT_NE(c->reasons.find("consent"), std::string::npos) << c->reasons;
  EXPECT_TRUE(outbox("mail.smtp").empty());
}

TEST_P(ContactLoopTest, AnUnknownCustomerIsSuppressedAndCountedNotCreated) {
  apply1(rec("r1", "campaigns", "",
             {{"customer", "nobody@example.de"}, {"channel", "email"}, {"campaign", "x"}, {"purpose", "marketing"}},
             "contact_request"));
  std::optional<ContactRow> c = store().reads().contact(contact_of("r1"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->profile_id, 0);
  EXPECT_NE(c->reasons.find("unknown_customer"), std::string::npos);
  EXPECT_EQ(id_of("nobody@example.de"), 0);
  EXPECT_EQ(store().stats().profiles, 0u);
}

TEST_P(ContactLoopTest, AHoldoutIsDecidedButNotSent) {
  anna();
  apply1(request("r1", "email", {{"holdout", true}}));
  std::optional<ContactRow> c = store().reads().contact(contact_of("r1"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->decision, "holdout");
  EXPECT_EQ(c->state, "holdout");
  EXPECT_TRUE(outbox("mail.smtp").empty());
}

TEST_P(ContactLoopTest, AChannelWithoutASinkIsADeadLetterThatCanBeReplayedLater) {
  anna();
  loop_->set_channel_sinks({{"email", "mail.smtp"}});  // nobody sends letters
  apply1(request("r1", "post"));
  EXPECT_FALSE(store().reads().contact(contact_of("r1")));
  const std::vector<DeadLetter> dl = store().dlq_list({});
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(dl[0].error_class, "no_channel");
  EXPECT_NE(dl[0].reason.find("channel: post"), std::string::npos) << dl[0].reason;
  // Once a sink is configured, the same request (a replay) is decided and queued.
  loop_->set_channel_sinks({{"email", "mail.smtp"}, {"post", "letters.shop"}});
  apply1(request("r1", "post"));
  ASSERT_TRUE(store().reads().contact(contact_of("r1")));
  EXPECT_EQ(outbox("letters.shop").size(), 1u);
}

TEST_P(ContactLoopTest, MalformedAndHostileRequestsAreDeadLetteredWithTheField) {
  anna();
  const std::string huge(5'000'000, '7');
  apply({request("a", "pigeon"), request("b", "email", {{"campaign", huge}}),
         request("c", "email", {{"vars", "not an object"}}), request("d", "email", {{"not_before", "yesterday"}}),
         rec("e", "campaigns", "", {{"channel", "email"}, {"campaign", "x"}, {"purpose", "marketing"}},
             "contact_request"),
         request("f", "email", {{"customer", "ext:"}})});
  const Strings reasons = dead_letter_reasons();
  ASSERT_EQ(reasons.size(), 6u);
  auto has = [&](const std::string& needle) {
    for (const std::string& r : reasons)
      if (r.find(needle) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has("data.channel must be email, phone, sms, post or best"));
  EXPECT_TRUE(has("data.campaign is longer than 256 bytes"));
  EXPECT_TRUE(has("data.vars must be an object"));
  EXPECT_TRUE(has("data.not_before must be an RFC 3339"));
  EXPECT_TRUE(has("data.customer is required"));
  EXPECT_TRUE(has("data.customer: "));
  EXPECT_TRUE(outbox("mail.smtp").empty());
}

TEST_P(ContactLoopTest, AHardBounceInvalidatesTheAddressAndTheNextDecisionSaysWhy) {
  anna();
  apply1(request("r1", "email"));
  const std::string id = contact_of("r1");
  ASSERT_TRUE(decide("email").send);
  apply1(response("b1", id, "email", "bounce_hard", {{"status", "5.1.1"}}));
  EXPECT_EQ(store().reads().contact(id)->state, "bounced");
  const rules::Decision d = decide("email");
  EXPECT_FALSE(d.send);
  ASSERT_FALSE(d.reasons.empty());
  EXPECT_EQ(codes(d), (std::vector<std::string>{"channel_invalid"}));
  EXPECT_NE(d.reasons[0].detail.find("5.1.1"), std::string::npos) << d.reasons[0].detail;
  EXPECT_EQ(attributes_of("anna@example.de")["email_invalid_reason"], "bounce_hard 5.1.1");
  EXPECT_EQ(lineage_of("anna@example.de", "email_valid")["source"], "mail");
  // Post still works: only the e-mail address is broken.
  EXPECT_TRUE(decide("post").send);
}

TEST_P(ContactLoopTest, AnInvalidAddressIsAboutThatAddressANewOneIsValidAgain) {
  anna();
  apply1(request("r1", "email"));
  apply1(response("b1", contact_of("r1"), "email", "bounce_hard", {{"status", "5.1.1"}}));
  EXPECT_EQ(attributes_of("anna@example.de")["email_invalid_for"], "anna@example.de");
  ASSERT_FALSE(decide("email").send);
  // The CRM learns a new address: the bounce was not about it.
  apply1(rec("p2", "crm", "K-1", {{"email", "anna.neu@example.de"}}, "profile", ms("2026-12-02T10:00:00Z")));
  ASSERT_EQ(attributes_of("anna@example.de")["email"], "anna.neu@example.de");
  EXPECT_TRUE(decide("email").send);
  // The old one comes back: still the address that bounced.
  apply1(rec("p3", "crm", "K-1", {{"email", "anna@example.de"}}, "profile", ms("2026-12-03T10:00:00Z")));
  const rules::Decision d = decide("email");
  EXPECT_FALSE(d.send);
  EXPECT_EQ(codes(d), (std::vector<std::string>{"channel_invalid"}));
  // A returned letter is about the postal address in the same way.
  apply1(request("r2", "post"));
  apply1(response("l1", contact_of("r2"), "post", "letter_returned", {{"reason", "unknown"}}));
  EXPECT_FALSE(decide("post").send);
  apply1(rec("p4", "crm", "K-1", {{"address", {{"street", "Neue Str. 5"}, {"zip", "20095"}, {"city", "Hamburg"}}}},
             "profile", ms("2026-12-04T10:00:00Z")));
  EXPECT_TRUE(decide("post").send);
}

TEST_P(ContactLoopTest, AResponseReadTwiceIsAppliedOnce) {
  anna();
  apply1(request("r1", "email"));
  const std::string id = contact_of("r1");
  apply1(response("s1", id, "email", "bounce_soft", {{"status", "4.2.2"}}));
  const ApplyStats st = apply1(response("s1", id, "email", "bounce_soft", {{"status", "4.2.2"}}));
  EXPECT_EQ(st.duplicates, 1u);
  size_t soft = 0;
  for (const EventRow& e : view_of("anna@example.de").timeline) soft += e.event_type == "response_bounce_soft";
  EXPECT_EQ(soft, 1u);
  EXPECT_TRUE(decide("email").send) << "one soft bounce is not fatal";
}

TEST_P(ContactLoopTest, SoftBouncesAreCountedAndTheThirdWithinTheWindowInvalidates) {
  anna();
  apply1(request("r1", "email"));
  const std::string id = contact_of("r1");
  apply1(response("s1", id, "email", "bounce_soft"));
  apply1(response("s2", id, "email", "bounce_soft"));
  EXPECT_TRUE(decide("email").send);
  apply1(response("s3", id, "email", "bounce_soft"));
  const rules::Decision d = decide("email");
  EXPECT_FALSE(d.send);
  EXPECT_EQ(codes(d), (std::vector<std::string>{"channel_invalid"}));
}

TEST_P(ContactLoopTest, APolicyBlockIsNeverAnAddressProblem) {
  anna();
  apply1(request("r1", "email"));
  apply1(response("x1", contact_of("r1"), "email", "policy_block", {{"status", "5.7.1"}}));
  EXPECT_EQ(store().reads().contact(contact_of("r1"))->state, "blocked");
  EXPECT_TRUE(decide("email").send);
}

TEST_P(ContactLoopTest, AnUnsubscribeRevokesMarketingConsentOnTheChannel) {
  anna();
  apply1(request("r1", "email"));
  apply1(response("u1", contact_of("r1"), "email", "unsubscribe", {{"method", "one-click"}}));
  const rules::Decision d = decide("email");
  EXPECT_FALSE(d.send);
  EXPECT_EQ(codes(d).size(), 1u);
  EXPECT_NE(codes(d)[0].find("consent"), std::string::npos) << codes(d)[0];
  EXPECT_TRUE(decide("post").send);
}

TEST_P(ContactLoopTest, APersonsClickMovesTheContactAMachinesIsRecordedButDoesNot) {
  anna();
  apply1(request("r1", "email"));
  const std::string id = contact_of("r1");
  apply1(response("o1", id, "email", "opened", {{"machine", true}, {"machine_reason", "generic_user_agent"}}));
  apply1(response("k1", id, "email", "clicked",
                  {{"url", "https://bank.example/offer?a=1"}, {"machine", true}, {"machine_reason", "too_soon"}}));
  EXPECT_EQ(store().reads().contact(id)->state, "queued") << "a scanner is not the customer";
  apply1(response("o2", id, "email", "opened", {{"machine", false}}));
  EXPECT_EQ(store().reads().contact(id)->state, "opened");
  apply1(response("k2", id, "email", "clicked", {{"url", "https://bank.example/offer?a=1"}, {"machine", false}}));
  EXPECT_EQ(store().reads().contact(id)->state, "clicked");
  std::multiset<std::string> types;
  for (const EventRow& e : view_of("anna@example.de").timeline)
    if (e.event_type.rfind("email_", 0) == 0) types.insert(e.event_type);
  EXPECT_EQ(types, (std::multiset<std::string>{"email_clicked", "email_clicked_by_machine", "email_opened",
                                               "email_opened_by_machine"}));
  const std::optional<Json> life = contact::contact_life(store().reads(), id);
  ASSERT_TRUE(life);
  size_t responses = 0;
  for (const Json& step : (*life)["history"]) responses += step["what"].get<std::string>().rfind("response:", 0) == 0;
  EXPECT_EQ(responses, 4u) << "every hit is on the contact's history";
}

TEST_P(ContactLoopTest, AReturnedLetterInvalidatesTheAddressAndAMoveReplacesIt) {
  anna();
  apply1(request("r1", "post"));
  apply1(response("l1", contact_of("r1"), "post", "letter_returned", {{"reason", "unknown"}}));
  EXPECT_FALSE(decide("post").send);
  apply1(request("r2", "post"));  // suppressed now: no second letter
  EXPECT_EQ(store().reads().contact(contact_of("r2"))->state, "suppressed");
  // A later "moved" return with a new address makes post usable again.
  apply1(response(
      "l2", contact_of("r1"), "post", "letter_returned",
      {{"reason", "moved"}, {"new_address", {{"street", "Neue Str. 5"}, {"zip", "80331"}, {"city", "München"}}}}));
  EXPECT_EQ(attributes_of("anna@example.de")["address"]["city"], "München");
  EXPECT_TRUE(decide("post").send);
}

TEST_P(ContactLoopTest, ADeceasedReturnSuppressesEveryChannel) {
  anna();
  apply1(request("r1", "post"));
  apply1(response("l1", contact_of("r1"), "post", "letter_returned", {{"reason", "deceased"}}));
  EXPECT_FALSE(decide("email").send);
  EXPECT_FALSE(decide("post").send);
}

TEST_P(ContactLoopTest, AResponseForAnUnknownContactIsADeadLetterAndChangesNothing) {
  anna();
  apply1(response("z1", "c-000000000000000000000000", "email", "bounce_hard"));
  const std::vector<DeadLetter> dl = store().dlq_list({});
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(dl[0].error_class, "unmatched");
  EXPECT_TRUE(decide("email").send);
}

TEST_P(ContactLoopTest, HostileResponsesAreDeadLetteredWithTheField) {
  anna();
  apply1(request("r1", "email"));
  const std::string id = contact_of("r1");
  Json big = Json::object();
  big["note"] = std::string(100'000, 'x');
  apply({response("h1", id, "email", "exploded"), response("h2", id, "fax", "delivered"),
         response("h3", id, "phone", "call_outcome", {{"outcome", "abducted"}}),
         response("h4", id, "post", "letter_returned", {{"reason", std::string(5'000'000, 'r')}}),
         response("h5", id, "email", "delivered", big),
         rec("h6", "mail", "", {{"channel", "email"}, {"kind", "delivered"}}, "response")});
  EXPECT_EQ(store().dlq_list({}).size(), 6u);
  EXPECT_EQ(store().reads().contact(id)->state, "queued");
}

TEST_P(ContactLoopTest, AResponseFoundByTheProvidersIdWhenItCarriesNoContactId) {
  anna();
  apply1(request("r1", "email"));
  const std::string id = contact_of("r1");
  OutboxSettlement s;
  s.delivered.push_back(outbox("mail.smtp").at(0).id);
  s.contacts.push_back(ContactUpdate{id, "sent", "<" + id + "@bank.example>", ContactEventRow{"", 5, "sent", "{}"}});
  store().outbox_settle(s);
  EXPECT_EQ(store().reads().contact(id)->state, "sent");
  apply1(rec("d1", "mail", "",
             {{"provider_id", "<" + id + "@bank.example>"}, {"channel", "email"}, {"kind", "delivered"}}, "response"));
  EXPECT_EQ(store().reads().contact(id)->state, "delivered");
}

TEST_P(ContactLoopTest, ConfiguredEffectsReplaceTheDefaults) {
  ContactConfig config;
  config.effects["unsubscribe"] = {"suppress:newsletter_optout", "timeline"};
  make_loop(config);
  anna();
  apply1(request("r1", "email"));
  apply1(response("u1", contact_of("r1"), "email", "unsubscribe"));
  const rules::Decision d = decide("email");
  EXPECT_FALSE(d.send);
  EXPECT_EQ(codes(d), (std::vector<std::string>{"suppressed"}));
  EXPECT_THROW(contact::ContactLoop(*decider_, ContactConfig{{}, {}, {{"bounce_hardest", {"none"}}}}),
               std::invalid_argument);
}

TEST_P(ContactLoopTest, ErasingThePersonRemovesTheirContacts) {
  anna();
  apply1(request("r1", "email"));
  const customer::EraseResult e = cs().erase("anna@example.de", customer::Actor{});
  EXPECT_EQ(e.contacts, 1u);
  EXPECT_FALSE(store().reads().contact(contact_of("r1")));
}

TEST_P(ContactLoopTest, AFeedbackSinkGetsWhatTheHubLearntOncePerResponseWithTheCustomersIdentities) {
  anna();
  apply1(request("r1", "email", {{"offer", "savings-plus"}}));
  const std::string id = contact_of("r1");
  apply1(response("b0", id, "email", "delivered"));
  EXPECT_TRUE(outbox("crm.writeback").empty()) << "no feedback sink configured: nothing queued";

  loop_->set_feedback_sinks({"crm.writeback"});
  const Record bounce = response("b1", id, "email", "bounce_hard", {{"status", "5.1.1"}});
  apply1(bounce);
  apply1(bounce);  // read twice by the channel: fed back once
  apply1(response("u1", id, "email", "unsubscribe", {{"method", "one-click"}}));
  const std::vector<OutboxItem> items = outbox("crm.writeback");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].record_id, "b1#feedback");
  EXPECT_TRUE(items[0].contact_id.empty()) << "a feedback item is an ordinary record delivery, not a contact";
  const Json first = Json::parse(items[0].envelope);
  EXPECT_EQ(first["type"], "feedback");
  const Json& d = first["data"];
  EXPECT_EQ(d["response"]["kind"], "bounce_hard");
  EXPECT_EQ(d["response"]["id"], "b1");
  EXPECT_EQ(d["response"]["at"], "2026-12-01T10:00:00.000Z");
  EXPECT_EQ(d["response"]["detail"]["status"], "5.1.1");
  EXPECT_EQ(d["contact"]["id"], id);
  EXPECT_EQ(d["contact"]["campaign"], "spring");
  EXPECT_EQ(d["contact"]["offer"], "savings-plus");
  EXPECT_EQ(d["customer"]["identities"]["email"], Json::array({"anna@example.de"}));
  ASSERT_EQ(d["effects"].size(), 1u);
  EXPECT_EQ(d["effects"][0]["effect"], "invalidate_channel");
  EXPECT_EQ(d["effects"][0]["value"], "anna@example.de") << "the CRM is told which address is bad";
  EXPECT_EQ(d["effects"][0]["reason"], "bounce_hard 5.1.1");
  const Json second = Json::parse(items[1].envelope)["data"];
  EXPECT_EQ(second["response"]["kind"], "unsubscribe");
  bool revoked = false;
  for (const Json& e : second["effects"])
    revoked = revoked || (e["effect"] == "revoke_consent" && e["channel"] == "email" && e["purpose"] == "marketing");
  EXPECT_TRUE(revoked) << second.dump();
}

TEST_P(ContactLoopTest, ASaleOnTheCallIsFedBackAsAPurchaseWithProductAndRevenue) {
  loop_->set_feedback_sinks({"crm.writeback"});
  apply({rec("p1", "crm", "K-1", {{"email", "anna@example.de"}, {"phone", "+4930123456"}}),
         rec("c1", "crm", "", consent("phone"), "consent")});
  loop_->set_channel_sinks({{"phone", "calls.dialer"}});
  apply1(request("r1", "phone", {{"offer", "property-insurance"}, {"offer_category", "insurance"}}));
  const std::string id = contact_of("r1");
  ASSERT_EQ(store().reads().contact(id)->state, "queued");
  apply1(response("s1", id, "phone", "call_outcome",
                  {{"outcome", "sale"}, {"product", "savings-plus"}, {"category", "savings"}, {"revenue", 120.5}}));
  const std::vector<OutboxItem> items = outbox("crm.writeback");
  ASSERT_EQ(items.size(), 1u);
  const Json d = Json::parse(items[0].envelope)["data"];
  EXPECT_EQ(d["response"]["detail"]["outcome"], "sale");
  ASSERT_EQ(d["effects"].size(), 1u) << d.dump();
  EXPECT_EQ(d["effects"][0]["effect"], "purchase");
  EXPECT_EQ(d["effects"][0]["product"], "savings-plus") << "what was sold, not what was offered";
  EXPECT_EQ(d["effects"][0]["offer"], "property-insurance");
  EXPECT_EQ(d["effects"][0]["revenue"], 120.5);
}

TP_INSTANTIATE_FOR_BACKENDS(ContactLoopTest);

}  // namespace
}  // namespace touchpoint::core::test
