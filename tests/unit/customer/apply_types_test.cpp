// How the store applies each record type (docs/customer-model.md, "Record types"): profile
// attributes, timeline events with typed fields, consent statements (the
// latest by its own time wins), suppression list entries by identity, by
// profile id, and for identities without a profile yet. A record whose
// typed fields are wrong becomes a dead letter with the reason; the rest of
// its batch is applied.

#include <gtest/gtest.h>

#include "customer_test_util.hpp"

namespace touchpoint::core::test {
namespace {

using CustomerApply = CustomerTest;

TEST_P(CustomerApply, AProfileRecordCreatesAProfileWithItsIdentitiesAttributesAndLineage) {
  ApplyBatch b;
  b.journal_seq = 3;
  b.records.push_back(
      {rec("r1", "crm", "K-1", {{"email", " Anna@Example.DE "}, {"first_name", "Anna"}, {"phone", "+49 30 123456"}},
           "profile", 1500),
       "crm-import"});
  b.checkpoints["crm"] = "offset=1";
  const ApplyStats st = cs().apply(b);
  EXPECT_EQ(st.applied, 1u);
  EXPECT_EQ(st.profiles_created, 1u);
  EXPECT_EQ(st.duplicates, 0u);
  EXPECT_EQ(st.merges, 0u);
  EXPECT_EQ(store().journal_position(), 3u);
  EXPECT_EQ(store().checkpoints().at("crm"), "offset=1");

  const int64_t p = id_of("anna@example.de");
  ASSERT_NE(p, 0);
  EXPECT_EQ(id_of("ext:crm:K-1"), p);
  EXPECT_EQ(id_of("+4930123456"), p);
  EXPECT_EQ(id_of("phone:+49 30 123456"), p);
  EXPECT_EQ(id_of(std::to_string(p)), p);
  EXPECT_EQ(identities_of("anna@example.de"), (Strings{"email:anna@example.de", "ext:crm:K-1", "phone:+4930123456"}));
  for (const IdentityRow& i : store().reads().identities_of(p)) {
    EXPECT_EQ(i.source, "crm");
    EXPECT_EQ(i.origin_profile, p);
  }
  const Json a = attributes_of("anna@example.de");
  EXPECT_EQ(a["first_name"], "Anna");
  EXPECT_EQ(lineage_of("anna@example.de", "first_name"),
            (Json{{"source", "crm"}, {"record_id", "r1"}, {"ts", 1500}, {"rule", "most_recent"}}));
  const std::vector<RecordRow> recs = store().reads().records_of(p, 0, false);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].id, "r1");
  EXPECT_EQ(recs[0].pipeline, "crm-import");
  EXPECT_EQ(recs[0].key, "K-1");
  EXPECT_EQ(recs[0].ts_ms, 1500);
  EXPECT_EQ(recs[0].origin_profile, p);
  EXPECT_EQ(Json::parse(recs[0].data)["first_name"], "Anna");
  EXPECT_EQ(store().stats().profiles, 1u);
  EXPECT_EQ(store().stats().records, 1u);
}

