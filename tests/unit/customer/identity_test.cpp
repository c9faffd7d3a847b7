// Identity resolution: normalisation per kind, values that never link anyone
// (placeholders, configured lists and RE2 patterns, non-E.164 phones),
// references, the precedence of a record's identities, merges of two and
// three profiles by one record (the oldest id survives; every alias and old
// id leads to it), and the per-kind limits that keep profiles apart.

#include <gtest/gtest.h>

#include "customer_test_util.hpp"

namespace touchpoint::core::test {
namespace {

using customer::IdentityKey;
using customer::IdentityResolver;
using CustomerIdentity = CustomerTest;

std::string norm(const IdentityResolver& r, std::string_view kind, std::string_view value, std::string* why = nullptr) {
  std::optional<IdentityKey> k = r.normalize(kind, value, why);
  return k ? k->kind + ":" + k->value : "<none>";
}

TEST(IdentityNormalisation, EmailsPhonesAndExternalIds) {
  const CustomerConfig config;
  const IdentityResolver r(config);
  EXPECT_EQ(norm(r, "email", "  Jane.Doe@EXAMPLE.com\t"), "email:jane.doe@example.com");
  EXPECT_EQ(norm(r, "phone", "+49 (30) 123-456"), "phone:+4930123456");
  EXPECT_EQ(norm(r, "phone", "0049 30 123456"), "phone:+4930123456");  // 00 is the international prefix
  EXPECT_EQ(norm(r, "phone", "+49.30/123456"), "phone:+4930123456");
  EXPECT_EQ(norm(r, "ext:crm", " K-1 "), "ext:crm:K-1");  // trimmed, case kept
  EXPECT_EQ(norm(r, "ext:crm", "k-1"), "ext:crm:k-1");
  std::string why;
  EXPECT_EQ(norm(r, "phone", "030 123456", &why), "<none>");  // national format: not E.164
  EXPECT_NE(why.find("E.164"), std::string::npos) << why;
  EXPECT_EQ(norm(r, "phone", "+030123456"), "<none>");         // no leading zero after +
  EXPECT_EQ(norm(r, "phone", "+49301"), "<none>");             // too short
  EXPECT_EQ(norm(r, "phone", "+4930123456789012"), "<none>");  // longer than 15 digits
  EXPECT_EQ(norm(r, "phone", "+49 30 12345x"), "<none>");
  EXPECT_EQ(norm(r, "phone", std::string(100, '1')), "<none>");
  EXPECT_EQ(norm(r, "email", "no-at-sign"), "<none>");
  EXPECT_EQ(norm(r, "email", "a@b@c.de"), "<none>");
  EXPECT_EQ(norm(r, "email", "@example.de"), "<none>");
  EXPECT_EQ(norm(r, "email", "a b@example.de"), "<none>");
  EXPECT_EQ(norm(r, "fax", "+4930123456", &why), "<none>");
  EXPECT_EQ(why, "unknown identity kind");
  EXPECT_EQ(norm(r, "ext:", "K-1"), "<none>");
  EXPECT_EQ(norm(r, "ext:crm", "   "), "<none>");
  EXPECT_EQ(norm(r, "ext:crm", std::string(2000, 'k')), "<none>");
}

TEST(IdentityNormalisation, PlaceholdersNeverIdentifyAnyone) {
  const CustomerConfig config;
  const IdentityResolver r(config);
  for (const char* v : {"test@test.com", "TEST@test.com", "noreply@example.com", "x@x.x", "null", "unknown", "n/a"})
    EXPECT_EQ(norm(r, "email", v), "<none>") << v;
  for (const char* v : {"+490000000", "+4911111111", "+49 0000 0000", "0000000", "-1", "null"})
    EXPECT_EQ(norm(r, "phone", v), "<none>") << v;
  for (const char* v : {"-1", "0", "null", "NULL", "unknown", "Unbekannt", "n/a", "N/A", "undefined", "", "  "})
    EXPECT_EQ(norm(r, "ext:crm", v), "<none>") << v;
  EXPECT_EQ(norm(r, "ext:crm", "K-0"), "ext:crm:K-0");
  EXPECT_EQ(norm(r, "ext:crm", "10"), "ext:crm:10");
}

TEST(IdentityNormalisation, ConfiguredBlockedValuesAndPatterns) {
  const CustomerConfig config = customer_config(R"(
identities:
  email:
    blocked: [info@shop.de, " Office@Shop.de "]
    blocked_patterns: ["noreply@.*", ".*@example\\.invalid"]
  "ext:*":
    blocked: [K-0]
  "ext:crm":
    max_per_profile: 1
    blocked_patterns: ["TEST-[0-9]+"]
)");
  const IdentityResolver r(config);
  EXPECT_EQ(norm(r, "email", "INFO@shop.de"), "<none>");
  EXPECT_EQ(norm(r, "email", "office@shop.de"), "<none>");
  EXPECT_EQ(norm(r, "email", "noreply@shop.de"), "<none>");
  EXPECT_EQ(norm(r, "email", "anna@example.invalid"), "<none>");
  EXPECT_EQ(norm(r, "email", "info@shop.de.evil"), "email:info@shop.de.evil");
  EXPECT_EQ(norm(r, "email", "anna.noreply@shop.de"), "email:anna.noreply@shop.de");  // patterns match the whole value
  EXPECT_EQ(norm(r, "ext:shop", "K-0"), "<none>");                                    // ext:* applies to every system
  EXPECT_EQ(norm(r, "ext:shop", "k-0"), "<none>");
  EXPECT_EQ(norm(r, "ext:crm", "K-0"), "ext:crm:K-0");  // ext:crm has a spec of its own
  EXPECT_EQ(norm(r, "ext:crm", "TEST-12"), "<none>");
  EXPECT_EQ(norm(r, "ext:crm", "TEST-12x"), "ext:crm:TEST-12x");
  EXPECT_EQ(r.max_per_profile("ext:crm"), 1);
  EXPECT_EQ(r.max_per_profile("ext:shop"), 0);
  EXPECT_EQ(r.max_per_profile("email"), 0);
}

TEST(IdentityNormalisation, ReferencesAsTheApiAndTheCliTakeThem) {
  const CustomerConfig config;
  const IdentityResolver r(config);
  auto ref = [&](const std::string& s) {
    customer::CustomerRef c = r.parse_reference(s);
    if (!c.error.empty()) return "error: " + c.error;
    if (c.identity) return c.identity->text();
    return "profile " + std::to_string(c.profile_id);
  };
  EXPECT_EQ(ref("Anna@Example.de"), "email:anna@example.de");
  EXPECT_EQ(ref("email: anna@example.de"), "email:anna@example.de");
  EXPECT_EQ(ref("phone:+49 30 123456"), "phone:+4930123456");
  EXPECT_EQ(ref("+49 30 123456"), "phone:+4930123456");
  EXPECT_EQ(ref("ext:crm:K-1"), "ext:crm:K-1");
  EXPECT_EQ(ref("ext:crm:K:1"), "ext:crm:K:1");  // the value may contain ':'
  EXPECT_EQ(ref("42"), "profile 42");
  EXPECT_EQ(ref(" profile:42 "), "profile 42");
  EXPECT_EQ(ref("0"), "error: profile id 0 does not exist");
  EXPECT_EQ(ref("1234567890123456789"), "error: profile id out of range");
  EXPECT_NE(ref("ext:crm").find("ext:<system>:<id>"), std::string::npos);
  EXPECT_NE(ref("bogus").find("is not an e-mail address"), std::string::npos);
  EXPECT_NE(ref("").find("empty"), std::string::npos);
  EXPECT_NE(ref("test@test.com").find("cannot identify a customer"), std::string::npos);
  EXPECT_NE(ref("phone:030 123456").find("E.164"), std::string::npos);
  EXPECT_NE(ref(std::string(2000, 'a')).find("longer than 1024"), std::string::npos);
}

TEST(IdentityNormalisation, ARecordsIdentitiesInPrecedenceOrder) {
  const CustomerConfig config;
  const IdentityResolver r(config);
  size_t blocked = 0;
  const std::vector<IdentityKey> ids =
      r.extract(rec("x", "crm", "42",
                    {{"email", "  Jane@Example.COM\t"},
                     {"phone", "+49 30 123456"},
                     {"customer", "jane@example.com"},  // the same as the e-mail: once
                     {"external_ids", {{"sap", "S1"}, {"erp", 7}, {"bad", "-1"}, {"obj", {{"x", 1}}}}}}),
                &blocked);
  Strings texts;
  for (const IdentityKey& k : ids) texts.push_back(k.text());
  EXPECT_EQ(texts, (Strings{"ext:crm:42", "ext:erp:7", "ext:sap:S1", "email:jane@example.com", "phone:+4930123456"}));
  EXPECT_EQ(blocked, 1u);  // ext:bad:-1
  blocked = 0;
  EXPECT_TRUE(r.extract(rec("y", "crm", "", {{"email", "   "}, {"phone", 49170}}), &blocked).empty());
  EXPECT_EQ(blocked, 0u);  // empty and non-string values are no identities, not refused ones
  EXPECT_TRUE(
      r.extract(rec("z", "crm", "null", {{"email", "test@test.com"}, {"phone", "030 1234"}}), &blocked).empty());
  EXPECT_EQ(blocked, 3u);
}

TEST_P(CustomerIdentity, PlaceholderValuesDoNotLinkDifferentPeople) {
  const ApplyStats st = apply({rec("a", "crm", "-1", {{"email", "test@test.com"}, {"name", "A"}}),
                               rec("b", "web", "unknown", {{"email", "TEST@test.com"}, {"name", "B"}})});
  EXPECT_EQ(st.applied, 2u);
  EXPECT_EQ(st.profiles_created, 2u);
  EXPECT_EQ(st.merges, 0u);
  EXPECT_EQ(st.blocked_identities, 4u);
  EXPECT_EQ(store().stats().profiles, 2u);
  EXPECT_FALSE(store().reads().identity_profile("email", "test@test.com").has_value());
  EXPECT_EQ(id_of("test@test.com"), 0);
}

TEST_P(CustomerIdentity, ConfiguredBlockedValuesDoNotLinkDifferentPeople) {
  configure(R"(
identities:
  email: { blocked: [info@shop.de], blocked_patterns: ["noreply@.*"] }
  "ext:*": { blocked: [K-0] }
)");
  const ApplyStats st = apply({rec("a", "shop", "K-0", {{"email", "info@shop.de"}}),
                               rec("b", "shop", "K-0", {{"email", "noreply@shop.de"}}),
                               rec("c", "web", "", {{"email", "INFO@shop.de"}, {"phone", "030 123456"}})});
  EXPECT_EQ(st.profiles_created, 3u);
  EXPECT_EQ(st.blocked_identities, 6u);
  EXPECT_EQ(store().stats().profiles, 3u);
}

TEST_P(CustomerIdentity, TheSameEmailFromTwoSourcesIsOneProfileCaseInsensitively) {
  apply1(rec("c1", "crm", "42", {{"email", "Jane.Doe@Example.com"}, {"first_name", "Jane"}}));
  const ApplyStats st = apply1(rec("w1", "web", "w-9", {{"email", "  jane.doe@EXAMPLE.com "}, {"newsletter", true}}));
  EXPECT_EQ(st.profiles_created, 0u);
  EXPECT_EQ(st.merges, 0u);
  EXPECT_EQ(store().stats().profiles, 1u);
  EXPECT_EQ(identities_of("jane.doe@example.com"),
            (Strings{"email:jane.doe@example.com", "ext:crm:42", "ext:web:w-9"}));
  for (const char* q : {"ext:crm:42", "ext:web:w-9", "1", "email:Jane.Doe@example.com"}) EXPECT_EQ(id_of(q), 1) << q;
  const std::vector<IdentityRow> ids = store().reads().identities_of(1);
  EXPECT_EQ(ids[0].source, "crm");  // the first reporter
  EXPECT_EQ(ids[2].source, "web");
  EXPECT_EQ(id_of("nobody@example.com"), 0);
  EXPECT_EQ(id_of("99"), 0);
}

TEST_P(CustomerIdentity, TwoProfilesMergeWhenOneRecordCarriesBoth) {
  apply1(rec("c1", "crm", "K-1", {{"email", "anna@example.de"}, {"first_name", "Anna"}}, "profile", 1000));
  apply({rec("w1", "web", "W-2", {{"phone", "+4930123456"}, {"newsletter", true}}, "profile", 2000),
         rec("e1", "web", "W-2", {{"event_type", "web_visit"}}, "event", 2100),
         rec("s1", "web", "", {{"customer", "2"}, {"list", "vip-hold"}}, "suppression")});
  ASSERT_EQ(id_of("ext:web:W-2"), 2);
  ASSERT_EQ(store().stats().profiles, 2u);

  // The call center knows both the e-mail and the phone number.
  const ApplyStats st =
      apply1(rec("cc1", "callcenter", "", {{"email", "anna@example.de"}, {"phone", "+49 30 123456"}}, "profile", 3000));
  EXPECT_EQ(st.merges, 1u);
  EXPECT_EQ(st.profiles_created, 0u);
  EXPECT_EQ(st.identity_conflicts, 0u);
  EXPECT_EQ(store().stats().profiles, 1u);
  // Every alias and the old id lead to the survivor, the oldest profile.
  for (const char* q : {"anna@example.de", "ext:crm:K-1", "ext:web:W-2", "+4930123456", "1", "2", "profile:2"})
    EXPECT_EQ(id_of(q), 1) << q;
  EXPECT_EQ(identities_of("1"), (Strings{"email:anna@example.de", "ext:crm:K-1", "ext:web:W-2", "phone:+4930123456"}));
  const std::optional<ProfileRow> merged = store().reads().profile(2);
  ASSERT_TRUE(merged.has_value());
  EXPECT_EQ(merged->merged_into, 1);
  EXPECT_EQ(store().reads().merged_into(1), (std::vector<int64_t>{2}));
  const Json a = attributes_of("1");
  EXPECT_EQ(a["first_name"], "Anna");
  EXPECT_EQ(a["newsletter"], true);
  EXPECT_EQ(a["phone"], "+49 30 123456");  // the attribute as the latest source sent it
  EXPECT_EQ(store().reads().records_of(1, 0, false).size(), 5u);
  EXPECT_TRUE(store().reads().records_of(2, 0, false).empty());
  EXPECT_EQ(store().reads().events_of(1, INT64_MIN).size(), 1u);
  EXPECT_EQ(store().reads().suppressions_for({"profile:1"}).size(), 1u);
  EXPECT_TRUE(store().reads().suppressions_for({"profile:2"}).empty());
  const std::vector<MergeRow> m = store().reads().merges_of(1);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].survivor, 1);
  EXPECT_EQ(m[0].merged, 2);
  EXPECT_EQ(m[0].record_source, "callcenter");
  EXPECT_EQ(m[0].record_id, "cc1");
  EXPECT_EQ(m[0].state, "merged");
  // Records naming the old id land on the survivor.
  apply1(rec("e2", "web", "", {{"customer", "2"}, {"event_type", "purchase"}}, "event", 4000));
  EXPECT_EQ(store().reads().events_of(1, INT64_MIN).size(), 2u);
}

