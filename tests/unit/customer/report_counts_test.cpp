// The counters behind the reports (docs/reports.md), kept inside the apply
// transaction: the contact funnel (each step once per contact, a machine's
// open never), suppression reasons, conversions with every attribution
// model, target vs any conversion (the seed's NBO example), the control
// group, and the data-quality snapshot.
#include <gtest/gtest.h>

#include "contact/contact_loop.hpp"
#include "loop_test_util.hpp"
#include "report/report_service.hpp"
#include "util/clock.hpp"

namespace touchpoint::core::test {
namespace {

constexpr const char* kRulebook = R"(
timezone: Europe/Berlin
channels: [email, phone, sms, post]
purposes: [marketing, service]
rules:
  - name: no contact without a valid address
    kind: channel_validity
    effect: suppress
  - name: marketing consent required
    kind: consent
    effect: suppress
    purposes: [marketing]
)";

class ReportCountsTest : public LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    if (IsSkipped()) return;
    start_loop(kRulebook, {{"email", "mail.smtp"}, {"phone", "calls.dialer"}});
    reports_ = std::make_unique<report::ReportService>(store(), config_.conversions);
  }
  void TearDown() override {
    reports_.reset();
    LoopTest::TearDown();
  }
  /// The configuration's `customer:` section, with the loop and the reports over it.
  void reconfigure(const std::string& yaml) {
    configure_with_loop(yaml);
    reports_ = std::make_unique<report::ReportService>(store(), config_.conversions);
  }

  /// A customer with an e-mail address and a phone, marketing consent on both.
  void person(const std::string& email, bool consent = true) {
    // A phone of their own: a shared one would merge them (phone is an identity).
    const std::string phone = "+49301234" + std::to_string(10 + people_++);
    std::vector<Record> rs = {rec("p-" + email, "crm", email, {{"email", email}, {"phone", phone}})};
    if (consent)
      for (const char* ch : {"email", "phone"})
        rs.push_back(rec("k-" + email + ch, "crm", "",
                         {{"customer", email}, {"channel", ch}, {"purpose", "marketing"}, {"status", "granted"}},
                         "consent"));
    apply(rs);
  }
  /// A contact request; returns the contact id. Each later request is made at a later millisecond.
  std::string request(const std::string& id, const std::string& email, const std::string& channel,
                      const std::string& campaign, const std::string& offer, bool holdout = false) {
    const int64_t t0 = now_ms();
    while (now_ms() <= t0) {
    }
    apply1(rec(id, "campaigns", "",
               {{"customer", email},
                {"channel", channel},
                {"campaign", campaign},
                {"purpose", "marketing"},
                {"offer", offer},
                {"holdout", holdout}},
               "contact_request"));
    return contact::contact_id_for("campaigns", id);
  }
  /// What the channel sink reports after handing the message over.
  void sent(const std::string& contact, const std::string& sink) {
    OutboxSettlement s;
    for (const OutboxItem& o : store().outbox_due(sink, INT64_MAX / 2, 0, 100))
      if (o.contact_id == contact) s.delivered.push_back(o.id);
    ASSERT_EQ(s.delivered.size(), 1u);
    s.contacts.push_back(ContactUpdate{contact, "sent", "", ContactEventRow{"", now_ms(), "sent", "{}"}});
    store().outbox_settle(s);
  }
  void respond(const std::string& id, const std::string& contact, const std::string& channel, const std::string& kind,
               Json detail = Json::object()) {
    apply1(rec(id, "mail", "", {{"contact_id", contact}, {"channel", channel}, {"kind", kind}, {"detail", detail}},
               "response", now_ms()));
  }
  void purchase(const std::string& id, const std::string& email, const std::string& product, double revenue) {
    apply1(rec(id, "shop", "",
               {{"customer", email},
                {"event_type", "purchase"},
                {"product", product},
                {"revenue", revenue},
                {"at", now_ms() + 3'600'000}},
               "event"));
  }
  Json campaign(const std::string& name) {
    const Json r = reports_->campaigns(report::ReportQuery{});
    for (const Json& c : r["campaigns"])
      if (c["campaign"] == name) return c;
    ADD_FAILURE() << "no campaign " << name << " in " << r.dump();
    return Json::object();
  }
  /// {campaign/channel: conversions} under a model.
  std::map<std::string, double> credit(const std::string& model) {
    report::ReportQuery q;
    q.model = model;
    const Json r = reports_->attribution(q);
    std::map<std::string, double> out;
    for (const Json& row : r["rows"])
      out[row["campaign"].get<std::string>() + "/" + row["channel"].get<std::string>()] = row["conversions"];
    return out;
  }

  int people_ = 0;
  std::unique_ptr<report::ReportService> reports_;
};