TEST_P(CustomerApply, AnEventGoesToTheTimelineWithItsTypedFieldsAndChangesNoAttribute) {
  apply1(rec("p1", "crm", "K-1", {{"email", "anna@example.de"}, {"city", "Ulm"}}));
  const ApplyStats st =
      apply({rec("e1", "web", "",
                 {{"customer", "anna@example.de"},
                  {"event_type", "purchase"},
                  {"at", "2026-03-02T10:00:00Z"},
                  {"channel", "web"},
                  {"purpose", "service"},
                  {"product", "Baufinanzierung 10 Jahre"},
                  {"category", "credit"},
                  {"campaign", "spring-2026"},
                  {"offer", "o-17"},
                  {"revenue", 1234.5},
                  {"city", "not an attribute"}},
                 "event", 5000),
             rec("e2", "branch", "", {{"customer", "ext:crm:K-1"}, {"event_type", "branch_visit"}}, "event",
                 ms("2026-03-01T09:00:00Z")),
             rec("e3", "shop", "", {{"customer", "1"}, {"event_type", "web_visit"}, {"revenue", 0}}, "event",
                 ms("2026-02-01T09:00:00Z")),
             rec("e4", "shop", "",
                 {{"customer", "profile:1"}, {"event_type", "newsletter_click"}, {"at", ms("2026-01-01T00:00:00Z")}},
                 "event", 1)});
  EXPECT_EQ(st.applied, 4u);
  EXPECT_EQ(st.invalid, 0u);
  EXPECT_EQ(st.profiles_created, 0u);
  const int64_t p = id_of("anna@example.de");
  ASSERT_EQ(p, 1);
  const std::vector<EventRow> ev = store().reads().events_of(p, INT64_MIN);
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].event_type, "purchase");
  EXPECT_EQ(ev[0].at, ms("2026-03-02T10:00:00Z"));  // data.at, not the record's ts
  EXPECT_EQ(ev[0].channel, "web");
  EXPECT_EQ(ev[0].purpose, "service");
  EXPECT_EQ(ev[0].product, "Baufinanzierung 10 Jahre");
  EXPECT_EQ(ev[0].category, "credit");
  EXPECT_EQ(ev[0].campaign, "spring-2026");
  EXPECT_EQ(ev[0].offer, "o-17");
  EXPECT_TRUE(ev[0].has_revenue);
  EXPECT_DOUBLE_EQ(ev[0].revenue, 1234.5);
  EXPECT_GT(ev[0].record_seq, 0);
  EXPECT_EQ(ev[1].event_type, "branch_visit");
  EXPECT_EQ(ev[1].at, ms("2026-03-01T09:00:00Z"));  // default: the record's ts
  EXPECT_FALSE(ev[1].has_revenue);
  EXPECT_EQ(ev[2].event_type, "web_visit");
  EXPECT_TRUE(ev[2].has_revenue);  // 0 is a revenue
  EXPECT_EQ(ev[3].event_type, "newsletter_click");
  EXPECT_EQ(ev[3].at, ms("2026-01-01T00:00:00Z"));  // integer milliseconds
  EXPECT_EQ(attributes_of("anna@example.de"), (Json{{"email", "anna@example.de"}, {"city", "Ulm"}}));
  EXPECT_EQ(store().reads().records_of(p, 0, false).size(), 5u);
}

TEST_P(CustomerApply, AnEventForANewIdentityCreatesItsProfile) {
  const ApplyStats st =
      apply1(rec("e1", "web", "", {{"email", "new@example.de"}, {"event_type", "web_visit"}}, "event"));
  EXPECT_EQ(st.applied, 1u);
  EXPECT_EQ(st.profiles_created, 1u);
  const int64_t p = id_of("new@example.de");
  ASSERT_NE(p, 0);
  EXPECT_EQ(store().reads().events_of(p, INT64_MIN).size(), 1u);
}

struct BadRecord {
  std::string name;
  std::string type;
  Json data;
  std::string reason;  ///< a part of the dead letter's reason
};