TEST_P(CustomerIdentity, ThreeProfilesMergeByOneRecordIntoTheOldest) {
  apply({rec("a", "crm", "K-1", {{"city", "Ulm"}}, "profile", 100),
         rec("b", "web", "", {{"email", "anna@example.de"}, {"newsletter", true}}, "profile", 200),
         rec("c", "callcenter", "", {{"phone", "+4930123456"}, {"pref", "phone"}}, "profile", 300)});
  ASSERT_EQ(store().stats().profiles, 3u);
  // The shop's record names all three.
  const ApplyStats st = apply1(
      rec("s", "shop", "", {{"phone", "+4930123456"}, {"email", "anna@example.de"}, {"external_ids", {{"crm", "K-1"}}}},
          "profile", 400));
  EXPECT_EQ(st.merges, 2u);
  EXPECT_EQ(store().stats().profiles, 1u);
  for (const char* q : {"ext:crm:K-1", "anna@example.de", "+4930123456", "1", "2", "3"}) EXPECT_EQ(id_of(q), 1) << q;
  EXPECT_EQ(store().reads().merged_into(1), (std::vector<int64_t>{2, 3}));
  const Json a = attributes_of("1");
  EXPECT_EQ(a["city"], "Ulm");
  EXPECT_EQ(a["newsletter"], true);
  EXPECT_EQ(a["pref"], "phone");
  EXPECT_EQ(store().reads().records_of(1, 0, false).size(), 4u);
  // The shop record belongs to the profile its leading identity named (ext:crm).
  const std::vector<RecordRow> recs = store().reads().records_of(1, 0, true);
  EXPECT_EQ(recs[0].id, "s");
  EXPECT_EQ(recs[0].origin_profile, 1);
}

