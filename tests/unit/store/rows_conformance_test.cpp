// Store conformance, part 2: every row operation of StoreTxn and StoreReads.
// Identities (with move and origin), profiles (put, get, merged_into,
// each_profile, new ids), records (idempotent per source and id, in seq
// order, move/set/delete), the timeline (revenue null vs a value),
// suppressions, merges, conflicts, decisions, audit, tombstones and the
// GDPR payload deletion. Reads are checked on the transaction and, after
// commit, on the shared read connection.

#include <gtest/gtest.h>

#include <algorithm>

#include "backend.hpp"
#include "rows_util.hpp"

namespace touchpoint::core::test {
namespace {

using RowsConformance = BackendTest;
using Strings = std::vector<std::string>;

// ------------------------------------------------------------------ identities

TEST_P(RowsConformance, IdentitiesRoundTripAndAreListedByKindAndValue) {
  auto t = store().begin();
  t->add_identity(IdentityRow{"phone", "+4930123456", 1, 1, "callcenter", 111});
  t->add_identity(IdentityRow{"email", "anna@example.de", 1, 1, "crm", 222});
  t->add_identity(IdentityRow{"ext:crm", "K-1", 1, 1, "crm", 333});
  t->add_identity(IdentityRow{"email", "ben@example.de", 2, 2, "web", 444});
  t->commit();
  for (StoreReads* r : {&store().reads()}) {
    EXPECT_EQ(r->identity_profile("email", "anna@example.de"), 1);
    EXPECT_EQ(r->identity_profile("ext:crm", "K-1"), 1);
    EXPECT_EQ(r->identity_profile("email", "ben@example.de"), 2);
    EXPECT_FALSE(r->identity_profile("email", "nobody@example.de").has_value());
    EXPECT_FALSE(r->identity_profile("phone", "anna@example.de").has_value());  // kind is part of the key
    const std::vector<IdentityRow> ids = r->identities_of(1);
    EXPECT_EQ(identity_texts(ids), (Strings{"email:anna@example.de@1", "ext:crm:K-1@1", "phone:+4930123456@1"}));
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(ids[0].source, "crm");
    EXPECT_EQ(ids[0].first_seen_ms, 222);
    EXPECT_EQ(ids[0].origin_profile, 1);
    EXPECT_EQ(ids[2].source, "callcenter");
    EXPECT_EQ(ids[2].first_seen_ms, 111);
    EXPECT_TRUE(r->identities_of(3).empty());
  }
}

TEST_P(RowsConformance, IdentityValuesAreStoredExactly) {
  // Normalisation is the customer model's business: the backend compares bytes.
  auto t = store().begin();
  t->add_identity(identity_row("email", "Anna@Example.de", 1));
  t->add_identity(identity_row("email", "anna@example.de", 2));
  t->add_identity(identity_row("ext:crm", "Müller \"K-1\" 'x'", 3));
  t->commit();
  EXPECT_EQ(store().reads().identity_profile("email", "Anna@Example.de"), 1);
  EXPECT_EQ(store().reads().identity_profile("email", "anna@example.de"), 2);
  EXPECT_EQ(store().reads().identity_profile("ext:crm", "Müller \"K-1\" 'x'"), 3);
  EXPECT_FALSE(store().reads().identity_profile("email", "ANNA@EXAMPLE.DE").has_value());
}

TEST_P(RowsConformance, AddingAnExistingIdentityAgainChangesNothing) {
  auto t = store().begin();
  t->add_identity(IdentityRow{"email", "a@x.de", 1, 1, "crm", 10});
  t->add_identity(IdentityRow{"email", "a@x.de", 2, 2, "web", 20});  // first reporter wins
  EXPECT_EQ(t->identity_profile("email", "a@x.de"), 1);
  t->commit();
  const std::vector<IdentityRow> ids = store().reads().identities_of(1);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].source, "crm");
  EXPECT_EQ(ids[0].first_seen_ms, 10);
  EXPECT_TRUE(store().reads().identities_of(2).empty());
}

