// Property tests on generated data: for random streams of profile, consent
// and event records from several sources, with out-of-order times, cleared
// values and merges between customers,
//  - recomputing every profile from its records gives exactly the profile
//    that applying the records one by one built (attributes, lineage,
//    consents, timeline), and
//  - applying the same stream in one batch, or one record per batch, or
//    again after a restart, gives the same store.

#include <gtest/gtest.h>

#include <random>

#include "customer_test_util.hpp"

namespace touchpoint::core::test {
namespace {

constexpr const char* kRules = R"(
survivorship:
  default: most_recent
  rules:
    - { attributes: [first_name, city], rule: source_priority, sources: [crm, web] }
    - { attributes: [customer_since], rule: first_seen }
    - { attributes: [score], rule: max }
    - { attributes: [risk], rule: min }
    - { attributes: [tags], rule: union }
)";

/// A deterministic stream of records about `customers` people.
std::vector<Record> generate(uint32_t seed, int customers, int count) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  const char* sources[] = {"crm", "web", "shop"};
  const char* attributes[] = {"first_name", "city", "customer_since", "score", "risk", "tags", "newsletter"};
  std::vector<Record> out;
  for (int i = 0; i < count; ++i) {
    const int who = pick(customers);
    const std::string email = "c" + std::to_string(who) + "@x.de";
    const std::string source = sources[pick(3)];
    const int64_t ts = 1'000'000 + pick(500) * 1000;  // out of order on purpose
    const std::string id = "g" + std::to_string(i);
    const int kind = pick(10);
    if (kind < 6) {
      Json data = {{"email", email}};
      if (pick(4) == 0) data["phone"] = "+49301234" + std::to_string(100 + pick(customers));  // links people
      for (int a = 0, n = 1 + pick(3); a < n; ++a) {
        const std::string attribute = attributes[pick(7)];
        switch (pick(5)) {
          case 0:
            data[attribute] = nullptr;
            break;  // a removal
          case 1:
            data[attribute] = "";
            break;
          case 2:
            data[attribute] = pick(1000);
            break;
          case 3:
            data[attribute] = Json::array({"t" + std::to_string(pick(4)), "t" + std::to_string(pick(4))});
            break;
          default:
            data[attribute] = "v" + std::to_string(pick(50));
            break;
        }
      }
      out.push_back(rec(id, source, "", data, "profile", ts));
    } else if (kind < 8) {
      const char* statuses[] = {"granted", "denied", "revoked"};
      out.push_back(rec(id, source, "",
                        {{"customer", email},
                         {"channel", pick(2) ? "email" : "post"},
                         {"purpose", "marketing"},
                         {"status", statuses[pick(3)]},
                         {"at", ts}},
                        "consent", ts));
    } else {
      out.push_back(
          rec(id, source, "", {{"customer", email}, {"event_type", pick(2) ? "purchase" : "web_visit"}}, "event", ts));
    }
  }
  return out;
}

class CustomerProperty : public CustomerTest {
 protected:
  void SetUp() override {
    CustomerTest::SetUp();
    if (IsSkipped()) return;
    configure(kRules);
  }
  /// An empty store at a new location, with the customer model on it.
  void fresh_location() {
    customers_.reset();
    store_.reset();
    std::string skip;
    instance_ = GetParam().make(&skip);
    store_ = instance_->open();
    reopen_all();
  }
  /// Every live profile as the store holds it: attributes, lineage,
  /// consents and timeline, keyed by its lowest e-mail.
  std::map<std::string, std::string> everything() {
    std::map<std::string, std::string> out;
    std::vector<int64_t> live;
    store().reads().each_profile([&](const ProfileRow& p) {
      live.push_back(p.id);
      return true;
    });
    for (int64_t p : live) {
      std::optional<customer::ProfileView> v = cs().view(p, 100000);
      if (!v) continue;
      Json j;
      j["attributes"] = Json::parse(v->row.attributes);
      j["lineage"] = v->state.lineage();
      Json consents = Json::object();
      for (const auto& [key, c] : v->state.consents()) consents[key] = Json{c.status, c.at, c.source, c.record_id};
      j["consents"] = consents;
      Json timeline = Json::array();
      for (const EventRow& e : v->timeline) timeline.push_back(Json{e.at, e.event_type, e.record_seq});
      j["timeline"] = timeline;
      std::string key = "~";
      for (const IdentityRow& i : v->identities)
        if (i.kind == "email") key = std::min(key, i.value);
      out[key] += j.dump();
    }
    return out;
  }
};

TEST_P(CustomerProperty, RecomputingFromTheRecordsGivesWhatApplyingThemOneByOneBuilt) {
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    for (Record& r : generate(seed, 4, 60)) apply1(std::move(r));
    const std::map<std::string, std::string> applied = everything();
    ASSERT_FALSE(applied.empty());
    std::vector<int64_t> live;
    store().reads().each_profile([&](const ProfileRow& p) {
      live.push_back(p.id);
      return true;
    });
    for (int64_t p : live) cs().recompute(p);
    EXPECT_EQ(everything(), applied);
    fresh_location();  // for the next seed
  }
}

TEST_P(CustomerProperty, OneBatchOrOneRecordPerBatchOrAReplayAfterARestartGiveTheSameStore) {
  for (uint32_t seed = 100; seed <= 105; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    for (Record& r : generate(seed, 5, 80)) apply1(std::move(r));
    const std::map<std::string, std::string> one_by_one = everything();

    fresh_location();
    apply(generate(seed, 5, 80));
    EXPECT_EQ(everything(), one_by_one) << "one batch differs from one record per batch";

    reopen_all();  // a restart, then the journal replays the same records
    const ApplyStats again = apply(generate(seed, 5, 80));
    EXPECT_EQ(again.applied, 0u);
    EXPECT_EQ(everything(), one_by_one) << "the replay changed the store";
    fresh_location();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, CustomerProperty, ::testing::ValuesIn(backends()), backend_name);

}  // namespace
}  // namespace touchpoint::core::test