TEST_P(CustomerIdentity, MergedProfilesFollowAChainOfMerges) {
  apply({rec("a", "crm", "", {{"email", "a@x.de"}}), rec("b", "crm", "", {{"email", "b@x.de"}}),
         rec("c", "crm", "", {{"email", "c@x.de"}})});
  apply1(rec("bc", "web", "", {{"email", "c@x.de"}, {"external_ids", {{"shop", "S-1"}}}}));   // new id on 3
  apply1(rec("bc2", "web", "", {{"email", "b@x.de"}, {"external_ids", {{"shop", "S-1"}}}}));  // 3 into 2
  EXPECT_EQ(id_of("c@x.de"), 2);
  apply1(rec("ab", "web", "", {{"email", "a@x.de"}, {"external_ids", {{"shop", "S-1"}}}}));  // 2 into 1
  for (const char* q : {"a@x.de", "b@x.de", "c@x.de", "ext:shop:S-1", "1", "2", "3"}) EXPECT_EQ(id_of(q), 1) << q;
  EXPECT_EQ(store().reads().profile(3)->merged_into, 2);  // the pointer is followed, not rewritten
  EXPECT_EQ(store().stats().profiles, 1u);
  apply1(rec("e", "web", "", {{"customer", "3"}, {"event_type", "web_visit"}}, "event"));
  EXPECT_EQ(store().reads().events_of(1, INT64_MIN).size(), 1u);
}

