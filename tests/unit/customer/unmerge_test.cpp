// Unmerge: a merge is split along the origins of identities and records,
// both profiles are recomputed from their own records, the split is audited,
// and the two are kept apart afterwards (a later record with both identities
// records a "split" conflict instead of merging them again).

#include <gtest/gtest.h>

#include "customer_test_util.hpp"

namespace touchpoint::core::test {
namespace {

class CustomerUnmerge : public CustomerTest {
 protected:
  /// Anna (CRM, profile 1) and the web's Anna (profile 2), merged by a shop
  /// record that knows both ids and carries no attributes itself.
  void merged_anna() {
    apply({rec("c1", "crm", "K-1", {{"email", "anna@example.de"}, {"first_name", "Anna"}, {"city", "Berlin"}},
               "profile", 1000),
           rec("c-e", "crm", "K-1", {{"event_type", "contract_signed"}, {"product", "mortgage"}}, "event", 1100),
           rec("c-k", "crm", "K-1", {{"channel", "email"}, {"purpose", "marketing"}, {"status", "granted"}}, "consent",
               1200),
           rec("w1", "web", "W-2", {{"phone", "+4930123456"}, {"city", "Ulm"}, {"newsletter", true}}, "profile", 2000),
           rec("w-e", "web", "W-2", {{"event_type", "web_visit"}}, "event", 2100),
           rec("w-k", "web", "W-2", {{"channel", "email"}, {"purpose", "marketing"}, {"status", "denied"}}, "consent",
               2200)});
    const ApplyStats st =
        apply1(rec("bridge", "shop", "", {{"external_ids", {{"crm", "K-1"}, {"web", "W-2"}}}}, "profile", 3000));
    ASSERT_EQ(st.merges, 1u);
  }
  int64_t the_merge() { return store().reads().merges_of(1).at(0).id; }
};

TEST_P(CustomerUnmerge, SplitsAlongOriginsAndRecomputesBothFromTheirRecords) {
  merged_anna();
  ASSERT_EQ(id_of("ext:web:W-2"), 1);
  const Json merged = attributes_of("1");
  EXPECT_EQ(merged["city"], "Ulm");
  EXPECT_EQ(merged["newsletter"], true);
  EXPECT_EQ(view_of("1").state.consents().at("email/marketing").status, "denied");
  const std::vector<MergeRow> m = store().reads().merges_of(1);
  ASSERT_EQ(m.size(), 1u);

  customer::Actor dpo{"admin", "10.0.0.7"};
  const std::pair<int64_t, int64_t> split = cs().unmerge(m[0].id, dpo);
  EXPECT_EQ(split, (std::pair<int64_t, int64_t>{1, 2}));
  EXPECT_EQ(store().stats().profiles, 2u);
  EXPECT_EQ(store().reads().profile(2)->merged_into, 0);
  EXPECT_TRUE(store().reads().merged_into(1).empty());
  EXPECT_EQ(store().reads().merge(m[0].id)->state, "split");

  // Identities and records are back where they came from.
  EXPECT_EQ(identities_of("1"), (Strings{"email:anna@example.de", "ext:crm:K-1"}));
  EXPECT_EQ(identities_of("2"), (Strings{"ext:web:W-2", "phone:+4930123456"}));
  EXPECT_EQ(id_of("+4930123456"), 2);
  EXPECT_EQ(id_of("anna@example.de"), 1);
  Strings one, two;
  for (const RecordRow& r : store().reads().records_of(1, 0, false)) one.push_back(r.id);
  for (const RecordRow& r : store().reads().records_of(2, 0, false)) two.push_back(r.id);
  EXPECT_EQ(one, (Strings{"c1", "c-e", "c-k", "bridge"}));  // the bridge named K-1 first
  EXPECT_EQ(two, (Strings{"w1", "w-e", "w-k"}));

  // Both recomputed from their own records only.
  EXPECT_EQ(attributes_of("1"), (Json{{"email", "anna@example.de"}, {"first_name", "Anna"}, {"city", "Berlin"}}));
  EXPECT_EQ(attributes_of("2"), (Json{{"phone", "+4930123456"}, {"city", "Ulm"}, {"newsletter", true}}));
  EXPECT_EQ(lineage_of("2", "city")["record_id"], "w1");
  EXPECT_EQ(view_of("1").state.consents().at("email/marketing").status, "granted");
  EXPECT_EQ(view_of("2").state.consents().at("email/marketing").status, "denied");
  ASSERT_EQ(store().reads().events_of(1, INT64_MIN).size(), 1u);
  EXPECT_EQ(store().reads().events_of(1, INT64_MIN)[0].event_type, "contract_signed");
  ASSERT_EQ(store().reads().events_of(2, INT64_MIN).size(), 1u);
  EXPECT_EQ(store().reads().events_of(2, INT64_MIN)[0].event_type, "web_visit");

  // Audited.
  const std::vector<AuditRow> audit = store().reads().audit(10);
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit[0].action, "profile.unmerge");
  EXPECT_EQ(audit[0].actor, "admin");
  EXPECT_EQ(audit[0].address, "10.0.0.7");
  EXPECT_EQ(audit[0].target, "profile:1 / profile:2");
  EXPECT_EQ(Json::parse(audit[0].detail)["merge"], m[0].id);

