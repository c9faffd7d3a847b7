// GDPR: erasure (Art. 17) removes the profile, the profiles merged into it,
// identities, records, timeline, decisions, suppressions, and dead letters
// and outbox entries mentioning the person; it leaves keyed-hash tombstones
// so that a later or replayed record does not bring the person back. Export
// (Art. 15) returns everything held, with lineage. Both, and the other
// admin actions, are in the audit log.

#include <gtest/gtest.h>

#include <regex>

#include "customer_test_util.hpp"

namespace touchpoint::core::test {
namespace {

class CustomerGdpr : public CustomerTest {
 protected:
  /// Anna: CRM K-1 with e-mail and phone, an event, a consent, two
  /// suppressions, a decision, a dead letter and an outbox entry; the web's
  /// profile of her merged in. Ben (K-10) is unrelated and must stay whole.
  std::vector<Record> people() {
    return {
        rec("c1", "crm", "K-1", {{"email", "anna@example.de"}, {"phone", "+4930123456"}, {"first_name", "Anna"}},
            "profile", 1000),
        rec("c2", "crm", "K-10", {{"email", "ben@example.de"}, {"first_name", "Ben"}}, "profile", 1001),
        rec("w1", "web", "W-7", {{"email", "anna.web@example.de"}, {"newsletter", true}}, "profile", 1002),
        rec("e1", "crm", "K-1", {{"event_type", "purchase"}, {"product", "mortgage"}}, "event", 1003),
        rec("e2", "crm", "K-10", {{"event_type", "branch_visit"}}, "event", 1004),
        rec("k1", "web", "",
            {{"customer", "anna@example.de"}, {"channel", "email"}, {"purpose", "marketing"}, {"status", "granted"}},
            "consent", 1005),
        rec("s1", "complaints", "", {{"customer", "anna@example.de"}, {"list", "blacklist"}}, "suppression", 1006),
        rec("s2", "complaints", "", {{"customer", "ben@example.de"}, {"list", "blacklist"}}, "suppression", 1007),
        rec("m1", "shop", "", {{"external_ids", {{"crm", "K-1"}, {"web", "W-7"}}}}, "profile", 1008),
    };
  }
  void build() {
    ApplyBatch b;
    b.journal_seq = 1;
    for (Record& r : people()) b.records.push_back({std::move(r), "p"});
    DeadLetter anna_dl;
    anna_dl.record_id = "x1";
    anna_dl.pipeline = "web";
    anna_dl.step = "source";
    anna_dl.error_class = "rejected";
    anna_dl.reason = "bad line";
    anna_dl.payload = "Anna.Web@Example.de;Berlin;;";  // raw, as typed
    DeadLetter ben_dl = anna_dl;
    ben_dl.record_id = "x2";
    ben_dl.payload = R"({"key":"K-10","data":{"email":"ben@example.de"}})";
    b.dead_letters = {anna_dl, ben_dl};
    OutboxItem anna_out;
    anna_out.sink = "crm.out";
    anna_out.pipeline = "crm";
    anna_out.record_id = "c1";
    anna_out.envelope = R"({"key":"K-1","data":{"first_name":"Anna"}})";
    OutboxItem ben_out = anna_out;
    ben_out.record_id = "c2";
    ben_out.envelope = R"({"key":"K-10","data":{"first_name":"Ben"}})";
    b.outbox = {anna_out, ben_out};
    const ApplyStats st = cs().apply(b);
    ASSERT_EQ(st.applied, 9u);
    ASSERT_EQ(st.merges, 1u);
    ASSERT_EQ(id_of("anna.web@example.de"), 1);
    ASSERT_EQ(id_of("ben@example.de"), 2);
    cs().suppress_add("1", suppression_entry("vip-hold"), customer::Actor{"admin", "10.0.0.7"});
    DecisionRow d;
    d.at = 5000;
    d.profile_id = 1;
    d.customer = "anna@example.de";
    d.proposal = R"({"customer":"anna@example.de","channel":"email"})";
    d.decision = "send";
    d.channel = "email";
    d.reasons = "[]";
    d.rulebook = "rb";
    d.recorded_ms = 5001;
    cs().record_decision(d);
    d.profile_id = 2;
    d.customer = "ben@example.de";
    cs().record_decision(d);
  }
  static SuppressionRow suppression_entry(const std::string& list) {
    SuppressionRow s;
    s.list = list;
    s.reason = "asked by phone";
    return s;
  }
  /// Everything the store shows about Ben, to compare before and after.
  std::string ben() {
    customer::ProfileView v = view_of("ben@example.de");
    Json j = view_json(v);
    j["state"] = v.row.state;
    Strings dl;
    for (const DeadLetter& d : store().dlq_list({}))
      if (d.record_id == "x2") dl.push_back(d.payload);
    j["dead_letters"] = dl;
    Strings out;  // Ben's outbox entries (the depth would count Anna's too)
    for (const OutboxItem& o : store().outbox_due("crm.out", INT64_MAX, INT64_MAX, 100))
      if (o.record_id == "c2") out.push_back(o.envelope);
    j["outbox"] = out;
    return j.dump();
  }
};

TEST_P(CustomerGdpr, EraseRemovesEverythingAboutThePerson) {
  build();
  const std::string ben_before = ben();
  const customer::EraseResult r = cs().erase("anna@example.de", customer::Actor{"dpo", "10.0.0.9"});
  EXPECT_EQ(r.profile_id, 1);
  EXPECT_EQ(r.profiles, 2u);    // her profile and the web's, merged into it
  EXPECT_EQ(r.identities, 5u);  // 2 e-mails, phone, ext:crm, ext:web
  EXPECT_EQ(r.records, 6u);     // c1, w1, e1, k1, s1, m1
  EXPECT_EQ(r.events, 1u);
  EXPECT_EQ(r.decisions, 1u);
  EXPECT_EQ(r.suppressions, 2u);  // blacklist by e-mail, vip-hold by profile id
  EXPECT_EQ(r.dead_letters_and_outbox, 2u);
  EXPECT_EQ(r.tombstones.size(), 5u);
  EXPECT_EQ(r.erased_identities.size(), 5u);

  for (const char* q :
       {"anna@example.de", "anna.web@example.de", "+4930123456", "ext:crm:K-1", "ext:web:W-7", "1", "3"})
    EXPECT_EQ(id_of(q), 0) << q;
  StoreReads& rd = store().reads();
  EXPECT_FALSE(rd.profile(1).has_value());
  EXPECT_FALSE(rd.profile(3).has_value());
  for (int64_t p : {1, 3}) {
    EXPECT_TRUE(rd.identities_of(p).empty());
    EXPECT_TRUE(rd.records_of(p, 0, false).empty());
    EXPECT_TRUE(rd.events_of(p, INT64_MIN).empty());
    EXPECT_TRUE(rd.decisions_of(p, 10).empty());
  }
  EXPECT_TRUE(rd.suppressions_for({"email:anna@example.de", "profile:1"}).empty());
  Strings dl;
  for (const DeadLetter& d : store().dlq_list({})) dl.push_back(d.record_id);
  EXPECT_EQ(dl, Strings{"x2"});
  const std::vector<OutboxItem> out = store().outbox_due("crm.out", INT64_MAX, INT64_MAX, 10);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].record_id, "c2");  // "K-10" is not "K-1"
  const StoreStats st = store().stats();
  EXPECT_EQ(st.profiles, 1u);
  EXPECT_EQ(st.dead_letters, 1u);
  EXPECT_EQ(st.outbox, 1u);
  size_t live = 0;
  rd.each_profile([&](const ProfileRow&) { return ++live > 0; });
  EXPECT_EQ(live, 1u);
  // Ben is untouched.
  EXPECT_EQ(ben(), ben_before);
}