TEST_P(CustomerIdentity, PrecedenceDecidesTheRecordsProfileOfOriginAndTheOldestSurvives) {
  apply({rec("cc", "callcenter", "", {{"phone", "+4930123456"}}), rec("w", "web", "", {{"email", "anna@example.de"}})});
  // E-mail comes before phone: the record belongs to the e-mail's profile (2),
  // the merge keeps the older one (1).
  apply1(rec("x", "shop", "", {{"phone", "+4930123456"}, {"email", "anna@example.de"}}));
  const std::vector<RecordRow> recs = store().reads().records_of(1, 0, true);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].id, "x");
  EXPECT_EQ(recs[0].profile_id, 1);
  EXPECT_EQ(recs[0].origin_profile, 2);
}

TEST_P(CustomerIdentity, ALimitKeepsTwoCrmCustomersSharingAnEmailApart) {
  configure(R"(
identities:
  "ext:crm": { max_per_profile: 1 }
)");
  apply1(rec("c1", "crm", "K-1", {{"email", "family@example.de"}, {"first_name", "Anna"}}));
  const ApplyStats st = apply1(rec("c2", "crm", "K-2", {{"email", "family@example.de"}, {"first_name", "Ben"}}));
  EXPECT_EQ(st.merges, 0u);
  EXPECT_EQ(st.identity_conflicts, 1u);
  EXPECT_EQ(st.profiles_created, 1u);  // the record's new anchor gets a profile of its own
  EXPECT_EQ(store().stats().profiles, 2u);
  EXPECT_EQ(id_of("ext:crm:K-1"), 1);
  EXPECT_EQ(id_of("ext:crm:K-2"), 2);
  EXPECT_EQ(id_of("family@example.de"), 1);  // the shared address stays where it was
  EXPECT_EQ(attributes_of("ext:crm:K-1")["first_name"], "Anna");
  EXPECT_EQ(attributes_of("ext:crm:K-2")["first_name"], "Ben");
  EXPECT_EQ(identities_of("ext:crm:K-2"), Strings{"ext:crm:K-2"});
  // The conflict is recorded and visible on both profiles.
  for (int64_t p : {1, 2}) {
    const std::optional<customer::ProfileView> v = cs().view(p);
    ASSERT_TRUE(v.has_value());
    ASSERT_EQ(v->conflicts.size(), 1u) << p;
    EXPECT_EQ(v->conflicts[0].kind, "ext:crm");
    EXPECT_EQ(v->conflicts[0].profile_a, 2);
    EXPECT_EQ(v->conflicts[0].profile_b, 1);
    EXPECT_EQ(v->conflicts[0].record_source, "crm");
    EXPECT_EQ(v->conflicts[0].record_id, "c2");
    EXPECT_NE(v->conflicts[0].detail.find("at most 1"), std::string::npos) << v->conflicts[0].detail;
    EXPECT_EQ(view_json(*v)["conflicts"].size(), 1u);
  }
}

