// The customer model stays consistent with its store: a replayed batch
// changes nothing (also after a restart), a transaction that fails leaves
// the caches as the store is (identities, profile states, new profile ids),
// and what another process (the CLI) commits is seen by the next apply.

#include <gtest/gtest.h>

#include "customer_test_util.hpp"

namespace touchpoint::core::test {
namespace {

class CustomerConsistency : public CustomerTest {
 protected:
  /// Injects a failure without the customer model noticing: the injection is
  /// a change by another connection, which the next transaction reports as
  /// changed_elsewhere() (and the model then drops its caches anyway, which
  /// would hide what these tests look for). An empty apply takes that report.
  void inject_quietly(Failure point, const std::string& arg = "") {
    inject_or_skip(point, arg);
    if (IsSkipped()) return;
    cs().apply(ApplyBatch{});
  }
};

/// Everything the store holds that apply() can change, as text.
std::string dump(Store& s) {
  Json out = Json::object();
  StoreReads& r = s.reads();
  Json profiles = Json::array();
  std::vector<int64_t> ids;
  s.reads().each_profile([&](const ProfileRow& p) {
    ids.push_back(p.id);
    return true;
  });
  for (int64_t id = 1; id <= 50; ++id) {
    std::optional<ProfileRow> p = r.profile(id);
    if (!p) continue;
    Json recs = Json::array();
    for (const RecordRow& x : r.records_of(id, 0, false))
      recs.push_back({x.seq, x.id, x.source, x.profile_id, x.origin_profile, x.applied_ms, x.data});
    Json idents = Json::array();
    for (const IdentityRow& i : r.identities_of(id))
      idents.push_back({i.kind, i.value, i.profile_id, i.origin_profile, i.first_seen_ms});
    Json events = Json::array();
    for (const EventRow& e : r.events_of(id, INT64_MIN)) events.push_back({e.at, e.event_type, e.record_seq});
    Json merges = Json::array();
    for (const MergeRow& m : r.merges_of(id)) merges.push_back({m.id, m.survivor, m.merged, m.state});
    Json conflicts = Json::array();
    for (const ConflictRow& c : r.conflicts_of(id)) conflicts.push_back({c.id, c.kind, c.record_id});
    profiles.push_back({{"row", {p->id, p->created_ms, p->updated_ms, p->attributes, p->state, p->merged_into}},
                        {"records", recs},
                        {"identities", idents},
                        {"events", events},
                        {"merges", merges},
                        {"conflicts", conflicts}});
  }
  out["profiles"] = profiles;
  out["live"] = ids;
  Json sup = Json::array();
  for (const SuppressionRow& x : r.suppressions("", 1000)) sup.push_back({x.list, x.subject, x.added_ms});
  out["suppressions"] = sup;
  const StoreStats st = s.stats();
  out["stats"] = {st.profiles, st.records, st.dead_letters, st.outbox};
  out["dlq"] = s.dlq_list({}).size();
  return out.dump(2);
}

std::vector<Record> mixed_batch() {
  return {
      rec("c1", "crm", "K-1", {{"email", "anna@example.de"}, {"first_name", "Anna"}}, "profile", 100),
      rec("w1", "web", "W-2", {{"phone", "+4930123456"}, {"city", "Ulm"}}, "profile", 200),
      rec("e1", "web", "W-2", {{"event_type", "web_visit"}}, "event", 300),
      rec("k1", "web", "W-2", {{"channel", "email"}, {"purpose", "marketing"}, {"status", "granted"}}, "consent", 400),
      rec("s1", "web", "", {{"customer", "ben@example.de"}, {"list", "blacklist"}}, "suppression", 500),
      rec("m1", "shop", "", {{"email", "anna@example.de"}, {"phone", "+4930123456"}}, "profile", 600),
      rec("bad", "web", "", {{"customer", "anna@example.de"}}, "event", 700),
  };
}

TEST_P(CustomerConsistency, ReplayingTheSameBatchChangesNothingAlsoAfterARestart) {
  const ApplyStats first = apply(mixed_batch(), 3);
  EXPECT_EQ(first.applied, 6u);
  EXPECT_EQ(first.merges, 1u);
  EXPECT_EQ(first.invalid, 1u);
  const std::string before = dump(store());

  const ApplyStats again = apply(mixed_batch(), 3);
  EXPECT_EQ(again.applied, 0u);
  EXPECT_EQ(again.duplicates, 6u);
  EXPECT_EQ(again.profiles_created, 0u);
  EXPECT_EQ(again.merges, 0u);
  EXPECT_EQ(again.identity_conflicts, 0u);
  EXPECT_EQ(again.invalid, 1u);  // an invalid record is dead-lettered again
  // Only the second dead letter differs.
  std::string after = dump(store());
  EXPECT_EQ(Json::parse(after)["profiles"], Json::parse(before)["profiles"]);
  EXPECT_EQ(Json::parse(after)["suppressions"], Json::parse(before)["suppressions"]);
  EXPECT_EQ(Json::parse(after)["live"], Json::parse(before)["live"]);

  reopen_all();  // a new process after a crash: empty caches
  const ApplyStats after_crash = apply(mixed_batch(), 3);
  EXPECT_EQ(after_crash.applied, 0u);
  EXPECT_EQ(after_crash.duplicates, 6u);
  EXPECT_EQ(after_crash.profiles_created, 0u);
  EXPECT_EQ(after_crash.merges, 0u);
  EXPECT_EQ(Json::parse(dump(store()))["profiles"], Json::parse(before)["profiles"]);
  EXPECT_EQ(store().journal_position(), 3u);
  // New records after the restart get fresh profile ids and find the old ones.
  EXPECT_EQ(apply1(rec("n1", "crm", "K-3", {{"email", "carla@example.de"}})).profiles_created, 1u);
  EXPECT_EQ(id_of("carla@example.de"), 3);
  EXPECT_EQ(apply1(rec("n2", "web", "", {{"email", "ANNA@example.de"}, {"x", 1}})).profiles_created, 0u);
  EXPECT_EQ(attributes_of("+4930123456")["x"], 1);
}

TEST_P(CustomerConsistency, ADuplicateInABatchWithANewCustomerTakesNoProfileId) {
  apply1(rec("a", "crm", "1", {{"email", "a@x.de"}}));
  const ApplyStats st =
      apply({rec("a", "crm", "1", {{"email", "a@x.de"}}), rec("b", "crm", "2", {{"email", "b@x.de"}})});
  EXPECT_EQ(st.duplicates, 1u);
  EXPECT_EQ(st.profiles_created, 1u);
  EXPECT_EQ(id_of("b@x.de"), 2);
  // Even a duplicate of a record that had no usable identity (it made a profile of its own).
  apply1(rec("anon", "crm", "", {{"email", "test@test.com"}, {"name", "?"}}));
  ASSERT_EQ(store().stats().profiles, 3u);
  const ApplyStats dup = apply({rec("anon", "crm", "", {{"email", "test@test.com"}, {"name", "?"}}),
                                rec("c", "crm", "3", {{"email", "c@x.de"}})});
  EXPECT_EQ(dup.duplicates, 1u);
  EXPECT_EQ(dup.profiles_created, 1u);
  EXPECT_EQ(store().stats().profiles, 4u);
  EXPECT_NE(id_of("c@x.de"), 0);
}

TEST_P(CustomerConsistency, ABatchLargerThanTheProfileCacheKeepsEveryChange) {
  // The profile cache holds a batch's changes until they are written: a
  // batch touching more profiles than the cache keeps must lose none, and
  // the next batches (after the cache was trimmed) read them back.
  cs().set_profile_cache_limit(3);
  std::vector<Record> batch;
  for (int i = 0; i < 20; ++i)
    batch.push_back(rec("n" + std::to_string(i), "crm", "K-" + std::to_string(i),
                        {{"email", "p" + std::to_string(i) + "@x.de"}, {"n", i}}));
  // And updates of profiles loaded earlier in the same batch.
  for (int i = 0; i < 20; i += 5)
    batch.push_back(rec("u" + std::to_string(i), "web", "", {{"email", "p" + std::to_string(i) + "@x.de"}, {"u", i}}));
  const ApplyStats st = apply(batch);
  EXPECT_EQ(st.applied, 24u);
  EXPECT_EQ(st.profiles_created, 20u);
  for (int i = 0; i < 20; ++i) {
    const Json a = attributes_of("p" + std::to_string(i) + "@x.de");
    EXPECT_EQ(a.value("n", -1), i) << a.dump();
    if (i % 5 == 0) {
      EXPECT_EQ(a.value("u", -1), i) << a.dump();
    }
  }
  apply1(rec("later", "web", "", {{"email", "p7@x.de"}, {"city", "Ulm"}}));
  const Json a7 = attributes_of("p7@x.de");
  EXPECT_EQ(a7.value("n", -1), 7);
  EXPECT_EQ(a7.value("city", ""), "Ulm");
}

TEST_P(CustomerConsistency, AFailedTransactionRollsBackEverythingAndLeavesTheCachesConsistent) {
  ASSERT_EQ(apply1(rec("r1", "crm", "1", {{"email", "a@x.de"}, {"city", "Ulm"}})).applied, 1u);
  ASSERT_EQ(apply1(rec("r0", "web", "", {{"phone", "+4930123456"}, {"tier", "gold"}})).applied, 1u);
  inject_quietly(Failure::record_insert, "boom");
  if (IsSkipped()) return;
  ApplyBatch b;
  b.journal_seq = 5;
  for (Record r : {rec("r2", "crm", "2", {{"email", "b@x.de"}}),                                     // a new customer
                   rec("r3", "web", "w", {{"email", "A@x.de"}, {"city", "Köln"}}, "profile", 2000),  // joins 1
                   rec("r4", "shop", "", {{"email", "a@x.de"}, {"phone", "+4930123456"}}),           // merges 2 into 1
                   rec("boom", "crm", "3", {{"email", "c@x.de"}})})
    b.records.push_back({r, "p"});
  b.checkpoints["crm"] = "c-5";
  DeadLetter d;
  d.record_id = "r9";
  d.pipeline = "p";
  d.step = "1:rename";
  d.payload = "{}";
  b.dead_letters.push_back(d);
  OutboxItem o;
  o.sink = "p.crm";
  o.record_id = "r2";
  o.envelope = "{}";
  b.outbox.push_back(o);
  EXPECT_THROW(cs().apply(b), std::exception);

  EXPECT_EQ(store().journal_position(), 0u);
  EXPECT_TRUE(store().checkpoints().empty());
  EXPECT_TRUE(store().dlq_list({}).empty());
  EXPECT_EQ(store().outbox_depth("p.crm"), 0u);
  EXPECT_EQ(store().stats().profiles, 2u);
  EXPECT_EQ(id_of("b@x.de"), 0);
  EXPECT_EQ(id_of("ext:web:w"), 0);
  EXPECT_EQ(id_of("+4930123456"), 2);
  EXPECT_EQ(store().reads().profile(2)->merged_into, 0);
  EXPECT_EQ(attributes_of("a@x.de")["city"], "Ulm");

  // The caches were rolled back too: the same batch without the failing
  // record applies as if the first attempt never happened.
  b.records.pop_back();
  const ApplyStats st = cs().apply(b);
  EXPECT_EQ(st.applied, 3u);
  EXPECT_EQ(st.profiles_created, 1u);
  EXPECT_EQ(st.merges, 1u);
  EXPECT_EQ(store().journal_position(), 5u);
  EXPECT_EQ(store().checkpoints().at("crm"), "c-5");
  EXPECT_EQ(store().dlq_list({}).size(), 1u);
  EXPECT_EQ(store().outbox_depth("p.crm"), 1u);
  EXPECT_EQ(id_of("b@x.de"), 3);  // ids taken in the failed attempt are not skipped
  EXPECT_EQ(id_of("ext:web:w"), 1);
  EXPECT_EQ(id_of("+4930123456"), 1);
  const Json a = attributes_of("a@x.de");
  EXPECT_EQ(a["city"], "Köln");
  EXPECT_EQ(a["tier"], "gold");
}

TEST_P(CustomerConsistency, AFailedMergeLeavesTheMergedProfileAlone) {
  apply({rec("a", "crm", "K-1", {{"email", "a@x.de"}, {"x", 1}}),
         rec("b", "web", "W-1", {{"phone", "+4930123456"}, {"y", 2}})});
  inject_quietly(Failure::record_insert, "boom");
  if (IsSkipped()) return;
  EXPECT_THROW(apply({rec("m", "shop", "", {{"email", "a@x.de"}, {"phone", "+4930123456"}}),
                      rec("boom", "shop", "", {{"email", "z@x.de"}})}),
               std::exception);
  // Profile 2 was never merged: records for it land on it, with its own state.
  apply1(rec("b2", "web", "W-1", {{"z", 3}}));
  EXPECT_EQ(id_of("ext:web:W-1"), 2);
  EXPECT_EQ(attributes_of("ext:web:W-1"), (Json{{"phone", "+4930123456"}, {"y", 2}, {"z", 3}}));
  EXPECT_EQ(attributes_of("a@x.de"), (Json{{"email", "a@x.de"}, {"x", 1}}));
  EXPECT_EQ(store().stats().profiles, 2u);
}

// Regression test for a fixed bug (core/customer/customer_admin.cpp CustomerStore::unmerge): the body
// before commit() is not inside the try/catch that drops the caches. A
// failure after rebuild() (here: set_merge_state) rolls the store back but
// leaves the rebuilt, split profile states in profile_cache_: the survivor's
// cached state lacks the other side's attributes, and the next record for
// the survivor writes that truncated state over the merged profile. Fix: wrap
// everything after begin() in try { ... } catch (...) { clear_caches(); throw; }
// as apply() does (erase() too, for symmetry).
TEST_P(CustomerConsistency, AFailedUnmergeLeavesTheCachesConsistent) {
  apply({rec("a", "crm", "K-1", {{"email", "a@x.de"}, {"x", 1}}),
         rec("b", "web", "W-1", {{"phone", "+4930123456"}, {"y", 2}})});
  inject_quietly(Failure::merge_state_update);
  if (IsSkipped()) return;
  apply1(rec("m", "shop", "", {{"external_ids", {{"crm", "K-1"}, {"web", "W-1"}}}}));
  ASSERT_EQ(store().stats().profiles, 1u);
  EXPECT_THROW(cs().unmerge(store().reads().merges_of(1).at(0).id, customer::Actor{}), std::exception);
  EXPECT_EQ(store().stats().profiles, 1u);
  EXPECT_EQ(store().reads().profile(2)->merged_into, 1);
  // Still merged: a record for the survivor keeps both sides' attributes.
  apply1(rec("a2", "crm", "K-1", {{"z", 3}}));
  EXPECT_EQ(attributes_of("ext:web:W-1"),
            (Json{{"email", "a@x.de"}, {"phone", "+4930123456"}, {"x", 1}, {"y", 2}, {"z", 3}}));
  EXPECT_EQ(id_of("ext:web:W-1"), 1);
}

TEST_P(CustomerConsistency, WhatAnotherProcessCommitsIsSeenByTheNextApply) {
  apply({rec("a", "crm", "K-1", {{"email", "a@x.de"}}), rec("b", "web", "W-1", {{"phone", "+4930123456"}})});
  // The CLI opens the same store and merges the two.
  {
    std::unique_ptr<Store> cli_store = instance().open();
    CustomerStore cli(*cli_store, config_, kTombstoneKey);
    ApplyBatch b;
    b.records.push_back({rec("m", "shop", "", {{"email", "a@x.de"}, {"phone", "+4930123456"}}), "cli"});
    ASSERT_EQ(cli.apply(b).merges, 1u);
    SuppressionRow s;
    s.list = "blacklist";
    cli.suppress_add("a@x.de", s, customer::Actor{"cli:root", "local"});
  }
  // The hub's cached identity (phone -> 2) is stale: it must not be used.
  apply1(rec("b2", "web", "W-1", {{"city", "Ulm"}}));
  EXPECT_EQ(store().reads().profile(2)->merged_into, 1);
  EXPECT_EQ(attributes_of("ext:web:W-1")["city"], "Ulm");
  EXPECT_EQ(id_of("ext:web:W-1"), 1);
  EXPECT_EQ(store().stats().profiles, 1u);
  EXPECT_EQ(store().reads().records_of(2, 0, false).size(), 0u);
}

TEST_P(CustomerConsistency, APersonErasedByAnotherProcessDoesNotComeBack) {
  apply1(rec("a", "crm", "K-1", {{"email", "a@x.de"}, {"name", "Anna"}}));
  {
    std::unique_ptr<Store> cli_store = instance().open();
    CustomerStore cli(*cli_store, config_, kTombstoneKey);
    cli.erase("a@x.de", customer::Actor{"cli:dpo", "local"});
  }
  const ApplyStats st = apply1(rec("a2", "crm", "K-1", {{"email", "a@x.de"}, {"city", "Ulm"}}));
  EXPECT_EQ(st.tombstoned, 1u);
  EXPECT_EQ(st.applied, 0u);
  EXPECT_EQ(id_of("a@x.de"), 0);
  EXPECT_FALSE(store().reads().profile(1).has_value());
  EXPECT_EQ(store().stats().profiles, 0u);
}

// Regression test for a fixed bug (core/customer/customer_admin.cpp CustomerStore::audit, called by
// export_person): it begins a transaction without looking at
// changed_elsewhere() and without mu_. Its commit records the store's
// data_version as seen, so the change another process made (here: an
// erasure) is never reported to apply(), whose caches still hold the erased
// profile: the next record of that person is applied to the cached profile
// and writes the erased person back, attributes and all. Fix: in audit(),
// take mu_ and `if (txn->changed_elsewhere()) clear_caches();` like the
// other admin actions; more robustly, make every StoreTxn user go through
// one CustomerStore::begin() helper that does this.
TEST_P(CustomerConsistency, AnExportAfterAnotherProcessErasedSomeoneDoesNotBringThemBack) {
  apply(
      {rec("a", "crm", "K-1", {{"email", "a@x.de"}, {"name", "Anna"}}), rec("b", "crm", "K-2", {{"email", "b@x.de"}})});
  {
    std::unique_ptr<Store> cli_store = instance().open();
    CustomerStore cli(*cli_store, config_, kTombstoneKey);
    cli.erase("a@x.de", customer::Actor{"cli:dpo", "local"});
  }
  cs().export_person("b@x.de", customer::Actor{"admin", "10.0.0.1"});  // Ben asks for his data
  const ApplyStats st = apply1(rec("a2", "crm", "K-1", {{"email", "a@x.de"}, {"city", "Ulm"}}));
  EXPECT_EQ(st.tombstoned, 1u);
  EXPECT_EQ(id_of("a@x.de"), 0);
  EXPECT_FALSE(store().reads().profile(1).has_value()) << "the erased profile was written back";
}

INSTANTIATE_TEST_SUITE_P(Backends, CustomerConsistency, ::testing::ValuesIn(backends()), backend_name);

}  // namespace
}  // namespace touchpoint::core::test