TEST_P(RowsConformance, IdentitiesMoveButKeepTheirOrigin) {
  auto t = store().begin();
  t->add_identity(identity_row("email", "a@x.de", 1));
  t->add_identity(identity_row("ext:crm", "K-1", 1));
  t->add_identity(identity_row("email", "b@x.de", 2));
  t->add_identity(identity_row("email", "c@x.de", 3));
  t->move_identities(2, 1);  // 2 merged into 1
  EXPECT_EQ(identity_texts(t->identities_of(1)), (Strings{"email:a@x.de@1", "email:b@x.de@1", "ext:crm:K-1@1"}));
  EXPECT_TRUE(t->identities_of(2).empty());
  t->set_identity_profile("email", "c@x.de", 1);
  t->commit();

  StoreReads& r = store().reads();
  EXPECT_EQ(r.identity_profile("email", "b@x.de"), 1);
  EXPECT_EQ(r.identity_profile("email", "c@x.de"), 1);
  // The origin is where each was first attached: unmerge splits along it.
  std::vector<IdentityRow> two = r.identities_with_origin({2});
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].value, "b@x.de");
  EXPECT_EQ(two[0].profile_id, 1);
  EXPECT_EQ(two[0].origin_profile, 2);
  EXPECT_EQ(identity_texts(r.identities_with_origin({2, 3})), (Strings{"email:b@x.de@1", "email:c@x.de@1"}));
  EXPECT_EQ(r.identities_with_origin({1}).size(), 2u);
  EXPECT_TRUE(r.identities_with_origin({}).empty());
  EXPECT_TRUE(r.identities_with_origin({99}).empty());

  // Moving back one by one (what unmerge does).
  auto u = store().begin();
  for (const IdentityRow& i : u->identities_with_origin({2})) u->set_identity_profile(i.kind, i.value, 2);
  u->commit();
  EXPECT_EQ(identity_texts(r.identities_of(2)), Strings{"email:b@x.de@2"});
  EXPECT_EQ(r.identities_of(2)[0].origin_profile, 2);
}

TEST_P(RowsConformance, DeleteIdentitiesOfOneProfileOnly) {
  auto t = store().begin();
  t->add_identity(identity_row("email", "a@x.de", 1));
  t->add_identity(identity_row("phone", "+4930123456", 1));
  t->add_identity(identity_row("email", "b@x.de", 2));
  t->delete_identities_of(1);
  t->commit();
  EXPECT_TRUE(store().reads().identities_of(1).empty());
  EXPECT_FALSE(store().reads().identity_profile("email", "a@x.de").has_value());
  EXPECT_EQ(store().reads().identity_profile("email", "b@x.de"), 2);
  // The value is free again.
  auto u = store().begin();
  u->add_identity(identity_row("email", "a@x.de", 3));
  u->commit();
  EXPECT_EQ(store().reads().identity_profile("email", "a@x.de"), 3);
}

// ------------------------------------------------------------------ profiles

TEST_P(RowsConformance, ProfilesRoundTripAndPutReplacesThem) {
  auto t = store().begin();
  t->put_profile(profile_row(1, R"({"name":"Anna","tags":["a","b"]})"));
  EXPECT_EQ(profile_text(*t->profile(1)), profile_text(profile_row(1, R"({"name":"Anna","tags":["a","b"]})")));
  t->commit();
  std::optional<ProfileRow> p = store().reads().profile(1);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(profile_text(*p), profile_text(profile_row(1, R"({"name":"Anna","tags":["a","b"]})")));
  EXPECT_EQ(p->merged_into, 0);
  EXPECT_FALSE(store().reads().profile(2).has_value());
  EXPECT_FALSE(store().reads().profile(0).has_value());

  // "Insert or replace": every field of the new row.
  ProfileRow replaced;
  replaced.id = 1;
  replaced.created_ms = 50;  // e.g. a merge keeps the earlier creation time
  replaced.updated_ms = 999;
  replaced.attributes = R"({"name":"Anna B."})";
  replaced.state = R"({"v":1,"x":2})";
  replaced.merged_into = 0;
  auto u = store().begin();
  u->put_profile(replaced);
  u->commit();
  EXPECT_EQ(profile_text(*store().reads().profile(1)), profile_text(replaced));
}

TEST_P(RowsConformance, MergedProfilesPointAtTheirSurvivor) {
  auto t = store().begin();
  for (int64_t id : {1, 2, 3, 4}) t->put_profile(profile_row(id));
  t->put_profile(profile_row(2, "{}", 1));
  t->put_profile(profile_row(4, "{}", 1));
  t->put_profile(profile_row(3, "{}", 2));  // merged into a merged one: not transitive
  t->commit();
  StoreReads& r = store().reads();
  EXPECT_EQ(r.merged_into(1), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(r.merged_into(2), (std::vector<int64_t>{3}));
  EXPECT_TRUE(r.merged_into(3).empty());
  EXPECT_EQ(r.profile(2)->merged_into, 1);
  // Unmerged again.
  auto u = store().begin();
  u->put_profile(profile_row(4, "{}", 0));
  u->commit();
  EXPECT_EQ(r.merged_into(1), (std::vector<int64_t>{2}));
  EXPECT_EQ(r.profile(4)->merged_into, 0);
}

TEST_P(RowsConformance, EachProfileVisitsLiveProfilesInIdOrderAndStopsWhenAsked) {
  auto t = store().begin();
  for (int64_t id : {5, 1, 3, 2, 4}) t->put_profile(profile_row(id, R"({"id":)" + std::to_string(id) + "}"));
  t->put_profile(profile_row(3, "{}", 1));
  t->commit();
  std::vector<int64_t> seen;
  store().reads().each_profile([&](const ProfileRow& p) {
    seen.push_back(p.id);
    EXPECT_EQ(p.merged_into, 0);
    EXPECT_EQ(p.attributes, R"({"id":)" + std::to_string(p.id) + "}");
    EXPECT_EQ(p.state, profile_row(p.id).state);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2, 4, 5}));
  seen.clear();
  store().reads().each_profile([&](const ProfileRow& p) {
    seen.push_back(p.id);
    return seen.size() < 2;
  });
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2}));
  // The callback may read from the same StoreReads.
  size_t with_ids = 0;
  store().reads().each_profile([&](const ProfileRow& p) {
    with_ids += store().reads().identities_of(p.id).size() + (store().reads().profile(p.id) ? 1 : 0);
    return true;
  });
  EXPECT_EQ(with_ids, 4u);
  // On a transaction too, which sees its own rows.
  auto u = store().begin();
  u->put_profile(profile_row(6));
  seen.clear();
  u->each_profile([&](const ProfileRow& p) {
    seen.push_back(p.id);
    EXPECT_TRUE(u->profile(p.id).has_value());
    return true;
  });
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2, 4, 5, 6}));
}