TEST_P(CustomerIdentity, ALimitKeepsTwoExistingProfilesFromMerging) {
  configure(R"(
identities:
  "ext:crm": { max_per_profile: 1 }
)");
  apply({rec("c1", "crm", "K-1", {{"email", "anna@example.de"}}), rec("c2", "crm", "K-2", {{"phone", "+4930123456"}})});
  const ApplyStats st = apply1(rec("w", "web", "", {{"email", "anna@example.de"}, {"phone", "+4930123456"}, {"z", 1}}));
  EXPECT_EQ(st.merges, 0u);
  EXPECT_EQ(st.identity_conflicts, 1u);
  EXPECT_EQ(store().stats().profiles, 2u);
  EXPECT_EQ(attributes_of("anna@example.de")["z"], 1);  // the leading identity's profile gets the record
  EXPECT_EQ(id_of("+4930123456"), 2);                   // never silently re-pointed
  EXPECT_FALSE(attributes_of("+4930123456").contains("z"));
  const std::vector<ConflictRow> c = store().reads().conflicts_of(2);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, "ext:crm");
  EXPECT_EQ(c[0].profile_a, 1);
  EXPECT_EQ(c[0].profile_b, 2);
}

// Regression test for a fixed bug (core/customer/customer_store.cpp CustomerStore::apply_record, the loop
// over groups calling can_merge(t, g) per group): the limit is checked for
// the target and each other profile separately, never for all of them
// together. A record naming a profile without a CRM id and two profiles with
// one CRM id each merges all three: the survivor ends with two ext:crm ids
// although max_per_profile is 1. can_merge must count the identities of the
// target plus every group already accepted into to_merge.
TEST_P(CustomerIdentity, AThreeWayMergeRespectsTheLimitForAllProfilesTogether) {
  configure(R"(
identities:
  "ext:crm": { max_per_profile: 1 }
)");
  apply({rec("w", "web", "W-3", {{"city", "Ulm"}}), rec("c1", "crm", "K-1", {{"email", "anna@example.de"}}),
         rec("c2", "crm", "K-2", {{"phone", "+4930123456"}})});
  apply1(rec("x", "web", "W-3", {{"email", "anna@example.de"}, {"phone", "+4930123456"}}));
  int crm_ids = 0;
  for (const IdentityRow& i : store().reads().identities_of(id_of("ext:web:W-3"))) crm_ids += i.kind == "ext:crm";
  EXPECT_LE(crm_ids, 1) << "one profile holds " << crm_ids << " ext:crm identities; the limit is 1";
  EXPECT_NE(id_of("ext:crm:K-1"), id_of("ext:crm:K-2"));
}