TEST_P(CustomerApply, RecordsWithWrongTypedFieldsAreDeadLetteredWithTheReason) {
  apply1(rec("p1", "crm", "K-1", {{"email", "anna@example.de"}}));
  const std::vector<BadRecord> bad = {
      {"no_event_type", "event", {{"customer", "anna@example.de"}}, "an event needs data.event_type"},
      {"event_type_number",
       "event",
       {{"customer", "anna@example.de"}, {"event_type", 5}},
       "data.event_type must be a string"},
      {"event_type_spaces",
       "event",
       {{"customer", "anna@example.de"}, {"event_type", "branch visit"}},
       "data.event_type 'branch visit' may only use letters"},
      {"revenue_text",
       "event",
       {{"customer", "anna@example.de"}, {"event_type", "purchase"}, {"revenue", "12"}},
       "data.revenue must be a number"},
      {"at_text",
       "event",
       {{"customer", "anna@example.de"}, {"event_type", "purchase"}, {"at", "yesterday"}},
       "data.at must be an RFC 3339 date-time"},
      {"channel_list",
       "event",
       {{"customer", "anna@example.de"}, {"event_type", "purchase"}, {"channel", {"web"}}},
       "data.channel must be a string"},
      {"product_long",
       "event",
       {{"customer", "anna@example.de"}, {"event_type", "purchase"}, {"product", std::string(300, 'x')}},
       "data.product is longer than 256 bytes"},
      {"customer_empty",
       "event",
       {{"customer", ""}, {"event_type", "purchase"}},
       "data.customer: the customer reference is empty"},
      {"customer_unknown_id",
       "event",
       {{"customer", "999"}, {"event_type", "purchase"}},
       "data.customer: no profile 999"},
      {"customer_garbage",
       "event",
       {{"customer", "nobody"}, {"event_type", "purchase"}},
       "data.customer: 'nobody' is not an e-mail address"},
      {"customer_blocked",
       "consent",
       {{"customer", "test@test.com"}, {"channel", "email"}, {"purpose", "marketing"}, {"status", "granted"}},
       "data.customer: email 'test@test.com' cannot identify a customer"},
      {"nobody_named", "event", {{"event_type", "purchase"}}, "names no customer"},
      {"consent_fax",
       "consent",
       {{"customer", "anna@example.de"}, {"channel", "fax"}, {"purpose", "marketing"}, {"status", "granted"}},
       "data.channel must be email, phone, sms or post, not 'fax'"},
      {"consent_no_purpose",
       "consent",
       {{"customer", "anna@example.de"}, {"channel", "email"}, {"status", "granted"}},
       "a consent needs data.purpose"},
      {"consent_maybe",
       "consent",
       {{"customer", "anna@example.de"}, {"channel", "email"}, {"purpose", "marketing"}, {"status", "maybe"}},
       "data.status must be granted, denied or revoked, not 'maybe'"},
      {"consent_bad_at",
       "consent",
       {{"customer", "anna@example.de"},
        {"channel", "email"},
        {"purpose", "marketing"},
        {"status", "granted"},
        {"at", "2026-13-01T00:00:00Z"}},
       "data.at must be an RFC 3339 date-time"},
      {"suppression_no_list", "suppression", {{"customer", "anna@example.de"}}, "a suppression needs data.list"},
      {"suppression_pause",
       "suppression",
       {{"customer", "anna@example.de"}, {"list", "b"}, {"action", "pause"}},
       "data.action must be add or remove, not 'pause'"},
      {"suppression_fax",
       "suppression",
       {{"customer", "anna@example.de"}, {"list", "b"}, {"channels", {"fax"}}},
       "data.channels may only hold email, phone, sms, post"},
      {"suppression_channels_text",
       "suppression",
       {{"customer", "anna@example.de"}, {"list", "b"}, {"channels", "email"}},
       "data.channels must be a list"},
      {"suppression_no_customer", "suppression", {{"list", "b"}}, "a suppression needs data.customer"},
      {"suppression_bad_until",
       "suppression",
       {{"customer", "anna@example.de"}, {"list", "b"}, {"until", "soon"}},
       "data.until must be an RFC 3339 date-time"},
  };
  std::vector<Record> batch;
  for (const BadRecord& x : bad) batch.push_back(rec(x.name, "web", "", x.data, x.type));
  batch.push_back(rec("good", "web", "", {{"customer", "anna@example.de"}, {"event_type", "purchase"}}, "event"));
  const ApplyStats st = apply(batch, 9);
  EXPECT_EQ(st.invalid, bad.size());
  EXPECT_EQ(st.applied, 1u);  // the rest of the batch is applied
  EXPECT_EQ(st.profiles_created, 0u);
  EXPECT_EQ(store().journal_position(), 9u);

  DlqFilter all;
  all.limit = 1000;
  const std::vector<DeadLetter> dl = store().dlq_list(all);
  ASSERT_EQ(dl.size(), bad.size());
  for (size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(bad[i].name);
    EXPECT_EQ(dl[i].record_id, bad[i].name);
    EXPECT_EQ(dl[i].pipeline, "p");
    EXPECT_EQ(dl[i].step, "store");
    EXPECT_EQ(dl[i].error_class, "invalid");
    EXPECT_NE(dl[i].reason.find(bad[i].reason), std::string::npos) << dl[i].reason;
    const Json payload = Json::parse(dl[i].payload);
    EXPECT_EQ(payload["id"], bad[i].name);
    EXPECT_EQ(payload["type"], bad[i].type);
    EXPECT_EQ(dl[i].state, "new");
  }
  // Nothing of them was stored.
  const int64_t p = id_of("anna@example.de");
  EXPECT_EQ(store().reads().records_of(p, 0, false).size(), 2u);
  EXPECT_EQ(store().reads().events_of(p, INT64_MIN).size(), 1u);
  EXPECT_TRUE(store().reads().suppressions("", 100).empty());
  EXPECT_TRUE(cs().view(p)->state.consents().empty());
  EXPECT_EQ(store().stats().profiles, 1u);
  EXPECT_EQ(store().stats().records, 2u);
  // A dead-lettered record is not a duplicate: fixed and replayed, it is applied.
  const ApplyStats again = apply1(
      rec("no_event_type", "web", "", {{"customer", "anna@example.de"}, {"event_type", "branch_visit"}}, "event"));
  EXPECT_EQ(again.applied, 1u);
}