TEST_P(RowsConformance, NewProfileIdsAreFreshAndIncreasing) {
  auto t = store().begin();
  const int64_t a = t->new_profile_id();
  const int64_t b = t->new_profile_id();  // not written yet: still a new id
  EXPECT_GT(a, 0);
  EXPECT_GT(b, a);
  t->put_profile(profile_row(a));
  t->put_profile(profile_row(b));
  t->commit();
  auto u = store().begin();
  const int64_t c = u->new_profile_id();
  EXPECT_GT(c, b);
  u->put_profile(profile_row(c));
  u->commit();
  reopen();
  auto v = store().begin();
  EXPECT_GT(v->new_profile_id(), c);
}

// Regression test for a fixed bug (core/store/sqlite_store.cpp Txn::new_profile_id, MAX(id)+1 in
// Conn::max_profile_id): the id of a deleted profile (GDPR erasure) is handed
// out again to the next new customer, who then inherits references to the
// erased person: merge and conflict rows (shown in `profile show`, and a
// "split" merge that keeps the new person from merging), and ids held by
// external systems.
TEST_P(RowsConformance, NewProfileIdsAreNeverReusedAfterADelete) {
  int64_t last = 0;
  {
    auto t = store().begin();
    t->put_profile(profile_row(t->new_profile_id()));
    last = t->new_profile_id();
    t->put_profile(profile_row(last));
    t->commit();
  }
  {
    auto t = store().begin();
    t->delete_profile(last);  // the newest profile is erased
    t->commit();
  }
  auto t = store().begin();
  EXPECT_GT(t->new_profile_id(), last) << "profile id " << last << " was handed out again after its deletion";
}

TEST_P(RowsConformance, DeleteProfile) {
  auto t = store().begin();
  t->put_profile(profile_row(1));
  t->put_profile(profile_row(2));
  t->delete_profile(1);
  t->delete_profile(42);  // unknown: nothing happens
  t->commit();
  EXPECT_FALSE(store().reads().profile(1).has_value());
  EXPECT_TRUE(store().reads().profile(2).has_value());
}

// ------------------------------------------------------------------ records

TEST_P(RowsConformance, RecordsAreIdempotentPerSourceAndIdAndGetIncreasingSeqs) {
  auto t = store().begin();
  RecordRow a = record_row("1001", "crm", 1, 500, R"({"email":"a@x.de"})");
  RecordRow b = record_row("1001", "web", 2, 400);  // same id, other source: another record
  RecordRow c = record_row("1002", "crm", 1, 300);
  ASSERT_TRUE(t->insert_record(a));
  ASSERT_TRUE(t->insert_record(b));
  ASSERT_TRUE(t->insert_record(c));
  EXPECT_GT(a.seq, 0);
  EXPECT_GT(b.seq, a.seq);
  EXPECT_GT(c.seq, b.seq);
  RecordRow again = record_row("1001", "crm", 2, 999, R"({"changed":true})");
  EXPECT_FALSE(t->insert_record(again));
  t->commit();

  StoreReads& r = store().reads();
  const std::vector<RecordRow> one = r.records_of(1, 0, false);
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one[0].seq, a.seq);  // seq order, not ts order
  EXPECT_EQ(one[0].id, "1001");
  EXPECT_EQ(one[0].type, "profile");
  EXPECT_EQ(one[0].source, "crm");
  EXPECT_EQ(one[0].pipeline, "p-crm");
  EXPECT_EQ(one[0].key, "k-1001");
  EXPECT_EQ(one[0].profile_id, 1);
  EXPECT_EQ(one[0].origin_profile, 1);
  EXPECT_EQ(one[0].ts_ms, 500);
  EXPECT_EQ(one[0].applied_ms, 505);
  EXPECT_EQ(one[0].data, R"({"email":"a@x.de"})");  // the duplicate changed nothing
  EXPECT_EQ(one[0].meta, R"({"m":true})");
  EXPECT_EQ(one[1].id, "1002");
  EXPECT_EQ(record_ids(r.records_of(2, 0, false)), Strings{"1001"});
  EXPECT_EQ(r.records_of(2, 0, false)[0].source, "web");

  // Still a duplicate in a later transaction and after reopen.
  reopen();
  auto u = store().begin();
  RecordRow later = record_row("1001", "web", 2);
  EXPECT_FALSE(u->insert_record(later));
  RecordRow fresh = record_row("1003", "crm", 1);
  EXPECT_TRUE(u->insert_record(fresh));
  EXPECT_GT(fresh.seq, c.seq);
  u->commit();
}

