// Reading the customer model: references, the 360-degree view (`profile
// show`, GET /v1/profiles/<ref>) as view_json, and the rulebook's snapshot:
// attributes, consents, channels with their validity, the timeline since a
// time, and the suppressions that apply by profile and by identity.

#include <gtest/gtest.h>

#include "customer_test_util.hpp"

namespace touchpoint::core::test {
namespace {

class CustomerView : public CustomerTest {
 protected:
  /// Anna with everything a view shows.
  void anna() {
    apply({
        rec("c1", "crm", "K-1",
            {{"email", "anna@example.de"}, {"first_name", "Anna"}, {"street", "Hauptstr. 1"}, {"city", "Ulm"}},
            "profile", ms("2026-03-01T08:00:00Z")),
        rec("e1", "shop", "",
            {{"customer", "ext:crm:K-1"},
             {"event_type", "purchase"},
             {"product", "mortgage"},
             {"category", "credit"},
             {"revenue", 250000},
             {"at", "2026-03-02T10:00:00Z"}},
            "event", 5),
        rec("e2", "branch", "",
            {{"customer", "anna@example.de"}, {"event_type", "branch_visit"}, {"at", "2026-03-05T10:00:00Z"}}, "event",
            6),
        rec("k1", "web", "",
            {{"customer", "anna@example.de"},
             {"channel", "email"},
             {"purpose", "marketing"},
             {"status", "granted"},
             {"at", "2026-03-01T09:00:00Z"},
             {"evidence", "double-opt-in"}},
            "consent", 7),
        rec("s1", "complaints", "",
            {{"customer", "anna@example.de"},
             {"list", "blacklist"},
             {"channels", {"phone"}},
             {"until", "2027-01-01T00:00:00Z"},
             {"reason", "complaint"}},
            "suppression", 8),
        rec("s2", "complaints", "", {{"customer", "1"}, {"list", "vip-hold"}}, "suppression", 9),
    });
  }
};

TEST_P(CustomerView, ReferencesResolveToTheLiveProfile) {
  anna();
  std::string error;
  EXPECT_EQ(cs().resolve("anna@example.de", &error), 1);
  EXPECT_EQ(cs().resolve("ext:crm:K-1"), 1);
  EXPECT_EQ(cs().resolve("1"), 1);
  EXPECT_FALSE(cs().resolve("nobody@example.de", &error).has_value());
  EXPECT_EQ(error, "");  // well-formed, just unknown
  EXPECT_FALSE(cs().resolve("2", &error).has_value());
  EXPECT_FALSE(cs().resolve("bogus", &error).has_value());
  EXPECT_NE(error.find("is not an e-mail address"), std::string::npos) << error;
}

TEST_P(CustomerView, TheViewShowsEverythingAboutTheCustomer) {
  anna();
  DecisionRow d;
  d.at = ms("2026-03-06T10:00:00Z");
  d.profile_id = 1;
  d.customer = "anna@example.de";
  d.proposal = R"({"channel":"email","campaign":"spring"})";
  d.decision = "suppress";
  d.channel = "email";
  d.reasons = R"([{"rule":"quiet","code":"quiet_period","detail":"branch visit"}])";
  d.rulebook = "sha256:abc";
  d.recorded_ms = d.at;
  cs().record_decision(d);

  const customer::ProfileView v = view_of("anna@example.de");
  const Json j = view_json(v);
  EXPECT_EQ(j["id"], 1);
  EXPECT_EQ(j["merged_into"], 0);
  EXPECT_EQ(j["merged_profiles"], Json::array());
  EXPECT_TRUE(j["created"].is_string());
  EXPECT_TRUE(j["updated"].is_string());
  EXPECT_EQ(j["attributes"]["first_name"]["value"], "Anna");
  EXPECT_EQ(j["attributes"]["first_name"]["from"]["at"], "2026-03-01T08:00:00.000Z");
  ASSERT_EQ(j["identities"].size(), 2u);
  EXPECT_EQ(j["identities"][0]["kind"], "email");
  EXPECT_EQ(j["identities"][0]["value"], "anna@example.de");
  EXPECT_EQ(j["identities"][0]["source"], "crm");
  EXPECT_TRUE(j["identities"][0]["first_seen"].is_string());
  ASSERT_EQ(j["consents"].size(), 1u);
  EXPECT_EQ(j["consents"][0], (Json{{"channel", "email"},
                                    {"purpose", "marketing"},
                                    {"status", "granted"},
                                    {"at", "2026-03-01T09:00:00.000Z"},
                                    {"source", "web"},
                                    {"record_id", "k1"},
                                    {"evidence", "double-opt-in"}}));
  EXPECT_EQ(j["channels"]["email"], (Json{{"has_address", true}, {"valid", true}}));
  EXPECT_EQ(j["channels"]["phone"], (Json{{"has_address", false}, {"valid", true}}));
  EXPECT_EQ(j["channels"]["post"], (Json{{"has_address", true}, {"valid", true}}));  // street and city
  ASSERT_EQ(j["suppressions"].size(), 2u);
  Json blacklist, vip;
  for (const Json& s : j["suppressions"]) (s["list"] == "blacklist" ? blacklist : vip) = s;
  EXPECT_EQ(blacklist["subject"], "email:anna@example.de");
  EXPECT_EQ(blacklist["reason"], "complaint");
  EXPECT_EQ(blacklist["channels"], Json::array({"phone"}));
  EXPECT_EQ(blacklist["until"], "2027-01-01T00:00:00.000Z");
  EXPECT_EQ(blacklist["source"], "complaints");
  EXPECT_TRUE(blacklist["added"].is_string());
  EXPECT_EQ(vip["subject"], "profile:1");
  EXPECT_FALSE(vip.contains("until"));
  ASSERT_EQ(j["timeline"].size(), 2u);
  EXPECT_EQ(j["timeline"][0], (Json{{"event_type", "branch_visit"}, {"at", "2026-03-05T10:00:00.000Z"}}));
  EXPECT_EQ(j["timeline"][1], (Json{{"event_type", "purchase"},
                                    {"at", "2026-03-02T10:00:00.000Z"},
                                    {"product", "mortgage"},
                                    {"category", "credit"},
                                    {"revenue", 250000.0}}));
  ASSERT_EQ(j["records"].size(), 6u);
  EXPECT_EQ(j["records"][0]["id"], "s2");  // newest first
  EXPECT_EQ(j["records"][5]["id"], "c1");
  EXPECT_EQ(j["records"][5]["source"], "crm");
  EXPECT_EQ(j["records"][5]["type"], "profile");
  EXPECT_EQ(j["records"][5]["data"]["first_name"], "Anna");
  ASSERT_EQ(j["decisions"].size(), 1u);
  EXPECT_EQ(j["decisions"][0]["decision"], "suppress");
  EXPECT_EQ(j["decisions"][0]["reasons"][0]["code"], "quiet_period");
  EXPECT_EQ(j["decisions"][0]["proposal"]["campaign"], "spring");
  EXPECT_EQ(j["decisions"][0]["rulebook"], "sha256:abc");
  EXPECT_EQ(j["decisions"][0]["at"], "2026-03-06T10:00:00.000Z");
  EXPECT_EQ(j["merges"], Json::array());
  EXPECT_EQ(j["conflicts"], Json::array());
}

TEST_P(CustomerView, TheViewLimitsRecentItemsAndShowsMerges) {
  anna();
  apply1(rec("w1", "web", "W-1", {{"phone", "+4930123456"}}, "profile", 10));
  apply1(rec("m1", "shop", "", {{"external_ids", {{"crm", "K-1"}, {"web", "W-1"}}}}, "profile", 11));
  const std::optional<customer::ProfileView> v = cs().view(1, 2);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->records.size(), 2u);
  EXPECT_EQ(v->records[0].id, "m1");
  EXPECT_EQ(v->timeline.size(), 2u);
  const Json j = view_json(*v);
  EXPECT_EQ(j["merged_profiles"], Json::array({2}));
  ASSERT_EQ(j["merges"].size(), 1u);
  EXPECT_EQ(j["merges"][0]["survivor"], 1);
  EXPECT_EQ(j["merges"][0]["merged"], 2);
  EXPECT_EQ(j["merges"][0]["state"], "merged");
  EXPECT_EQ(j["merges"][0]["caused_by"], "shop/m1");
  EXPECT_EQ(j["channels"]["phone"]["has_address"], true);
  EXPECT_EQ(j["channels"]["sms"]["has_address"], true);
  // The merged profile's own view says where it went.
  const std::optional<customer::ProfileView> m = cs().view(2);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->row.merged_into, 1);
  EXPECT_FALSE(cs().view(99).has_value());
}