  // Both keep working as separate customers, also after a restart.
  reopen_all();
  apply1(rec("w2", "web", "W-2", {{"city", "Hamburg"}}, "profile", 4000));
  EXPECT_EQ(attributes_of("2")["city"], "Hamburg");
  EXPECT_EQ(attributes_of("1")["city"], "Berlin");
}

TEST_P(CustomerUnmerge, UnmergedProfilesAreKeptApartAfterwards) {
  merged_anna();
  cs().unmerge(the_merge(), customer::Actor{});
  const ApplyStats st =
      apply1(rec("again", "callcenter", "", {{"email", "anna@example.de"}, {"phone", "+4930123456"}, {"note", "x"}}));
  EXPECT_EQ(st.merges, 0u);
  EXPECT_EQ(st.identity_conflicts, 1u);
  EXPECT_EQ(store().stats().profiles, 2u);
  EXPECT_EQ(id_of("+4930123456"), 2);
  EXPECT_EQ(attributes_of("1")["note"], "x");  // the leading identity's profile gets the record
  const std::vector<ConflictRow> c = store().reads().conflicts_of(2);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, "split");
  EXPECT_EQ(c[0].record_id, "again");
  EXPECT_NE(c[0].detail.find("unmerged"), std::string::npos) << c[0].detail;
  // Replaying the record that caused the merge changes nothing either.
  EXPECT_EQ(apply1(rec("bridge", "shop", "", {{"external_ids", {{"crm", "K-1"}, {"web", "W-2"}}}})).duplicates, 1u);
  EXPECT_EQ(store().stats().profiles, 2u);
}

TEST_P(CustomerUnmerge, UnknownAndAlreadySplitMergesAreErrors) {
  merged_anna();
  const int64_t m = the_merge();
  EXPECT_THROW(cs().unmerge(m + 100, customer::Actor{}), std::invalid_argument);
  cs().unmerge(m, customer::Actor{});
  EXPECT_THROW(cs().unmerge(m, customer::Actor{}), std::invalid_argument);
  EXPECT_EQ(store().stats().profiles, 2u);
}

TEST_P(CustomerUnmerge, UnmergeTakesTheWholeMergedSideWithIt) {
  // 3 is merged into 2, then 2 into 1. Splitting 2 from 1 brings 3 back under 2.
  apply({rec("a", "crm", "", {{"email", "a@x.de"}, {"x", "a"}}, "profile", 100),
         rec("b", "crm", "", {{"email", "b@x.de"}, {"y", "b"}}, "profile", 200),
         rec("c", "crm", "", {{"email", "c@x.de"}, {"z", "c"}}, "profile", 300)});
  apply1(rec("bc", "web", "", {{"external_ids", {{"web", "W-B"}}}, {"email", "b@x.de"}}, "profile", 400));
  apply1(rec("bc2", "web", "", {{"external_ids", {{"web", "W-B"}}}, {"email", "c@x.de"}}, "profile", 500));
  ASSERT_EQ(id_of("c@x.de"), 2);
  apply1(rec("ab", "shop", "", {{"external_ids", {{"web", "W-B"}, {"shop", "S-A"}}}}, "profile", 600));
  apply1(rec("ab2", "shop", "", {{"external_ids", {{"shop", "S-A"}}}, {"email", "a@x.de"}}, "profile", 700));
  ASSERT_EQ(id_of("c@x.de"), 1);
  ASSERT_EQ(store().stats().profiles, 1u);
  int64_t merge_2_into_1 = 0;
  for (const MergeRow& m : store().reads().merges_of(1))
    if (m.merged == 2) merge_2_into_1 = m.id;
  ASSERT_NE(merge_2_into_1, 0);
  cs().unmerge(merge_2_into_1, customer::Actor{});
  EXPECT_EQ(store().stats().profiles, 2u);
  EXPECT_EQ(id_of("a@x.de"), 1);
  EXPECT_EQ(id_of("b@x.de"), 2);
  EXPECT_EQ(id_of("c@x.de"), 2);
  EXPECT_EQ(id_of("3"), 2);
  EXPECT_EQ(store().reads().profile(3)->merged_into, 2);
  EXPECT_EQ(attributes_of("a@x.de").value("x", ""), "a");
  EXPECT_FALSE(attributes_of("a@x.de").contains("y"));
  EXPECT_FALSE(attributes_of("a@x.de").contains("z"));
  EXPECT_EQ(attributes_of("b@x.de").value("y", ""), "b");
  EXPECT_EQ(attributes_of("b@x.de").value("z", ""), "c");
  EXPECT_FALSE(attributes_of("b@x.de").contains("x"));
}

// Regression test for a fixed bug (core/customer/customer_store.cpp CustomerStore::apply_record:
// row.origin_profile = target): a record applied while two profiles are
// merged gets the survivor as its origin, whichever person's identity named
// it, so unmerge leaves it with the survivor: the restored person's newer
// data (here: a move to Hamburg) stays on the other person's profile. The
// origin should be the origin_profile of the identity that found the
// profile (the record's leading identity), e.g. by returning IdentityRow
// (with its origin) from the identity lookup, so that unmerge can split the
// records along the identities' origins.
TEST_P(CustomerUnmerge, RecordsAppliedWhileMergedFollowTheirPersonsIdentities) {
  merged_anna();
  // While merged, the web reports its customer's move.
  apply1(rec("w3", "web", "W-2", {{"city", "Hamburg"}}, "profile", 5000));
  cs().unmerge(the_merge(), customer::Actor{});
  EXPECT_EQ(attributes_of("ext:web:W-2")["city"], "Hamburg") << "the web customer's own record stayed behind";
  EXPECT_EQ(attributes_of("ext:crm:K-1")["city"], "Berlin") << "the CRM customer got the other person's address";
}

INSTANTIATE_TEST_SUITE_P(Backends, CustomerUnmerge, ::testing::ValuesIn(backends()), backend_name);

}  // namespace
}  // namespace touchpoint::core::test