TEST_P(RowsConformance, RecordsOfAProfileWithLimitAndDirection) {
  auto t = store().begin();
  for (int i = 1; i <= 5; ++i) {
    RecordRow r = record_row("r" + std::to_string(i), "crm", i % 2 ? 1 : 2, 1000 - i);
    ASSERT_TRUE(t->insert_record(r));
  }
  t->commit();
  StoreReads& r = store().reads();
  EXPECT_EQ(record_ids(r.records_of(1, 0, false)), (Strings{"r1", "r3", "r5"}));
  EXPECT_EQ(record_ids(r.records_of(1, 0, true)), (Strings{"r5", "r3", "r1"}));
  EXPECT_EQ(record_ids(r.records_of(1, 2, false)), (Strings{"r1", "r3"}));
  EXPECT_EQ(record_ids(r.records_of(1, 2, true)), (Strings{"r5", "r3"}));
  EXPECT_EQ(record_ids(r.records_of(2, 10, true)), (Strings{"r4", "r2"}));
  EXPECT_TRUE(r.records_of(3, 0, false).empty());
}

TEST_P(RowsConformance, RecordsWithoutAProfileAreKeptUnderZero) {
  // A suppression record for an identity that has no profile yet.
  auto t = store().begin();
  RecordRow r = record_row("s1", "crm", 0);
  ASSERT_TRUE(t->insert_record(r));
  t->commit();
  EXPECT_EQ(record_ids(store().reads().records_of(0, 0, false)), Strings{"s1"});
  EXPECT_EQ(store().stats().records, 1u);
}

TEST_P(RowsConformance, RecordsMoveButKeepTheirOrigin) {
  auto t = store().begin();
  std::vector<RecordRow> rows;
  for (auto [id, p] : std::vector<std::pair<std::string, int64_t>>{{"a", 1}, {"b", 2}, {"c", 2}, {"d", 3}}) {
    rows.push_back(record_row(id, "crm", p));
    ASSERT_TRUE(t->insert_record(rows.back()));
  }
  t->move_records(2, 1);
  EXPECT_EQ(record_ids(t->records_of(1, 0, false)), (Strings{"a", "b", "c"}));
  t->set_record_profile(rows[3].seq, 1);
  t->commit();
  StoreReads& r = store().reads();
  EXPECT_EQ(record_ids(r.records_of(1, 0, false)), (Strings{"a", "b", "c", "d"}));
  EXPECT_TRUE(r.records_of(2, 0, false).empty());
  const std::vector<RecordRow> from2 = r.records_with_origin({2});
  EXPECT_EQ(record_ids(from2), (Strings{"b", "c"}));
  for (const RecordRow& x : from2) {
    EXPECT_EQ(x.profile_id, 1);
    EXPECT_EQ(x.origin_profile, 2);
  }
  EXPECT_EQ(record_ids(r.records_with_origin({3, 2})), (Strings{"b", "c", "d"}));  // seq order
  EXPECT_TRUE(r.records_with_origin({}).empty());
  // Back, one by one (what unmerge does).
  auto u = store().begin();
  for (const RecordRow& x : u->records_with_origin({2})) u->set_record_profile(x.seq, 2);
  u->commit();
  EXPECT_EQ(record_ids(r.records_of(2, 0, false)), (Strings{"b", "c"}));
  EXPECT_EQ(record_ids(r.records_of(1, 0, false)), (Strings{"a", "d"}));
}

TEST_P(RowsConformance, DeleteRecordsOfOneProfileOnly) {
  auto t = store().begin();
  for (auto [id, p] : std::vector<std::pair<std::string, int64_t>>{{"a", 1}, {"b", 2}, {"c", 1}}) {
    RecordRow r = record_row(id, "crm", p);
    ASSERT_TRUE(t->insert_record(r));
  }
  t->delete_records_of(1);
  t->commit();
  EXPECT_TRUE(store().reads().records_of(1, 0, false).empty());
  EXPECT_EQ(record_ids(store().reads().records_of(2, 0, false)), Strings{"b"});
  EXPECT_TRUE(store().reads().records_with_origin({1}).empty());
}

// ------------------------------------------------------------------ timeline