TEST_P(CustomerGdpr, TombstonesAreKeyedHashesNeverThePlainValues) {
  build();
  const customer::EraseResult r = cs().erase("ext:crm:K-1", customer::Actor{"dpo", "local"});
  const std::regex hex("[0-9a-f]{64}");
  for (const std::string& h : r.tombstones) {
    EXPECT_TRUE(std::regex_match(h, hex)) << h;
    EXPECT_TRUE(store().reads().tombstoned(h));
  }
  EXPECT_EQ(r.tombstones.size(), 5u);
  const customer::IdentityKey email{"email", "anna@example.de"};
  const std::string h = cs().tombstone_hash(email);
  EXPECT_NE(std::find(r.tombstones.begin(), r.tombstones.end(), h), r.tombstones.end());
  // Keyed: another key gives another hash; no plain hash of the value is stored.
  CustomerStore other(store(), config_, std::string(64, 'z'));
  EXPECT_NE(other.tombstone_hash(email), h);
  EXPECT_FALSE(store().reads().tombstoned(other.tombstone_hash(email)));
  EXPECT_FALSE(store().reads().tombstoned("anna@example.de"));
  EXPECT_FALSE(store().reads().tombstoned("email:anna@example.de"));
  // The audit entry says what was erased without saying who.
  const std::vector<AuditRow> a = store().reads().audit(1);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].action, "gdpr.erase");
  EXPECT_EQ(a[0].actor, "dpo");
  EXPECT_EQ(a[0].target, "profile:1");
  const Json detail = Json::parse(a[0].detail);
  EXPECT_EQ(detail["records"], 6);
  EXPECT_EQ(detail["profiles"], 2);
  for (const char* plain : {"anna", "K-1", "4930123456", "W-7"})
    EXPECT_EQ(a[0].detail.find(plain), std::string::npos) << plain << " in " << a[0].detail;
}