TEST_P(CustomerApply, TheLatestConsentStatementByItsOwnTimeWinsWhateverTheArrivalOrder) {
  apply1(rec("p1", "crm", "K-1", {{"email", "anna@example.de"}}));
  auto consent = [](std::string id, std::string status, std::string at, Json extra = Json::object()) {
    Json d{{"customer", "anna@example.de"},
           {"channel", "email"},
           {"purpose", "marketing"},
           {"status", status},
           {"at", at}};
    d.update(extra);
    return rec(std::move(id), "web", "", d, "consent", 1);
  };
  apply1(consent("c2", "granted", "2026-03-02T10:00:00Z", {{"evidence", {{"ip", "192.0.2.1"}, {"form", "nl-1"}}}}));
  apply1(consent("c1", "denied", "2026-03-01T10:00:00Z"));  // older, arrives later: no effect
  customer::ProfileView v = view_of("anna@example.de");
  ASSERT_EQ(v.state.consents().count("email/marketing"), 1u);
  customer::Consent c = v.state.consents().at("email/marketing");
  EXPECT_EQ(c.status, "granted");
  EXPECT_EQ(c.at, ms("2026-03-02T10:00:00Z"));
  EXPECT_EQ(c.source, "web");
  EXPECT_EQ(c.record_id, "c2");
  EXPECT_EQ(c.evidence, (Json{{"ip", "192.0.2.1"}, {"form", "nl-1"}}));

  apply1(consent("c3", "revoked", "2026-03-03T10:00:00Z"));
  c = view_of("anna@example.de").state.consents().at("email/marketing");
  EXPECT_EQ(c.status, "revoked");
  EXPECT_EQ(c.record_id, "c3");
  EXPECT_TRUE(c.evidence.is_null());
  // The same time: the later statement (in apply order) wins.
  apply1(consent("c4", "granted", "2026-03-03T10:00:00Z"));
  EXPECT_EQ(view_of("anna@example.de").state.consents().at("email/marketing").status, "granted");
  // Channels and purposes are independent; the record's ts is the default time.
  apply1(rec("c5", "crm", "",
             {{"customer", "ext:crm:K-1"}, {"channel", "phone"}, {"purpose", "credit_offers"}, {"status", "denied"}},
             "consent", 777));
  v = view_of("anna@example.de");
  EXPECT_EQ(v.state.consents().size(), 2u);
  EXPECT_EQ(v.state.consents().at("phone/credit_offers").status, "denied");
  EXPECT_EQ(v.state.consents().at("phone/credit_offers").at, 777);
  EXPECT_EQ(v.state.consents().at("email/marketing").status, "granted");
  // Consents are no attributes.
  EXPECT_EQ(attributes_of("anna@example.de"), (Json{{"email", "anna@example.de"}}));
}