TEST_P(RowsConformance, EventsRoundTripWithRevenueNullOrAValue) {
  EventRow full;
  full.profile_id = 1;
  full.at = 5000;
  full.event_type = "purchase";
  full.channel = "web";
  full.purpose = "marketing";
  full.product = "mortgage-10y";
  full.category = "credit";
  full.campaign = "spring";
  full.offer = "o-17";
  full.revenue = 1234.5;
  full.has_revenue = true;
  full.record_seq = 7;
  EventRow zero = event_row(1, 4000, "purchase", 6);
  zero.revenue = 0;
  zero.has_revenue = true;  // a revenue of 0 is a value, not "none"
  EventRow none = event_row(1, 3000, "branch_visit", 5);
  none.revenue = 99;  // ignored: has_revenue is false
  auto t = store().begin();
  t->add_event(none);
  t->add_event(full);
  t->add_event(zero);
  t->commit();
  const std::vector<EventRow> ev = store().reads().events_of(1, INT64_MIN);
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0].event_type, "purchase");
  EXPECT_EQ(ev[0].at, 5000);
  EXPECT_EQ(ev[0].profile_id, 1);
  EXPECT_EQ(ev[0].channel, "web");
  EXPECT_EQ(ev[0].purpose, "marketing");
  EXPECT_EQ(ev[0].product, "mortgage-10y");
  EXPECT_EQ(ev[0].category, "credit");
  EXPECT_EQ(ev[0].campaign, "spring");
  EXPECT_EQ(ev[0].offer, "o-17");
  EXPECT_TRUE(ev[0].has_revenue);
  EXPECT_DOUBLE_EQ(ev[0].revenue, 1234.5);
  EXPECT_EQ(ev[0].record_seq, 7);
  EXPECT_TRUE(ev[1].has_revenue);
  EXPECT_DOUBLE_EQ(ev[1].revenue, 0);
  EXPECT_FALSE(ev[2].has_revenue);
  EXPECT_DOUBLE_EQ(ev[2].revenue, 0);
  EXPECT_EQ(ev[2].channel, "");
  EXPECT_EQ(ev[2].event_type, "branch_visit");
}

TEST_P(RowsConformance, EventsAreNewestFirstFromAnInclusiveSince) {
  auto t = store().begin();
  t->add_event(event_row(1, 100, "a", 1));
  t->add_event(event_row(1, 300, "c", 3));
  t->add_event(event_row(1, 200, "b1", 2));
  t->add_event(event_row(1, 200, "b2", 4));  // same time: the later record first
  t->add_event(event_row(2, 250, "other", 5));
  t->commit();
  auto types = [&](int64_t p, int64_t since) {
    Strings out;
    for (const EventRow& e : store().reads().events_of(p, since)) out.push_back(e.event_type);
    return out;
  };
  EXPECT_EQ(types(1, INT64_MIN), (Strings{"c", "b2", "b1", "a"}));
  EXPECT_EQ(types(1, 200), (Strings{"c", "b2", "b1"}));
  EXPECT_EQ(types(1, 201), (Strings{"c"}));
  EXPECT_TRUE(types(1, 301).empty());
  EXPECT_EQ(types(2, 0), (Strings{"other"}));
}

TEST_P(RowsConformance, EventsMoveAndDelete) {
  auto t = store().begin();
  t->add_event(event_row(1, 100, "a", 1));
  t->add_event(event_row(2, 200, "b", 2));
  t->add_event(event_row(3, 300, "c", 3));
  t->move_events(2, 1);
  t->delete_events_of(3);
  t->commit();
  const std::vector<EventRow> ev = store().reads().events_of(1, INT64_MIN);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].event_type, "b");
  EXPECT_EQ(ev[0].profile_id, 1);
  EXPECT_TRUE(store().reads().events_of(2, INT64_MIN).empty());
  EXPECT_TRUE(store().reads().events_of(3, INT64_MIN).empty());
}

// ------------------------------------------------------------------ suppressions

TEST_P(RowsConformance, SuppressionsRoundTripAndAreUpsertedPerListAndSubject) {
  auto t = store().begin();
  t->put_suppression(suppression_row("blacklist", "email:a@x.de", "complaint", {"email", "sms"}, 9000));
  t->put_suppression(suppression_row("blacklist", "profile:1", "fraud"));
  t->put_suppression(suppression_row("deceased", "email:a@x.de", "registry"));
  t->commit();
  StoreReads& r = store().reads();
  std::vector<SuppressionRow> a = r.suppressions_for({"email:a@x.de"});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].list, "blacklist");
  EXPECT_EQ(a[0].subject, "email:a@x.de");
  EXPECT_EQ(a[0].reason, "complaint");
  EXPECT_EQ(a[0].channels, (Strings{"email", "sms"}));
  EXPECT_EQ(a[0].until_ms, 9000);
  EXPECT_EQ(a[0].added_ms, 5000);
  EXPECT_EQ(a[0].source, "test");
  EXPECT_EQ(a[1].list, "deceased");
  EXPECT_TRUE(a[1].channels.empty());
  EXPECT_EQ(a[1].until_ms, 0);
  EXPECT_EQ(subjects(r.suppressions_for({"profile:1", "email:a@x.de", "email:none@x.de"})),
            (Strings{"blacklist/profile:1", "blacklist/email:a@x.de", "deceased/email:a@x.de"}));
  EXPECT_TRUE(r.suppressions_for({}).empty());

  // The same list and subject again replaces the entry.
  SuppressionRow changed = suppression_row("blacklist", "email:a@x.de", "asked again", {}, 0);
  changed.added_ms = 6000;
  changed.source = "cli:anna";
  auto u = store().begin();
  u->put_suppression(changed);
  u->commit();
  a = r.suppressions_for({"email:a@x.de"});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].reason, "asked again");
  EXPECT_TRUE(a[0].channels.empty());
  EXPECT_EQ(a[0].until_ms, 0);
  EXPECT_EQ(a[0].added_ms, 6000);
  EXPECT_EQ(a[0].source, "cli:anna");
}