TEST_P(CustomerIdentity, AnIdentityBeyondTheLimitIsNotAddedAndTheConflictSaysWhichMasked) {
  configure(R"(
identities:
  "ext:crm": { max_per_profile: 1 }
)");
  apply1(rec("c1", "crm", "K-1", {{"email", "anna@example.de"}}));
  const ApplyStats st =
      apply1(rec("w1", "web", "W-1", {{"email", "anna@example.de"}, {"external_ids", {{"crm", "K-2000"}}}}));
  EXPECT_EQ(st.identity_conflicts, 1u);
  EXPECT_EQ(st.profiles_created, 0u);
  EXPECT_EQ(identities_of("anna@example.de"), (Strings{"email:anna@example.de", "ext:crm:K-1", "ext:web:W-1"}));
  EXPECT_EQ(id_of("ext:crm:K-2000"), 0);
  const std::vector<ConflictRow> c = store().reads().conflicts_of(1);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, "ext:crm");
  EXPECT_EQ(c[0].profile_b, 0);
  EXPECT_NE(c[0].detail.find("not added"), std::string::npos) << c[0].detail;
  EXPECT_EQ(c[0].detail.find("K-2000"), std::string::npos) << "the value is masked: " << c[0].detail;
}

INSTANTIATE_TEST_SUITE_P(Backends, CustomerIdentity, ::testing::ValuesIn(backends()), backend_name);

}  // namespace
}  // namespace touchpoint::core::test