TEST_P(CustomerGdpr, ALaterOrReplayedRecordOfAnErasedPersonIsDroppedAndCounted) {
  build();
  cs().erase("anna@example.de", customer::Actor{});
  const StoreStats before = store().stats();
  // The journal replays everything.
  const ApplyStats replay = apply(people());
  EXPECT_EQ(replay.applied, 0u);
  EXPECT_EQ(replay.tombstoned, 6u);  // Anna's records
  EXPECT_EQ(replay.duplicates, 3u);  // Ben's
  EXPECT_EQ(replay.profiles_created, 0u);
  EXPECT_EQ(store().stats().profiles, before.profiles);
  // New records naming her by any erased identity, in any spelling.
  const ApplyStats later = apply({
      rec("n1", "crm", "K-1", {{"first_name", "Anna"}}, "profile", 9000),
      rec("n2", "callcenter", "", {{"phone", "+49 30 123456"}}, "profile", 9001),
      rec("n3", "web", "", {{"customer", "ANNA@example.de"}, {"event_type", "web_visit"}}, "event", 9002),
      rec("n4", "web", "", {{"email", "Anna.Web@Example.de"}, {"newsletter", true}}, "profile", 9003),
  });
  EXPECT_EQ(later.tombstoned, 4u);
  EXPECT_EQ(later.applied, 0u);
  EXPECT_EQ(store().stats().profiles, before.profiles);
  for (const char* q : {"anna@example.de", "+4930123456", "ext:crm:K-1"}) EXPECT_EQ(id_of(q), 0) << q;
  // Still after a restart (tombstones are in the store, the key in its file).
  reopen_all();
  EXPECT_EQ(apply(people()).tombstoned, 6u);
  EXPECT_EQ(id_of("anna@example.de"), 0);
  // Someone else is not affected.
  EXPECT_EQ(apply1(rec("n5", "web", "", {{"email", "carla@example.de"}})).profiles_created, 1u);
}

TEST_P(CustomerGdpr, EraseByProfileIdOrAMergedProfileIdTakesTheWholeGroup) {
  build();
  const customer::EraseResult r = cs().erase("3", customer::Actor{});  // the web's profile, merged into 1
  EXPECT_EQ(r.profile_id, 1);
  EXPECT_EQ(r.profiles, 2u);
  EXPECT_EQ(id_of("anna@example.de"), 0);
  EXPECT_EQ(id_of("ben@example.de"), 2);
}

TEST_P(CustomerGdpr, EraseOfSomeoneUnknownOrMalformedIsAnErrorAndChangesNothing) {
  build();
  const StoreStats before = store().stats();
  EXPECT_THROW(cs().erase("nobody@example.de", customer::Actor{}), std::out_of_range);
  EXPECT_THROW(cs().erase("999", customer::Actor{}), std::out_of_range);
  EXPECT_THROW(cs().erase("bogus", customer::Actor{}), std::invalid_argument);
  EXPECT_THROW(cs().erase("test@test.com", customer::Actor{}), std::invalid_argument);
  EXPECT_EQ(store().stats().profiles, before.profiles);
  EXPECT_EQ(id_of("anna@example.de"), 1);
  EXPECT_NE(store().reads().audit(1).at(0).action, "gdpr.erase");
}