TEST_P(RowsConformance, SuppressionListsByListAndAll) {
  auto t = store().begin();
  t->put_suppression(suppression_row("b-list", "profile:2"));
  t->put_suppression(suppression_row("a-list", "profile:9"));
  t->put_suppression(suppression_row("b-list", "email:z@x.de"));
  t->put_suppression(suppression_row("b-list", "email:a@x.de"));
  t->commit();
  StoreReads& r = store().reads();
  EXPECT_EQ(subjects(r.suppressions("", 100)),
            (Strings{"a-list/profile:9", "b-list/email:a@x.de", "b-list/email:z@x.de", "b-list/profile:2"}));
  EXPECT_EQ(subjects(r.suppressions("b-list", 100)),
            (Strings{"b-list/email:a@x.de", "b-list/email:z@x.de", "b-list/profile:2"}));
  EXPECT_EQ(subjects(r.suppressions("b-list", 2)), (Strings{"b-list/email:a@x.de", "b-list/email:z@x.de"}));
  EXPECT_TRUE(r.suppressions("c-list", 100).empty());
}

TEST_P(RowsConformance, SuppressionsRemoveMoveAndDelete) {
  auto t = store().begin();
  t->put_suppression(suppression_row("blacklist", "profile:2", "from two"));
  t->put_suppression(suppression_row("vip-hold", "profile:2", "from two"));
  t->put_suppression(suppression_row("blacklist", "profile:1", "from one"));
  t->put_suppression(suppression_row("blacklist", "email:a@x.de"));
  t->put_suppression(suppression_row("deceased", "email:a@x.de"));
  EXPECT_EQ(t->remove_suppression("deceased", "email:a@x.de"), 1u);
  EXPECT_EQ(t->remove_suppression("deceased", "email:a@x.de"), 0u);
  EXPECT_EQ(t->remove_suppression("blacklist", "email:nobody@x.de"), 0u);
  // A merge moves profile 2's entries to 1; the entry 1 already has on a list wins.
  t->move_suppressions("profile:2", "profile:1");
  t->commit();
  StoreReads& r = store().reads();
  EXPECT_TRUE(r.suppressions_for({"profile:2"}).empty());
  std::vector<SuppressionRow> one = r.suppressions_for({"profile:1"});
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one[0].list, "blacklist");
  EXPECT_EQ(one[0].reason, "from one");
  EXPECT_EQ(one[1].list, "vip-hold");
  EXPECT_EQ(one[1].reason, "from two");

  auto u = store().begin();
  EXPECT_EQ(u->delete_suppressions_of("profile:1"), 2u);
  EXPECT_EQ(u->delete_suppressions_of("profile:1"), 0u);
  EXPECT_EQ(u->delete_suppressions_of("email:a@x.de"), 1u);
  u->commit();
  EXPECT_TRUE(r.suppressions("", 100).empty());
}

// ------------------------------------------------------------------ merges, conflicts, decisions, audit

TEST_P(RowsConformance, MergesAreListedForBothSidesAndChangeState) {
  auto t = store().begin();
  const int64_t m1 = t->add_merge(MergeRow{0, 1, 2, "web", "w-1", 100, "merged"});
  const int64_t m2 = t->add_merge(MergeRow{0, 1, 3, "crm", "c-9", 200, "merged"});
  const int64_t m3 = t->add_merge(MergeRow{0, 4, 5, "crm", "c-10", 300, "merged"});
  EXPECT_GT(m1, 0);
  EXPECT_GT(m2, m1);
  EXPECT_GT(m3, m2);
  t->set_merge_state(m2, "split");
  t->commit();
  StoreReads& r = store().reads();
  std::optional<MergeRow> m = r.merge(m2);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->id, m2);
  EXPECT_EQ(m->survivor, 1);
  EXPECT_EQ(m->merged, 3);
  EXPECT_EQ(m->record_source, "crm");
  EXPECT_EQ(m->record_id, "c-9");
  EXPECT_EQ(m->at, 200);
  EXPECT_EQ(m->state, "split");
  EXPECT_EQ(r.merge(m1)->state, "merged");
  EXPECT_FALSE(r.merge(m3 + 100).has_value());
  auto ids = [](const std::vector<MergeRow>& v) {
    std::vector<int64_t> out;
    for (const MergeRow& x : v) out.push_back(x.id);
    return out;
  };
  EXPECT_EQ(ids(r.merges_of(1)), (std::vector<int64_t>{m1, m2}));
  EXPECT_EQ(ids(r.merges_of(3)), (std::vector<int64_t>{m2}));
  EXPECT_EQ(ids(r.merges_of(5)), (std::vector<int64_t>{m3}));
  EXPECT_TRUE(r.merges_of(9).empty());
}