TEST_P(CustomerApply, SuppressionsByIdentityByProfileIdAndForAnIdentityWithoutAProfile) {
  apply1(rec("p1", "crm", "K-1", {{"email", "anna@example.de"}}));
  const ApplyStats st = apply({
      rec("s1", "complaints", "",
          {{"customer", "Anna@Example.de"},
           {"list", "blacklist"},
           {"reason", "complaint"},
           {"channels", {"email", "sms"}},
           {"until", "2027-01-01T00:00:00Z"}},
          "suppression"),
      rec("s2", "complaints", "", {{"customer", "1"}, {"list", "vip-hold"}, {"reason", "key account"}}, "suppression"),
      rec("s3", "registry", "", {{"customer", " Ben@Example.DE "}, {"list", "deceased"}}, "suppression"),
      rec("s4", "crm", "", {{"customer", "ext:crm:K-9"}, {"list", "blacklist"}}, "suppression"),
  });
  EXPECT_EQ(st.applied, 4u);
  EXPECT_EQ(st.profiles_created, 0u);  // a suppression creates no profile
  EXPECT_EQ(store().stats().profiles, 1u);
  EXPECT_EQ(id_of("ben@example.de"), 0);
  std::vector<SuppressionRow> all = store().reads().suppressions("", 100);
  Strings subj;
  for (const SuppressionRow& s : all) subj.push_back(s.list + "/" + s.subject);
  EXPECT_EQ(subj, (Strings{"blacklist/email:anna@example.de", "blacklist/ext:crm:K-9", "deceased/email:ben@example.de",
                           "vip-hold/profile:1"}));
  const SuppressionRow& s1 = all[0];
  EXPECT_EQ(s1.reason, "complaint");
  EXPECT_EQ(s1.channels, (Strings{"email", "sms"}));
  EXPECT_EQ(s1.until_ms, ms("2027-01-01T00:00:00Z"));
  EXPECT_EQ(s1.source, "complaints");
  EXPECT_GT(s1.added_ms, 0);

  // Ben's profile comes later: the list entry for his address applies to it.
  apply1(rec("p2", "web", "", {{"email", "ben@example.de"}}));
  std::optional<rules::CustomerSnapshot> ben = cs().snapshot(id_of("ben@example.de"), 0);
  ASSERT_TRUE(ben.has_value());
  ASSERT_EQ(ben->suppressions.size(), 1u);
  EXPECT_EQ(ben->suppressions[0].list, "deceased");

  // Removal by record, by identity and by profile id.
  const ApplyStats rm = apply({
      rec("s5", "complaints", "", {{"customer", "anna@example.de"}, {"list", "blacklist"}, {"action", "remove"}},
          "suppression"),
      rec("s6", "complaints", "", {{"customer", "profile:1"}, {"list", "vip-hold"}, {"action", "remove"}},
          "suppression"),
      rec("s7", "complaints", "", {{"customer", "anna@example.de"}, {"list", "never-there"}, {"action", "remove"}},
          "suppression"),
  });
  EXPECT_EQ(rm.applied, 3u);
  subj.clear();
  for (const SuppressionRow& s : store().reads().suppressions("", 100)) subj.push_back(s.list + "/" + s.subject);
  EXPECT_EQ(subj, (Strings{"blacklist/ext:crm:K-9", "deceased/email:ben@example.de"}));
}

// Regression test for a fixed bug (core/customer/customer_effects.cpp CustomerStore::apply_suppression:
// r.data.value("customer", "")): a suppression whose data.customer is not a
// string (42, {}) passes typed_fields (which only checks that the key
// exists), and nlohmann's value() then throws type_error 302 out of apply():
// the whole batch fails, every time it is replayed: one bad record stops the
// store. It must be dead-lettered like every other wrong field (or, for an
// integer, be taken as a profile id).
TEST_P(CustomerApply, ASuppressionWithANonStringCustomerDoesNotFailTheBatch) {
  apply1(rec("p1", "crm", "K-1", {{"email", "anna@example.de"}}));
  std::vector<Record> batch = {
      rec("s1", "web", "", {{"customer", 1}, {"list", "blacklist"}}, "suppression"),
      rec("s2", "web", "", {{"customer", {{"email", "anna@example.de"}}}, {"list", "blacklist"}}, "suppression"),
      rec("ok", "web", "", {{"customer", "anna@example.de"}, {"event_type", "purchase"}}, "event"),
  };
  ApplyStats st;
  ASSERT_NO_THROW(st = apply(batch, 4));
  EXPECT_EQ(store().journal_position(), 4u);
  EXPECT_EQ(st.applied + st.invalid, 3u);
  for (const char* id : {"s1", "s2"}) {
    bool dead = false;
    for (const DeadLetter& d : store().dlq_list({})) dead |= d.record_id == id;
    bool suppressed = !store().reads().suppressions_for({"profile:1"}).empty();
    EXPECT_TRUE(dead || suppressed) << id << " was neither applied nor dead-lettered";
  }
}

TEST_P(CustomerApply, OtherRecordTypesAreKeptOnTheProfileWithoutEffects) {
  apply1(rec("p1", "crm", "K-1", {{"email", "anna@example.de"}, {"city", "Ulm"}}));
  const ApplyStats st = apply1(rec("m1", "mailer", "", {{"email", "anna@example.de"}, {"city", "Bonn"}}, "message"));
  EXPECT_EQ(st.applied, 1u);
  EXPECT_EQ(attributes_of("anna@example.de")["city"], "Ulm");
  const std::vector<RecordRow> recs = store().reads().records_of(id_of("anna@example.de"), 0, true);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].id, "m1");
  EXPECT_EQ(recs[0].type, "message");
  EXPECT_TRUE(store().reads().events_of(id_of("anna@example.de"), INT64_MIN).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, CustomerApply, ::testing::ValuesIn(backends()), backend_name);

}  // namespace
}  // namespace touchpoint::core::test
