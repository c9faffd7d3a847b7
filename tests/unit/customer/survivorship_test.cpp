// Survivorship: per attribute (or glob), the configured rule picks the
// winner among what each source last said: source_priority (the leading
// system), most_recent (by event time, not arrival), first_seen, max, min,
// union. Null and "" clear a source's value. Every winner keeps its lineage
// (source, record id, time).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>

#include "customer_test_util.hpp"

namespace touchpoint::core::test {
namespace {

constexpr const char* kRules = R"(
survivorship:
  default: most_recent
  rules:
    - { attributes: [first_name, last_name], rule: source_priority, sources: [crm, web] }
    - { attributes: [newsletter], rule: source_priority, sources: [web, crm] }
    - { attributes: [customer_since, "pref_*"], rule: first_seen }
    - { attributes: [credit_score, last_order], rule: max }
    - { attributes: [risk], rule: min }
    - { attributes: [tags], rule: union }
    - { attributes: ["pref_channel"], rule: max }
)";

class CustomerSurvivorship : public CustomerTest {
 protected:
  void SetUp() override {
    CustomerTest::SetUp();
    if (IsSkipped()) return;
    configure(kRules);
  }
  /// One profile record for the customer "anna" from `source` at `ts`.
  ApplyStats say(const std::string& id, const std::string& source, int64_t ts, Json attributes) {
    attributes["customer"] = "ext:crm:K-1";
    return apply1(rec(id, source, "", attributes, "profile", ts));
  }
  Json value(const std::string& attribute) { return attributes_of("ext:crm:K-1").value(attribute, Json()); }
  Json from(const std::string& attribute) { return lineage_of("ext:crm:K-1", attribute); }
  static Json lineage(const std::string& source, const std::string& record, int64_t ts, const std::string& rule) {
    return Json{{"source", source}, {"record_id", record}, {"ts", ts}, {"rule", rule}};
  }
};

/// Anna's profile exists (made by the CRM's record "k").
#define TP_ANNA() apply1(rec("k", "crm", "K-1", Json::object(), "profile", 1))

TEST_P(CustomerSurvivorship, SourcePriorityLetsTheLeadingSystemWin) {
  TP_ANNA();
  say("w1", "web", 3000, {{"first_name", "Anni"}, {"newsletter", false}});
  say("c1", "crm", 1000, {{"first_name", "Anna"}, {"newsletter", true}});
  EXPECT_EQ(value("first_name"), "Anna");  // the CRM leads for names, though older
  EXPECT_EQ(from("first_name"), lineage("crm", "c1", 1000, "source_priority"));
  EXPECT_EQ(value("newsletter"), false);  // the web leads for the newsletter flag
  EXPECT_EQ(from("newsletter"), lineage("web", "w1", 3000, "source_priority"));
  // A source not on the list ranks after the listed ones, however recent.
  say("s1", "shop", 9000, {{"first_name", "A."}});
  EXPECT_EQ(value("first_name"), "Anna");
  // The leading system clears its value: the next one wins; "" clears too.
  say("c2", "crm", 4000, {{"first_name", nullptr}});
  EXPECT_EQ(value("first_name"), "Anni");
  EXPECT_EQ(from("first_name"), lineage("web", "w1", 3000, "source_priority"));
  say("w2", "web", 5000, {{"first_name", ""}});
  EXPECT_EQ(value("first_name"), "A.");
  EXPECT_EQ(from("first_name"), lineage("shop", "s1", 9000, "source_priority"));
  // The CRM speaks again: it leads again.
  say("c3", "crm", 6000, {{"first_name", "Anna Maria"}});
  EXPECT_EQ(value("first_name"), "Anna Maria");
}

TEST_P(CustomerSurvivorship, MostRecentIsByEventTimeNotByArrival) {
  TP_ANNA();
  say("a", "web", 2000, {{"city", "Köln"}});
  say("b", "crm", 1000, {{"city", "Ulm"}});  // older, arrives later
  EXPECT_EQ(value("city"), "Köln");
  EXPECT_EQ(from("city"), lineage("web", "a", 2000, "most_recent"));
  say("c", "web", 1500, {{"city", "Bonn"}});  // the same source, older than what it said before
  EXPECT_EQ(value("city"), "Köln");
  say("d", "crm", 2500, {{"city", "Berlin"}});
  EXPECT_EQ(value("city"), "Berlin");
  EXPECT_EQ(from("city"), lineage("crm", "d", 2500, "most_recent"));
  // An old removal arriving late does not clear a newer value.
  say("e", "crm", 100, {{"city", nullptr}});
  EXPECT_EQ(value("city"), "Berlin");
  // A newer removal clears that source's value; the other source's value remains.
  say("f", "crm", 3000, {{"city", nullptr}});
  EXPECT_EQ(value("city"), "Köln");
  say("g", "web", 3100, {{"city", ""}});
  EXPECT_TRUE(value("city").is_null());
  EXPECT_FALSE(attributes_of("ext:crm:K-1").contains("city"));
  EXPECT_TRUE(from("city").is_null());
}

TEST_P(CustomerSurvivorship, FirstSeenKeepsTheEarliestValueOfAnySource) {
  TP_ANNA();
  say("w1", "web", 5000, {{"customer_since", "2020"}});
  say("c1", "crm", 2000, {{"customer_since", "2018"}});  // earlier, arrives later
  EXPECT_EQ(value("customer_since"), "2018");
  EXPECT_EQ(from("customer_since"), lineage("crm", "c1", 2000, "first_seen"));
  say("c2", "crm", 9000, {{"customer_since", "2019"}});  // the CRM's later statement does not change its first
  EXPECT_EQ(value("customer_since"), "2018");
  say("s1", "shop", 1000, {{"customer_since", "2017"}});
  EXPECT_EQ(value("customer_since"), "2017");
  EXPECT_EQ(from("customer_since"), lineage("shop", "s1", 1000, "first_seen"));
}

// Regression test for a fixed bug (core/customer/profile_state.cpp ProfileState::update_winner, case
// first_seen): the winner is taken from Candidate::first_value without
// looking at the source's current value, so a source that cleared the
// attribute (null or "", "a removal is a statement too") keeps supplying it
// forever under first_seen, unlike every other rule. Fix: skip candidates
// whose `value` is null in the first_seen loop (the candidate keeps its
// first_* fields, so a later non-empty statement brings it back).
TEST_P(CustomerSurvivorship, FirstSeenHonoursAClearedValue) {
  TP_ANNA();
  say("w1", "web", 5000, {{"customer_since", "2020"}});
  say("c1", "crm", 2000, {{"customer_since", "2018"}});
  say("c2", "crm", 6000, {{"customer_since", nullptr}});  // the CRM cleared it
  EXPECT_EQ(value("customer_since"), "2020") << "a cleared source still supplies its first value";
  say("w2", "web", 7000, {{"customer_since", ""}});
  EXPECT_TRUE(value("customer_since").is_null()) << "every source cleared it";
}

TEST_P(CustomerSurvivorship, MaxAndMinOverEachSourcesCurrentValue) {
  TP_ANNA();
  say("c1", "crm", 1000, {{"credit_score", 450}, {"risk", 3}, {"last_order", "2026-01-31"}});
  say("w1", "web", 500, {{"credit_score", 720}, {"risk", 5}, {"last_order", "2025-12-24"}});
  EXPECT_EQ(value("credit_score"), 720);
  EXPECT_EQ(from("credit_score"), lineage("web", "w1", 500, "max"));
  EXPECT_EQ(value("risk"), 3);
  EXPECT_EQ(from("risk"), lineage("crm", "c1", 1000, "min"));
  EXPECT_EQ(value("last_order"), "2026-01-31");  // strings compare as text (ISO dates sort)
  say("s1", "shop", 700, {{"credit_score", 720.5}, {"risk", 2.5}});
  EXPECT_EQ(value("credit_score"), 720.5);
  EXPECT_EQ(value("risk"), 2.5);
  // A source's newer value replaces its older one (the max is over current values, not history).
  say("s2", "shop", 800, {{"credit_score", 100}, {"risk", nullptr}});
  EXPECT_EQ(value("credit_score"), 720);
  EXPECT_EQ(value("risk"), 3);
  say("w2", "web", 900, {{"credit_score", nullptr}});
  EXPECT_EQ(value("credit_score"), 450);
  EXPECT_EQ(from("credit_score"), lineage("crm", "c1", 1000, "max"));
}

TEST_P(CustomerSurvivorship, UnionCollectsEverySourcesListOnce) {
  TP_ANNA();
  say("c1", "crm", 1000, {{"tags", {"vip", "newsletter"}}});
  say("w1", "web", 2000, {{"tags", {"newsletter", "app"}}});
  say("s1", "shop", 1500, {{"tags", "outlet"}});  // a single value counts as a list of one
  auto sorted = [](Json v) {
    std::vector<std::string> out;
    for (const Json& x : v) out.push_back(x.get<std::string>());
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(sorted(value("tags")), (Strings{"app", "newsletter", "outlet", "vip"}));
  EXPECT_EQ(value("tags").size(), 4u);  // no duplicates
  Json l = from("tags");
  EXPECT_EQ(l["rule"], "union");
  EXPECT_EQ(sorted(l["sources"]), (Strings{"crm", "shop", "web"}));
  say("c2", "crm", 3000, {{"tags", {"vip"}}});  // the CRM's list replaces its own
  EXPECT_EQ(sorted(value("tags")), (Strings{"app", "newsletter", "outlet", "vip"}));
  say("w2", "web", 3000, {{"tags", Json::array()}});
  EXPECT_EQ(sorted(value("tags")), (Strings{"outlet", "vip"}));
  say("s2", "shop", 3000, {{"tags", nullptr}});
  say("c3", "crm", 4000, {{"tags", ""}});
  EXPECT_TRUE(value("tags").is_null());
}

TEST_P(CustomerSurvivorship, GlobsAndTheFirstMatchingRuleDecide) {
  TP_ANNA();
  say("w1", "web", 2000, {{"pref_channel", "email"}, {"pref_language", "de"}, {"preferred", "x"}});
  say("c1", "crm", 1000, {{"pref_channel", "post"}, {"pref_language", "en"}, {"preferred", "y"}});
  // "pref_*" is first_seen, listed before the max rule for pref_channel: the first match wins.
  EXPECT_EQ(value("pref_channel"), "post");
  EXPECT_EQ(from("pref_channel")["rule"], "first_seen");
  EXPECT_EQ(value("pref_language"), "en");
  // "preferred" does not match "pref_*": the default rule (most recent).
  EXPECT_EQ(value("preferred"), "x");
  EXPECT_EQ(from("preferred")["rule"], "most_recent");
}

TEST_P(CustomerSurvivorship, TheDefaultRuleIsConfigurable) {
  configure(R"(
survivorship: { default: first_seen }
)");
  TP_ANNA();
  say("w1", "web", 2000, {{"city", "Köln"}});
  say("c1", "crm", 3000, {{"city", "Ulm"}});
  EXPECT_EQ(value("city"), "Köln");
  EXPECT_EQ(from("city")["rule"], "first_seen");
}

TEST_P(CustomerSurvivorship, ObjectsAreOneValueAndReservedKeysAreNoAttributes) {
  TP_ANNA();
  say("c1", "crm", 1000, {{"address", {{"street", "Hauptstr. 1"}, {"city", "Ulm"}, {"zip", "89073"}}}});
  say("w1", "web", 2000, {{"address", {{"city", "Köln"}}}, {"external_ids", {{"shop", "S-1"}}}});
  EXPECT_EQ(value("address"), (Json{{"city", "Köln"}}));  // replaced whole, not deep-merged
  EXPECT_FALSE(attributes_of("ext:crm:K-1").contains("customer"));
  EXPECT_FALSE(attributes_of("ext:crm:K-1").contains("external_ids"));
  EXPECT_EQ(id_of("ext:shop:S-1"), id_of("ext:crm:K-1"));
}

TEST_P(CustomerSurvivorship, LineageIsInTheViewWithItsTime) {
  TP_ANNA();
  say("c1", "crm", ms("2026-03-01T10:00:00Z"), {{"first_name", "Anna"}});
  const Json v = view_json(view_of("ext:crm:K-1"));
  const Json& a = v["attributes"]["first_name"];
  EXPECT_EQ(a["value"], "Anna");
  EXPECT_EQ(a["from"]["source"], "crm");
  EXPECT_EQ(a["from"]["record_id"], "c1");
  EXPECT_EQ(a["from"]["ts"], ms("2026-03-01T10:00:00Z"));
  EXPECT_EQ(a["from"]["at"], "2026-03-01T10:00:00.000Z");
  EXPECT_EQ(a["from"]["rule"], "source_priority");
}

// customer.cache_profiles: 0 keeps no profile between batches, so every
// statement below reloads the profile from its stored state. The winners
// and their lineage must be exactly those of a warm cache (the tests above).
TEST_P(CustomerSurvivorship, AColdProfileCacheGivesTheSameWinners) {
  configure(std::string(kRules) + "cache_profiles: 0\n");
  TP_ANNA();
  say("c1", "crm", 1000, {{"tags", {"vip", "newsletter"}}, {"first_name", "Anna"}, {"credit_score", 450}});
  say("w1", "web", 2000, {{"tags", {"newsletter", "app"}}, {"first_name", "Ana"}, {"credit_score", 720}});
  say("s1", "shop", 1500, {{"tags", "outlet"}, {"customer_since", "2017"}});
  say("c2", "crm", 500, {{"customer_since", "2016"}});
  EXPECT_EQ(value("first_name"), "Anna");
  EXPECT_EQ(from("first_name"), lineage("crm", "c1", 1000, "source_priority"));
  EXPECT_EQ(value("credit_score"), 720);
  EXPECT_EQ(value("customer_since"), "2016");
  EXPECT_EQ(from("customer_since"), lineage("crm", "c2", 500, "first_seen"));
  std::vector<std::string> tags;
  for (const Json& t : value("tags")) tags.push_back(t.get<std::string>());
  std::sort(tags.begin(), tags.end());
  EXPECT_EQ(tags, (Strings{"app", "newsletter", "outlet", "vip"}));
}

TEST(SurvivorshipConfig, BadRulesAreConfigErrorsWithTheirPosition) {
  auto error = [](const std::string& yaml) -> std::string {
    try {
      customer_config(yaml);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "<no error>";
  };
  EXPECT_NE(error("survivorship: { default: newest }").find("is not a survivorship rule"), std::string::npos);
  EXPECT_NE(error("survivorship: { default: source_priority }").find("cannot be source_priority"), std::string::npos);
  EXPECT_NE(
      error("survivorship:\n  rules:\n    - { attributes: [a], rule: source_priority }\n").find("needs 'sources'"),
      std::string::npos);
  EXPECT_NE(error("survivorship:\n  rules:\n    - { attributes: [a], rule: max, sources: [crm] }\n")
                .find("only applies to rule source_priority"),
            std::string::npos);
  EXPECT_NE(error("survivorship:\n  rules:\n    - { attributes: [], rule: max }\n").find("must not be empty"),
            std::string::npos);
  EXPECT_NE(error("identities:\n  fax: {}\n").find("test.yaml:2:3"), std::string::npos);
  EXPECT_NE(error("identities:\n  email: { blocked_patterns: [\"(\"] }\n").find("not a valid RE2"), std::string::npos);
  EXPECT_NE(error("cache_profiles: -1").find("customer.cache_profiles"), std::string::npos);
  EXPECT_NE(error("cache_profiles: lots").find("test.yaml:1:17"), std::string::npos);
  EXPECT_NE(error("cache_profiles: 99999999999999999999").find("customer.cache_profiles"), std::string::npos);
  EXPECT_EQ(customer_config("cache_profiles: 5").cache_profiles, 5u);
  EXPECT_EQ(customer_config("rulebook: r.yaml").cache_profiles, 5'000u);
}

// The stored state is written by hand (no Json tree) for speed; it must be
// exactly the canonical JSON a parse and dump give, and read back to the same
// state, also for hostile keys and values.
TEST(ProfileStateFormat, SerializeIsCanonicalJsonAndRoundTripsHostileValues) {
  CustomerConfig config;
  config.survivorship.push_back({{"tags"}, SurvivorshipRule::union_, {}});
  const customer::Survivorship rules(config);
  customer::ProfileState state;
  const std::string invalid_utf8 = "M\xfcller \xc3";
  const Json data = {{"first_name", "Zo\u00eb \"quoted\" \\ back\nslash\t\u0001"},
                     {"last_name", invalid_utf8},
                     {"address", {{"street", "Hauptstra\u00dfe 1"}, {"lines", {1, 2.5, nullptr, true}}}},
                     {"tags", {"a", "b"}},
                     {"credit_score", -9223372036854775807LL},
                     {"weird \"key\"\u2028", ""}};
  state.apply_attributes(data, "crm\"src", 1000, 1, "rec \"1\"", rules);
  state.apply_attributes({{"first_name", "Anna"}, {"tags", {"c"}}}, "web", 2000, 2, "r2", rules);
  state.apply_attributes({{"risk", 0.1}}, "legacy", -86'400'000, INT64_MIN, "r0", rules);  // before 1970, odd seq
  state.apply_consent("email", "marketing",
                      customer::Consent{"granted", 3000, 3, "web", "r3", {{"ip", "127.0.0.1"}, {"doc", "\u00e4"}}});
  const std::string text = state.serialize();
  const Json parsed = Json::parse(text, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << text;
  EXPECT_EQ(parsed.dump(-1, ' ', false, Json::error_handler_t::replace), text);
  const customer::ProfileState back =
      customer::ProfileState::parse(text, state.attributes().dump(-1, ' ', false, Json::error_handler_t::replace));
  EXPECT_EQ(back.serialize(), text);
  // Invalid UTF-8 is stored as U+FFFD (the replacement the whole store uses).
  const auto text_of = [](const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); };
  EXPECT_EQ(text_of(back.attributes()), text_of(state.attributes()));
  EXPECT_NE(text.find("M\xef\xbf\xbdller"), std::string::npos) << text;
  EXPECT_EQ(parsed["k"]["email/marketing"][5]["doc"], "\u00e4");
  EXPECT_EQ(parsed["c"]["risk"]["legacy"][1], -86'400'000);
  EXPECT_EQ(parsed["c"]["risk"]["legacy"][2], INT64_MIN);

  // What decisions read: no candidates, the same attributes, lineage and consents.
  const customer::ProfileState light =
      customer::ProfileState::parse_without_candidates(text, text_of(state.attributes()));
  const Json light_parsed = Json::parse(light.serialize());
  EXPECT_EQ(light_parsed["c"], Json::object());
  EXPECT_EQ(light_parsed["k"], parsed["k"]);
  EXPECT_EQ(light_parsed["l"], parsed["l"]);
  EXPECT_EQ(text_of(light.attributes()), text_of(state.attributes()));
}

INSTANTIATE_TEST_SUITE_P(Backends, CustomerSurvivorship, ::testing::ValuesIn(backends()), backend_name);

}  // namespace
}  // namespace touchpoint::core::test