TEST_P(RowsConformance, ConflictsAreListedForBothProfiles) {
  auto t = store().begin();
  t->add_conflict(ConflictRow{0, 1, 2, "ext:crm", "at most 1 ext:crm identities per profile", "crm", "c-2", 100});
  t->add_conflict(ConflictRow{0, 3, 0, "ext:crm", "ext:crm K*** not added", "crm", "c-3", 200});
  t->add_conflict(ConflictRow{0, 2, 1, "split", "kept apart", "web", "w-1", 300});
  t->commit();
  StoreReads& r = store().reads();
  const std::vector<ConflictRow> one = r.conflicts_of(1);
  ASSERT_EQ(one.size(), 2u);
  EXPECT_GT(one[0].id, 0);
  EXPECT_LT(one[0].id, one[1].id);
  EXPECT_EQ(one[0].profile_a, 1);
  EXPECT_EQ(one[0].profile_b, 2);
  EXPECT_EQ(one[0].kind, "ext:crm");
  EXPECT_EQ(one[0].detail, "at most 1 ext:crm identities per profile");
  EXPECT_EQ(one[0].record_source, "crm");
  EXPECT_EQ(one[0].record_id, "c-2");
  EXPECT_EQ(one[0].at, 100);
  EXPECT_EQ(one[1].kind, "split");
  EXPECT_EQ(r.conflicts_of(2).size(), 2u);
  ASSERT_EQ(r.conflicts_of(3).size(), 1u);
  EXPECT_EQ(r.conflicts_of(3)[0].profile_b, 0);
  EXPECT_TRUE(r.conflicts_of(4).empty());
}

TEST_P(RowsConformance, DecisionsAreNewestFirstPerProfileAndDeletable) {
  auto t = store().begin();
  for (int i = 1; i <= 4; ++i)
    t->add_decision(DecisionRow{0, 1000 + i, i == 4 ? 2 : 1, "anna@example.de",
                                R"({"channel":"email","n":)" + std::to_string(i) + "}", i % 2 ? "send" : "suppress",
                                "email", R"([{"code":"consent_missing"}])", "rb-" + std::to_string(i), 2000 + i});
  t->commit();
  StoreReads& r = store().reads();
  std::vector<DecisionRow> d = r.decisions_of(1, 10);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].at, 1003);
  EXPECT_EQ(d[1].at, 1002);
  EXPECT_EQ(d[2].at, 1001);
  EXPECT_GT(d[0].id, d[1].id);
  EXPECT_EQ(d[0].profile_id, 1);
  EXPECT_EQ(d[0].customer, "anna@example.de");
  EXPECT_EQ(d[0].proposal, R"({"channel":"email","n":3})");
  EXPECT_EQ(d[0].decision, "send");
  EXPECT_EQ(d[1].decision, "suppress");
  EXPECT_EQ(d[0].channel, "email");
  EXPECT_EQ(d[0].reasons, R"([{"code":"consent_missing"}])");
  EXPECT_EQ(d[0].rulebook, "rb-3");
  EXPECT_EQ(d[0].recorded_ms, 2003);
  EXPECT_EQ(r.decisions_of(1, 2).size(), 2u);
  EXPECT_EQ(r.decisions_of(1, 2)[0].at, 1003);
  EXPECT_EQ(r.decisions_of(2, 10).size(), 1u);
  auto u = store().begin();
  u->delete_decisions_of(1);
  u->commit();
  EXPECT_TRUE(r.decisions_of(1, 10).empty());
  EXPECT_EQ(r.decisions_of(2, 10).size(), 1u);
}

TEST_P(RowsConformance, AuditIsNewestFirst) {
  auto t = store().begin();
  t->add_audit(AuditRow{0, 100, "admin", "suppress.add", "blacklist a***@x.de", "10.0.0.7", R"({"list":"b"})"});
  t->add_audit(AuditRow{0, 200, "cli:root", "gdpr.erase", "profile:7", "local", R"({"records":3})"});
  t->add_audit(AuditRow{0, 150, "admin", "profile.unmerge", "profile:1 / profile:2", "10.0.0.8", "{}"});
  t->commit();
  const std::vector<AuditRow> a = store().reads().audit(10);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].action, "profile.unmerge");  // newest entry first (by insertion, not by at)
  EXPECT_EQ(a[1].action, "gdpr.erase");
  EXPECT_EQ(a[2].action, "suppress.add");
  EXPECT_GT(a[0].id, a[1].id);
  EXPECT_EQ(a[1].at, 200);
  EXPECT_EQ(a[1].actor, "cli:root");
  EXPECT_EQ(a[1].target, "profile:7");
  EXPECT_EQ(a[1].address, "local");
  EXPECT_EQ(a[1].detail, R"({"records":3})");
  EXPECT_EQ(a[2].address, "10.0.0.7");
  EXPECT_EQ(store().reads().audit(1).size(), 1u);
}