// Regression test for a fixed bug (core/customer/customer_admin.cpp CustomerStore::erase, needles for
// e-mails, and core/store/sqlite_conn.cpp delete_payloads_mentioning): an
// e-mail needle is matched as a bare substring, so erasing a@example.de
// also deletes every dead letter and outbox entry of anna@example.de,
// maria@example.de, ... (other people's data, lost without a trace). The
// e-mail must match as a whole address: not preceded by a character of an
// address's local part ([A-Za-z0-9._%+-]); e.g. select candidates with
// instr() and check the character before each match in C++ before deleting
// by id (a trailing boundary is not needed to protect anyone).
TEST_P(CustomerGdpr, EraseKeepsOtherPeoplesDeadLettersWhoseAddressContainsTheErasedOne) {
  ApplyBatch b;
  b.records.push_back({rec("a", "crm", "", {{"email", "a@example.de"}}), "p"});
  DeadLetter d;
  d.record_id = "x";
  d.pipeline = "web";
  d.step = "source";
  d.error_class = "rejected";
  d.reason = "bad line";
  for (const char* other : {"anna@example.de;Berlin", R"({"email":"maria@example.de"})"}) {
    d.payload = other;
    b.dead_letters.push_back(d);
  }
  d.payload = R"({"email":"a@example.de"})";  // hers
  b.dead_letters.push_back(d);
  cs().apply(b);
  const customer::EraseResult r = cs().erase("a@example.de", customer::Actor{});
  EXPECT_EQ(r.dead_letters_and_outbox, 1u);
  Strings left;
  for (const DeadLetter& x : store().dlq_list({})) left.push_back(x.payload);
  EXPECT_EQ(left, (Strings{"anna@example.de;Berlin", R"({"email":"maria@example.de"})"}));
}

// Regression test for a fixed bug (core/customer/customer_store.cpp apply_record: a suppression record
// for an identity without a profile is stored with profile_id 0, and
// core/customer/customer_admin.cpp erase deletes records by profile only): a
// blacklist record that named the person before their profile existed stays
// in the store with their e-mail address in it after erasure. Either attach
// such records to the profile when it is created (set_record_profile for the
// records whose data.customer names a new identity), or have erase delete the
// records that name one of the erased identities.
TEST_P(CustomerGdpr, EraseRemovesRecordsThatNamedThePersonBeforeTheyHadAProfile) {
  apply1(rec("s0", "registry", "", {{"customer", "carla@example.de"}, {"list", "robinson"}}, "suppression", 10));
  apply1(rec("p0", "web", "", {{"email", "carla@example.de"}}, "profile", 20));
  cs().erase("carla@example.de", customer::Actor{});
  for (const RecordRow& r : store().reads().records_of(0, 0, false))
    EXPECT_EQ(r.data.find("carla"), std::string::npos) << "record " << r.id << " still holds " << r.data;
}

// Regression test for a fixed bug (core/store/sqlite_store.cpp Txn::new_profile_id: MAX(id)+1): after
// the newest customer is erased, the next new customer gets the erased
// person's profile id, and with it the merge and conflict rows kept under
// that id (and whatever external systems still hold about "profile 2").
TEST_P(CustomerGdpr, ANewCustomerAfterAnErasureGetsAFreshProfileId) {
  apply({rec("a", "crm", "K-1", {{"email", "a@x.de"}}), rec("b", "crm", "K-2", {{"email", "b@x.de"}})});
  ASSERT_EQ(id_of("b@x.de"), 2);
  cs().erase("b@x.de", customer::Actor{});
  apply1(rec("c", "crm", "K-3", {{"email", "c@x.de"}}));
  EXPECT_GT(id_of("c@x.de"), 2) << "the erased person's profile id was handed out again";
}