TEST_P(CustomerView, TheSnapshotHasWhatTheRulebookReads) {
  anna();
  const std::optional<rules::CustomerSnapshot> s = cs().snapshot(1, ms("2026-03-03T00:00:00Z"));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->profile_id, 1);
  EXPECT_EQ(s->attributes["first_name"], "Anna");
  ASSERT_EQ(s->consents.count({"email", "marketing"}), 1u);
  const rules::ConsentState& c = s->consents.at({"email", "marketing"});
  EXPECT_EQ(c.status, "granted");
  EXPECT_EQ(c.at, ms("2026-03-01T09:00:00Z"));
  EXPECT_EQ(c.source, "web");
  // Events at or after `since`, newest first.
  ASSERT_EQ(s->events.size(), 1u);
  EXPECT_EQ(s->events[0].event_type, "branch_visit");
  const std::optional<rules::CustomerSnapshot> all = cs().snapshot(1, ms("2026-03-02T10:00:00Z"));
  ASSERT_EQ(all->events.size(), 2u);  // inclusive
  EXPECT_EQ(all->events[1].event_type, "purchase");
  EXPECT_EQ(all->events[1].product, "mortgage");
  EXPECT_EQ(all->events[1].category, "credit");
  // Suppressions by identity and by profile id.
  ASSERT_EQ(s->suppressions.size(), 2u);
  rules::SuppressionFact blacklist, vip;
  for (const rules::SuppressionFact& f : s->suppressions) (f.list == "blacklist" ? blacklist : vip) = f;
  EXPECT_EQ(blacklist.reason, "complaint");
  EXPECT_EQ(blacklist.channels, Strings{"phone"});
  EXPECT_EQ(blacklist.until, ms("2027-01-01T00:00:00Z"));
  EXPECT_EQ(vip.list, "vip-hold");
  EXPECT_TRUE(vip.channels.empty());
  EXPECT_EQ(vip.until, 0);
  // Channels: an address is known, nothing made it invalid.
  EXPECT_TRUE(s->channels.at("email").has_address);
  EXPECT_TRUE(s->channels.at("email").valid);
  EXPECT_FALSE(s->channels.at("phone").has_address);
  EXPECT_FALSE(s->channels.at("sms").has_address);
  EXPECT_TRUE(s->channels.at("post").has_address);
  // The same from the row (what `rules simulate` iterates over).
  bool seen = false;
  store().reads().each_profile([&](const ProfileRow& row) {
    const rules::CustomerSnapshot x = cs().snapshot_from(row, ms("2026-03-03T00:00:00Z"));
    EXPECT_EQ(x.profile_id, row.id);
    EXPECT_EQ(x.attributes, s->attributes);
    EXPECT_EQ(x.events.size(), s->events.size());
    EXPECT_EQ(x.suppressions.size(), s->suppressions.size());
    seen = true;
    return true;
  });
  EXPECT_TRUE(seen);
}