TEST_P(RowsConformance, TombstonesAreIdempotentAndPersistent) {
  EXPECT_FALSE(store().reads().has_tombstones());
  auto t = store().begin();
  EXPECT_FALSE(t->has_tombstones());
  t->add_tombstone("3f7a", 100);
  EXPECT_TRUE(t->has_tombstones()) << "the transaction sees its own tombstone";
  EXPECT_FALSE(store().reads().has_tombstones()) << "readers do not see it before the commit";
  t->add_tombstone("3f7a", 200);  // again: no error
  t->add_tombstone("b0b0", 100);
  EXPECT_TRUE(t->tombstoned("3f7a"));
  t->commit();
  EXPECT_TRUE(store().reads().tombstoned("3f7a"));
  EXPECT_TRUE(store().reads().tombstoned("b0b0"));
  EXPECT_FALSE(store().reads().tombstoned("3F7A"));
  EXPECT_FALSE(store().reads().tombstoned(""));
  EXPECT_TRUE(store().reads().has_tombstones());
  reopen();
  EXPECT_TRUE(store().reads().tombstoned("3f7a"));
  EXPECT_TRUE(store().reads().has_tombstones());
}

// ------------------------------------------------------------------ GDPR payload deletion

TEST_P(RowsConformance, DeletePayloadsMentioningMatchesCaseInsensitivelyAndOnlyWhatItSays) {
  auto t = store().begin();
  t->add_dead_letter(dead_letter("r1", "p", "source", "Anna.Schmidt@Example.DE;Berlin"));  // raw CSV line
  t->add_dead_letter(dead_letter("r2", "p", "1:x", R"({"key":"K-1"})"));
  t->add_dead_letter(dead_letter("r3", "p", "1:x", R"({"key":"K-10"})"));  // not K-1
  t->add_dead_letter(dead_letter("r4", "p", "1:x", R"({"key":"k-1"})"));   // case-insensitive
  t->add_dead_letter(dead_letter("r5", "p", "1:x", "{}", "customer ANNA.SCHMIDT@example.de unknown"));
  t->add_dead_letter(dead_letter("r6", "p", "1:x", R"({"email":"ben@example.de","note":"a_b%"})"));
  t->add_outbox(outbox_item("p.crm", "o1", 0, R"({"data":{"email":"anna.schmidt@example.de"}})"));
  t->add_outbox(outbox_item("p.crm", "o2", 0, R"({"key":"K-1"})"));
  t->add_outbox(outbox_item("p.crm", "o3", 0, R"({"key":"K-100"})"));
  t->add_outbox(outbox_item("p.crm", "o4", 0, R"({"note":"axb"})"));
  t->commit();

  auto u = store().begin();
  EXPECT_EQ(u->delete_payloads_mentioning({}), 0u);
  EXPECT_EQ(u->delete_payloads_mentioning({""}), 0u);      // an empty needle matches nothing
  EXPECT_EQ(u->delete_payloads_mentioning({"a_b%"}), 1u);  // literal: no LIKE wildcards (r6, not o4)
  // The e-mail as typed, the customer number as a JSON string ("K-1" must not hit "K-10").
  EXPECT_EQ(u->delete_payloads_mentioning({"anna.schmidt@example.de", "\"K-1\"", "anna.schmidt@example.de"}), 6u);
  u->commit();

  Strings left;
  for (const DeadLetter& d : store().dlq_list({})) left.push_back(d.record_id);
  EXPECT_EQ(left, (Strings{"r3"}));
  std::vector<OutboxItem> due = store().outbox_due("p.crm", 10, INT64_MAX, 10);
  Strings out;
  for (const OutboxItem& o : due) out.push_back(o.record_id);
  EXPECT_EQ(out, (Strings{"o3", "o4"}));
  EXPECT_EQ(store().stats().dead_letters, 1u);
  EXPECT_EQ(store().stats().outbox, 2u);
}

TEST_P(RowsConformance, DeletePayloadsMentioningRollsBackWithItsTransaction) {
  auto t = store().begin();
  t->add_dead_letter(dead_letter("r1", "p", "1:x", R"({"email":"a@x.de"})"));
  t->commit();
  {
    auto u = store().begin();
    EXPECT_EQ(u->delete_payloads_mentioning({"a@x.de"}), 1u);
  }
  EXPECT_EQ(store().dlq_list({}).size(), 1u);
  EXPECT_EQ(store().stats().dead_letters, 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, RowsConformance, ::testing::ValuesIn(backends()), backend_name);

}  // namespace
}  // namespace touchpoint::core::test