TEST_P(CustomerGdpr, ExportHasEverythingHeldWithLineage) {
  build();
  const Json doc = cs().export_person("ANNA@example.de", customer::Actor{"dpo", "10.0.0.9"});
  EXPECT_EQ(doc["format"], "touchpoint.gdpr-export.v1");
  EXPECT_TRUE(doc["exported"].is_string());
  EXPECT_EQ(doc["id"], 1);
  EXPECT_EQ(doc["merged_profiles"], Json::array({3}));
  // Attributes with where they came from.
  EXPECT_EQ(doc["attributes"]["first_name"]["value"], "Anna");
  EXPECT_EQ(doc["attributes"]["first_name"]["from"]["source"], "crm");
  EXPECT_EQ(doc["attributes"]["first_name"]["from"]["record_id"], "c1");
  EXPECT_EQ(doc["attributes"]["newsletter"]["from"]["source"], "web");
  // Every source's candidate, not only the winners.
  const Json& email = doc["candidates_by_source"]["email"];
  EXPECT_EQ(email["crm"]["value"], "anna@example.de");
  EXPECT_EQ(email["crm"]["record_id"], "c1");
  EXPECT_EQ(email["crm"]["at"], "1970-01-01T00:00:01.000Z");
  EXPECT_EQ(email["web"]["value"], "anna.web@example.de");
  EXPECT_EQ(email["web"]["first_value"], "anna.web@example.de");
  // Identities, consents, suppressions, timeline, records, decisions, merges.
  EXPECT_EQ(doc["identities"].size(), 5u);
  ASSERT_EQ(doc["consents"].size(), 1u);
  EXPECT_EQ(doc["consents"][0]["status"], "granted");
  EXPECT_EQ(doc["consents"][0]["record_id"], "k1");
  EXPECT_EQ(doc["suppressions"].size(), 2u);
  EXPECT_EQ(doc["timeline"].size(), 1u);
  EXPECT_EQ(doc["records"].size(), 6u);
  EXPECT_EQ(doc["decisions"].size(), 1u);
  EXPECT_EQ(doc["merges"].size(), 1u);
  // Nothing about Ben.
  EXPECT_EQ(doc.dump().find("ben@example.de"), std::string::npos);
  EXPECT_EQ(doc.dump().find("K-10"), std::string::npos);
  // Audited, without the person's data.
  const std::vector<AuditRow> a = store().reads().audit(1);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].action, "gdpr.export");
  EXPECT_EQ(a[0].actor, "dpo");
  EXPECT_EQ(a[0].address, "10.0.0.9");
  EXPECT_EQ(a[0].target, "profile:1");
  EXPECT_EQ(Json::parse(a[0].detail)["records"], 6);
  // Unknown and malformed references.
  EXPECT_THROW(cs().export_person("nobody@example.de", customer::Actor{}), std::out_of_range);
  EXPECT_THROW(cs().export_person("bogus", customer::Actor{}), std::invalid_argument);
}

TEST_P(CustomerGdpr, AdminActionsAreAuditedWithMaskedTargets) {
  apply1(rec("a", "crm", "K-1", {{"email", "anna@example.de"}}));
  customer::Actor admin{"ops-token", "192.0.2.4"};
  customer::Actor cli{"cli:root", "local"};
  SuppressionRow s;
  s.list = "blacklist";
  s.reason = "complaint";
  s.channels = {"email"};
  s.until_ms = 99;
  cs().suppress_add("anna@example.de", s, admin);
  cs().suppress_add("1", s, cli);
  EXPECT_EQ(cs().suppress_remove("blacklist", "anna@example.de", admin), 1u);
  EXPECT_EQ(cs().suppress_remove("blacklist", "anna@example.de", admin), 0u);
  cs().audit(cli, "dlq.purge", "pipeline web", Json{{"purged", 3}});
  const std::vector<AuditRow> a = store().reads().audit(10);
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[4].action, "suppress.add");
  EXPECT_EQ(a[4].actor, "ops-token");
  EXPECT_EQ(a[4].address, "192.0.2.4");
  EXPECT_EQ(a[4].target.rfind("blacklist ", 0), 0u) << a[4].target;
  EXPECT_EQ(a[4].target.find("anna"), std::string::npos) << a[4].target;  // masked
  EXPECT_EQ(Json::parse(a[4].detail),
            (Json{{"list", "blacklist"}, {"reason", "complaint"}, {"channels", {"email"}}, {"until", 99}}));
  EXPECT_EQ(a[3].target, "blacklist profile:1");
  EXPECT_EQ(a[3].actor, "cli:root");
  EXPECT_EQ(a[2].action, "suppress.remove");
  EXPECT_EQ(Json::parse(a[2].detail)["removed"], 1);
  EXPECT_EQ(a[2].target.find("anna@"), std::string::npos) << a[2].target;
  EXPECT_EQ(Json::parse(a[1].detail)["removed"], 0);
  EXPECT_EQ(a[0].action, "dlq.purge");
  EXPECT_EQ(a[0].target, "pipeline web");
  EXPECT_GT(a[0].at, 0);
  // The suppression entries themselves name who added them.
  const std::vector<SuppressionRow> rows = store().reads().suppressions_for({"profile:1"});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].source, "cli:root");
  EXPECT_EQ(rows[0].channels, Strings{"email"});
  EXPECT_EQ(rows[0].until_ms, 99);
  // Bad references are refused before anything is written.
  EXPECT_THROW(cs().suppress_add("bogus", s, admin), std::invalid_argument);
  EXPECT_THROW(cs().suppress_add("999", s, admin), std::invalid_argument);
  EXPECT_EQ(store().reads().audit(10).size(), 5u);
}

INSTANTIATE_TEST_SUITE_P(Backends, CustomerGdpr, ::testing::ValuesIn(backends()), backend_name);

}  // namespace
}  // namespace touchpoint::core::test