TEST_P(ReportCountsTest, TheSeedsCreditCardIsSharedBetweenTheMailAndTheCallAsEachModelSays) {
  person("anna@example.de");
  const std::string mail = request("r1", "anna@example.de", "email", "card-mail", "credit-card");
  sent(mail, "mail.smtp");
  respond("d1", mail, "email", "delivered");
  respond("o1", mail, "email", "opened");
  respond("o2", mail, "email", "opened");  // opened twice: one person opened it
  respond("k1", mail, "email", "clicked");
  const std::string call = request("r2", "anna@example.de", "phone", "card-call", "credit-card");
  sent(call, "calls.dialer");
  respond("h1", call, "phone", "call_outcome", {{"outcome", "reached"}});
  purchase("buy1", "anna@example.de", "credit-card", 120.0);

  const Json m = campaign("card-mail")["funnel"];
  EXPECT_EQ(m["requested"], 1);
  EXPECT_EQ(m["contacted"], 1);
  EXPECT_EQ(m["sent"], 1);
  EXPECT_EQ(m["delivered"], 1);
  EXPECT_EQ(m["opened"], 1);
  EXPECT_EQ(m["clicked"], 1);
  EXPECT_EQ(m["responded"], 1);
  EXPECT_EQ(m["converted"], 1);
  EXPECT_EQ(m["converted_target"], 1);
  EXPECT_DOUBLE_EQ(m["revenue"].get<double>(), 120.0);
  const Json c = campaign("card-call")["funnel"];
  EXPECT_EQ(c["sent"], 1);
  EXPECT_EQ(c["responded"], 1);
  EXPECT_EQ(c["delivered"], 0);
  EXPECT_EQ(c["converted"], 1);

  EXPECT_EQ(credit("first_touch"), (std::map<std::string, double>{{"card-mail/email", 1.0}}));
  EXPECT_EQ(credit("last_touch"), (std::map<std::string, double>{{"card-call/phone", 1.0}}));
  EXPECT_EQ(credit("linear"), (std::map<std::string, double>{{"card-mail/email", 0.5}, {"card-call/phone", 0.5}}));
  EXPECT_EQ(credit("position_based"),
            (std::map<std::string, double>{{"card-mail/email", 0.5}, {"card-call/phone", 0.5}}));
  EXPECT_EQ(credit("treatment"), (std::map<std::string, double>{{"card-mail/email", 0.5}, {"card-call/phone", 0.5}}));
  const auto decay = credit("time_decay");  // milliseconds apart: nearly even, the later a little more
  ASSERT_EQ(decay.size(), 2u);
  EXPECT_NEAR(decay.at("card-mail/email") + decay.at("card-call/phone"), 1.0, 1e-12);
  EXPECT_LE(decay.at("card-mail/email"), decay.at("card-call/phone"));
  report::ReportQuery q;
  q.model = "linear";
  const Json a = reports_->attribution(q);
  EXPECT_DOUBLE_EQ(a["total"]["conversions"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(a["total"]["revenue"].get<double>(), 120.0);

  const Json by_channel = reports_->channels(report::ReportQuery{});
  ASSERT_EQ(by_channel["channels"].size(), 2u) << by_channel.dump();
}

TEST_P(ReportCountsTest, TheNboCallThatSoldSavingsIsAConversionButNotATargetOne) {
  person("bob@example.de");
  const std::string call = request("r1", "bob@example.de", "phone", "insurance-call", "property-insurance");
  sent(call, "calls.dialer");
  // The seed's example 2: the call offered property insurance; at its end
  // Bob opened a savings account (the sale is recorded by the call outcome).
  respond("h1", call, "phone", "call_outcome",
          {{"outcome", "sale"}, {"product", "savings-account"}, {"category", "savings"}, {"revenue", 0}});
  const Json f = campaign("insurance-call")["funnel"];
  EXPECT_EQ(f["converted"], 1);
  EXPECT_EQ(f["converted_target"], 0);
  EXPECT_EQ(credit("last_touch"), (std::map<std::string, double>{{"insurance-call/phone", 1.0}}));
  // The campaign did not offer savings: under the treatment model nobody earned it.
  EXPECT_EQ(credit("treatment"), (std::map<std::string, double>{{"/", 1.0}}));
}

TEST_P(ReportCountsTest, SuppressionsCountByReasonAndMachineOpensCountNever) {
  person("anna@example.de");
  person("carl@example.de", false);  // no consent
  request("r0", "carl@example.de", "email", "spring", "savings");
  const std::string mail = request("r1", "anna@example.de", "email", "spring", "savings");
  sent(mail, "mail.smtp");
  respond("o1", mail, "email", "opened", {{"machine", true}});
  respond("k1", mail, "email", "clicked", {{"machine", true}});
  const Json f = campaign("spring")["funnel"];
  EXPECT_EQ(f["requested"], 2);
  EXPECT_EQ(f["suppressed"], 1);
  EXPECT_EQ(f["contacted"], 1);
  EXPECT_GE(f["suppressed_by_reason"].value("consent_missing", 0), 1) << f.dump();
  EXPECT_EQ(f["opened"], 0);
  EXPECT_EQ(f["clicked"], 0);
  EXPECT_EQ(f["responded"], 0);
  respond("o2", mail, "email", "opened");  // now the person
  EXPECT_EQ(campaign("spring")["funnel"]["opened"], 1);
}

TEST_P(ReportCountsTest, TheControlGroupConvertsToo) {
  person("anna@example.de");
  person("dora@example.de");
  const std::string treated = request("r1", "anna@example.de", "email", "spring", "savings");
  request("r2", "dora@example.de", "email", "spring", "savings", true);
  sent(treated, "mail.smtp");
  purchase("b1", "anna@example.de", "savings", 10);
  purchase("b2", "dora@example.de", "other", 10);
  purchase("b3", "dora@example.de", "other", 10);  // a second purchase: still one converted member
  const Json ctl = campaign("spring")["control"];
  ASSERT_TRUE(ctl.is_object()) << campaign("spring").dump();
  EXPECT_EQ(ctl["any"]["treated"], 1);
  EXPECT_EQ(ctl["any"]["treated_converted"], 1);
  EXPECT_EQ(ctl["any"]["control"], 1);
  EXPECT_EQ(ctl["any"]["control_converted"], 1);
  EXPECT_EQ(ctl["target"]["control_converted"], 0);
  EXPECT_EQ(ctl["any"]["verdict"], "too_small");
  EXPECT_EQ(campaign("spring")["funnel"]["holdout"], 1);
  // The held-out purchases are nobody's: no contact reached dora.
  EXPECT_DOUBLE_EQ(credit("last_touch").at("/"), 2.0);
}

TEST_P(ReportCountsTest, AnErasedPersonLeavesCountsButNothingThatNamesThem) {
  person("anna@example.de");
  person("dora@example.de");
  sent(request("r1", "anna@example.de", "email", "spring", "savings"), "mail.smtp");
  request("r2", "dora@example.de", "email", "spring", "savings", true);
  purchase("b1", "anna@example.de", "savings", 10);
  purchase("b2", "dora@example.de", "savings", 10);
  ASSERT_EQ(campaign("spring")["control"]["any"]["control_converted"], 1);
  cs().erase("dora@example.de", customer::Actor{});
  // Group membership was a row per person: gone with her, and with it the
  // control group, which had only her.
  const Json after = campaign("spring");
  EXPECT_FALSE(after.contains("control")) << after.dump();
  EXPECT_TRUE(reports_->control(report::ReportQuery{})["campaigns"].empty());
  // The funnel's counts name nobody and stay.
  EXPECT_EQ(after["funnel"]["requested"], 2);
  EXPECT_EQ(after["funnel"]["holdout"], 1);
}

TEST_P(ReportCountsTest, AnUnmergeThatAppliesARecordAgainDoesNotCountItsConversionTwice) {
  apply({rec("c1", "crm", "K-1", {{"email", "anna@example.de"}}, "profile", 1000),
         rec("c-e", "crm", "K-1", {{"event_type", "contract_signed"}, {"product", "mortgage"}, {"revenue", 5}}, "event",
             1100),
         rec("w1", "web", "W-2", {{"phone", "+4930123456"}}, "profile", 2000)});
  ASSERT_EQ(
      apply1(rec("bridge", "shop", "", {{"external_ids", {{"crm", "K-1"}, {"web", "W-2"}}}}, "profile", 3000)).merges,
      1u);
  cs().unmerge(store().reads().merges_of(1).at(0).id, customer::Actor{});
  report::ReportQuery q;
  for (const char* model : {"last_touch", "linear"}) {
    q.model = model;
    const Json a = reports_->attribution(q);
    EXPECT_DOUBLE_EQ(a["total"]["conversions"].get<double>(), 1.0) << model << " " << a.dump();
    EXPECT_DOUBLE_EQ(a["total"]["revenue"].get<double>(), 5.0) << model;
  }
}

TEST_P(ReportCountsTest, ASoftThenAHardBounceIsOneBouncedContact) {
  person("anna@example.de");
  const std::string mail = request("r1", "anna@example.de", "email", "spring", "savings");
  sent(mail, "mail.smtp");
  respond("s1", mail, "email", "bounce_soft");
  respond("h1", mail, "email", "bounce_hard");
  const Json f = campaign("spring")["funnel"];
  EXPECT_EQ(f["bounced"], 1);
  EXPECT_EQ(f["bounce_soft"], 1);
  EXPECT_EQ(f["bounce_hard"], 1);
  EXPECT_DOUBLE_EQ(f["rates"]["bounce"].get<double>(), 1.0);
}

TEST_P(ReportCountsTest, AnEventTypeOnlyOneCampaignCountsIsNoConversionForAnyoneElse) {
  reconfigure("conversions: { campaigns: { webinar: { events: [webinar_signup] } } }");
  person("anna@example.de");
  person("bea@example.de");
  sent(request("r1", "anna@example.de", "email", "webinar", "webinar-dec"), "mail.smtp");
  for (const char* who : {"anna@example.de", "bea@example.de"})
    apply1(rec(std::string("w-") + who, "web", "", {{"customer", who}, {"event_type", "webinar_signup"}}, "event",
               now_ms() + 1000));
  // Anna's sign-up followed the webinar campaign's e-mail; Bea's followed nothing that counts it.
  EXPECT_EQ(credit("last_touch"), (std::map<std::string, double>{{"webinar/email", 1.0}}));
  EXPECT_EQ(campaign("webinar")["funnel"]["converted"], 1);
}

TEST_P(ReportCountsTest, ConversionsOutsideTheWindowOrBeforeTheContactCountForNobody) {
  reconfigure("conversions: { window_days: 1 }");
  person("anna@example.de");
  const std::string mail = request("r1", "anna@example.de", "email", "spring", "savings");
  sent(mail, "mail.smtp");
  apply1(rec("late", "shop", "",
             {{"customer", "anna@example.de"},
              {"event_type", "purchase"},
              {"product", "savings"},
              {"at", now_ms() + 2 * 86'400'000}},
             "event"));
  apply1(rec("early", "shop", "",
             {{"customer", "anna@example.de"},
              {"event_type", "purchase"},
              {"product", "savings"},
              {"at", now_ms() - 86'400'000}},
             "event"));
  apply1(rec("visit", "shop", "", {{"customer", "anna@example.de"}, {"event_type", "web_visit"}}, "event"));
  EXPECT_EQ(campaign("spring")["funnel"]["converted"], 0);
  EXPECT_EQ(credit("first_touch"), (std::map<std::string, double>{{"/", 2.0}}));
}

TEST_P(ReportCountsTest, AHostileRevenueIsRejectedWithItsReason) {
  person("anna@example.de");
  const ApplyStats st = apply1(rec(
      "huge", "shop", "", {{"customer", "anna@example.de"}, {"event_type", "purchase"}, {"revenue", 1e308}}, "event"));
  EXPECT_EQ(st.invalid, 1u);
  const std::vector<DeadLetter> dl = store().dlq_list({});
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_NE(dl[0].reason.find("revenue"), std::string::npos) << dl[0].reason;
  report::ReportQuery q;
  EXPECT_DOUBLE_EQ(reports_->attribution(q)["total"]["conversions"].get<double>(), 0.0);
}

TEST_P(ReportCountsTest, TheQualitySnapshotCountsCompletenessValidityConsentAndFreshness) {
  person("anna@example.de");
  person("carl@example.de", false);
  apply1(rec("p3", "crm", "K-3", {{"first_name", "Eve"}, {"email", "eve@example.de"}, {"email_valid", false}}));
  const Json q = reports_->refresh_quality();
  EXPECT_EQ(q["profiles"], 3);
  EXPECT_EQ(q["completeness"]["email"]["profiles"], 3);
  EXPECT_EQ(q["completeness"]["phone"]["profiles"], 2);
  EXPECT_EQ(q["completeness"]["first_name"]["profiles"], 1);
  EXPECT_EQ(q["validity"]["email"]["invalid"], 1);
  EXPECT_EQ(q["consent_marketing"]["email"]["granted"], 1);
  EXPECT_EQ(q["consent_marketing"]["post"]["granted"], 0);
  ASSERT_FALSE(q["sources"].empty());
  int64_t records = 0;
  for (const Json& s : q["sources"]) records += s["records"].get<int64_t>();
  EXPECT_EQ(records, static_cast<int64_t>(store().stats().records)) << q.dump();
  // Incremental: a second refresh counts only what came since.
  apply1(rec("p4", "crm", "K-4", {{"email", "fred@example.de"}}));
  int64_t again = 0;
  const Json second = reports_->refresh_quality();
  for (const Json& s : second["sources"]) again += s["records"].get<int64_t>();
  EXPECT_EQ(again, records + 1);
  EXPECT_EQ(reports_->quality()["profiles"], 4);  // the stored snapshot
}

TP_INSTANTIATE_FOR_BACKENDS(ReportCountsTest);

}  // namespace
}  // namespace touchpoint::core::test