TEST_P(CustomerView, ChannelValidityComesFromTheValidFlagsAndTheirReasons) {
  apply({
      rec("c1", "crm", "K-1", {{"email", "anna@example.de"}, {"phone", "+4930123456"}, {"address", "Hauptstr. 1, Ulm"}},
          "profile", 1000),
      rec("b1", "mailer", "",
          {{"customer", "anna@example.de"}, {"email_valid", false}, {"email_invalid_reason", "bounce_hard 5.1.1"}},
          "profile", 2000),
      rec("b2", "post", "", {{"customer", "anna@example.de"}, {"address_valid", false}}, "profile", 3000),
      rec("b3", "callcenter", "", {{"customer", "anna@example.de"}, {"phone_valid", "no"}}, "profile", 4000),
  });
  const std::optional<rules::CustomerSnapshot> s = cs().snapshot(1, 0);
  ASSERT_TRUE(s.has_value());
  const rules::ChannelState& email = s->channels.at("email");
  EXPECT_TRUE(email.has_address);
  EXPECT_FALSE(email.valid);
  EXPECT_EQ(email.invalid_reason, "bounce_hard 5.1.1");
  EXPECT_EQ(email.invalid_since, 2000);
  EXPECT_TRUE(s->channels.at("post").has_address);
  EXPECT_FALSE(s->channels.at("post").valid);
  EXPECT_EQ(s->channels.at("post").invalid_since, 3000);
  EXPECT_TRUE(s->channels.at("phone").valid);  // only a boolean false invalidates
  EXPECT_TRUE(s->channels.at("sms").valid);
  EXPECT_EQ(view_json(view_of("1"))["channels"]["email"]["invalid_reason"], "bounce_hard 5.1.1");
  // A later response validates the address again.
  apply1(rec("b4", "mailer", "", {{"customer", "anna@example.de"}, {"email_valid", true}}, "profile", 5000));
  EXPECT_TRUE(cs().snapshot(1, 0)->channels.at("email").valid);
}

TEST_P(CustomerView, NoSnapshotForMergedOrUnknownProfiles) {
  apply({rec("a", "crm", "K-1", {{"email", "a@x.de"}}), rec("b", "web", "W-1", {{"phone", "+4930123456"}})});
  apply1(rec("m", "shop", "", {{"email", "a@x.de"}, {"phone", "+4930123456"}}));
  EXPECT_TRUE(cs().snapshot(1, 0).has_value());
  EXPECT_FALSE(cs().snapshot(2, 0).has_value());
  EXPECT_FALSE(cs().snapshot(3, 0).has_value());
  // The phone identity moved with the merge: sms is reachable on the survivor.
  EXPECT_TRUE(cs().snapshot(1, 0)->channels.at("sms").has_address);
}

INSTANTIATE_TEST_SUITE_P(Backends, CustomerView, ::testing::ValuesIn(backends()), backend_name);

}  // namespace
}  // namespace touchpoint::core::test
