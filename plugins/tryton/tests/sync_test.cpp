// Parties from a real trytond into profile records: full load, changes by
// cursor (ties, paging, a restart in the middle), a Tryton that is down,
// a refused login and hostile values.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "party_sync.hpp"
#include "support.hpp"

namespace touchpoint::tryton::test {
namespace {

using touchpoint::testing::EmittedRecord;
using touchpoint::testing::Harness;
using touchpoint::testing::Instance;

Json email(const std::string& v, int sequence = 10) {
  return {{"type", "email"}, {"value", v}, {"sequence", sequence}};
}

/// Reads until a read emits nothing new; returns the records of this call.
std::vector<EmittedRecord> drain(Harness& h, Instance& inst, int max_reads = 100) {
  const size_t before = h.records().size();
  size_t seen = before;
  for (int i = 0; i < max_reads; ++i) {
    EXPECT_EQ(inst.read(), TP_OK);
    const size_t now = h.records().size();
    if (now == seen && i > 0) break;
    seen = now;
  }
  const std::vector<EmittedRecord> all = h.records();
  return {all.begin() + static_cast<std::ptrdiff_t>(before), all.end()};
}

/// The profile data of the newest record per party id.
std::map<std::string, Json> by_party(const std::vector<EmittedRecord>& records) {
  std::map<std::string, Json> out;
  for (const EmittedRecord& r : records) {
    Json d = Json::parse(r.data);
    out[d["external_ids"]["tryton"].get<std::string>()] = d;
  }
  return out;
}

TEST(TrytonSync, AFullLoadThenOnlyWhatChangedWithStableIds) {
  Trytond t;
  const int64_t anna =
      t.party("Anna Schmidt", Json::array({email("anna@example.de"), {{"type", "phone"}, {"value", "+49 30 1234567"}}}),
              Json::array({{{"street", "Hauptstr. 1"}, {"postal_code", "10115"}, {"city", "Berlin"}}}));
  const int64_t ben = t.party("Ben Meier", Json::array({email("ben@example.de")}));
  Harness h(plugin_path());
  auto inst = h.open(t.config());
  const std::map<std::string, Json> first = by_party(drain(h, *inst));
  ASSERT_EQ(first.size(), 3u) << "Anna, Ben and the fixture's company party";
  const Json& a = first.at(std::to_string(anna));
  EXPECT_EQ(a["name"], "Anna Schmidt");
  EXPECT_EQ(a["email"], "anna@example.de");
  EXPECT_EQ(a["phone"], "+49 30 1234567");
  EXPECT_EQ(a["address"], (Json{{"street", "Hauptstr. 1"}, {"zip", "10115"}, {"city", "Berlin"}}));
  EXPECT_EQ(a["tryton_active"], true);
  for (const EmittedRecord& r : h.records()) {
    EXPECT_EQ(r.type, "profile");
    EXPECT_EQ(r.id.rfind("party:", 0), 0u) << r.id;
  }

  EXPECT_TRUE(drain(h, *inst).empty()) << "nothing changed: nothing emitted";

  // Ben's e-mail mechanism changes: only Ben is read again, with the new address.
  const Json ben_mech = t.rpc().model("party.contact_mechanism", "search",
                                      Json::array({Json::array({Json::array({"party", "=", ben})}), 0, 10, Json()}));
  t.rpc().model("party.contact_mechanism", "write", Json::array({ben_mech, Json{{"value", "ben.meier@example.de"}}}));
  const std::vector<EmittedRecord> second = drain(h, *inst);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(Json::parse(second[0].data)["email"], "ben.meier@example.de");
  EXPECT_NE(second[0].id, h.records()[1].id) << "a new version, a new id";

  // Anna is deactivated in Tryton: the profile says so.
  t.rpc().model("party.party", "write", Json::array({Json::array({anna}), Json{{"active", false}}}));
  const std::map<std::string, Json> third = by_party(drain(h, *inst));
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third.at(std::to_string(anna))["tryton_active"], false);
}

TEST(TrytonSync, PagesThroughTiesAndResumesFromTheCheckpointAfterARestart) {
  Trytond t;
  // Seven parties created in one transaction: one create_date for all of them.
  Json many = Json::array();
  for (int i = 0; i < 7; ++i) many.push_back(Json{{"name", "Tie " + std::to_string(i)}});
  t.rpc().model("party.party", "create", Json::array({many}));
  std::set<std::string> ids;
  std::string checkpoint;
  {
    Harness h(plugin_path());
    auto inst = h.open(t.config({{"page_size", 3}}));
    ASSERT_EQ(inst->read(), TP_OK);
    ASSERT_EQ(inst->read(), TP_OK);
    ASSERT_EQ(h.records().size(), 6u) << "two pages of three";
    for (const EmittedRecord& r : h.records()) ids.insert(r.id);
    checkpoint = h.cursors().back();  // durable in the hub; the instance then crashes
  }
  Harness h(plugin_path());
  h.set_checkpoint(checkpoint);
  auto inst = h.open(t.config({{"page_size", 3}}));
  const std::vector<EmittedRecord> rest = drain(h, *inst);
  // The first new page holds exactly what the crashed instance had not
  // emitted: the last tie and the next party.
  ASSERT_GE(rest.size(), 2u);
  EXPECT_TRUE(ids.insert(rest[0].id).second) << rest[0].id;
  EXPECT_TRUE(ids.insert(rest[1].id).second) << rest[1].id;
  // The next sweep may read again what changed in the second the sweep
  // began (its bound is the server's clock in seconds): same ids, stored once.
  for (size_t i = 2; i < rest.size(); ++i) EXPECT_FALSE(ids.insert(rest[i].id).second) << rest[i].id;
  EXPECT_EQ(ids.size(), 8u) << "seven ties and the company party, each once";

  // Two parties changed in one write (the same write_date) are both seen.
  const Json all = t.rpc().model("party.party", "search", Json::array({Json::array(), 0, 2, Json()}));
  t.rpc().model("party.party", "write", Json::array({all, Json{{"active", false}}}));
  // The restarted instance may read again what its predecessor emitted in
  // the same second (the sweep's bound is the server's clock in seconds):
  // with the same ids, so the store keeps each version once.
  std::set<std::string> fresh;
  for (const EmittedRecord& r : drain(h, *inst))
    if (!ids.count(r.id)) fresh.insert(r.id);
  EXPECT_EQ(fresh.size(), 2u);
}

TEST(TrytonSync, AChangeCommittedLateWithAnOlderStampIsFoundThroughTheOverlap) {
  Trytond t;
  Harness h(plugin_path());
  auto inst = h.open(t.config({{"overlap_seconds", 3600}}));
  ASSERT_EQ(by_party(drain(h, *inst)).size(), 1u);
  t.party("Newest");
  ASSERT_EQ(drain(h, *inst).size(), 1u);
  // A change Tryton stamped before the newest one seen, as a long transaction
  // that commits late leaves it: write it, then backdate its stamp by ten
  // minutes in the database itself.
  const int64_t late = t.party("Late");
  t.sql("UPDATE party_party SET create_date = datetime(create_date, '-10 minutes') WHERE id = " + std::to_string(late));
  const std::map<std::string, Json> seen = by_party(drain(h, *inst));
  ASSERT_EQ(seen.size(), 1u) << "found through the overlap; what was emitted before is not emitted again";
  EXPECT_TRUE(seen.count(std::to_string(late)));
  EXPECT_TRUE(drain(h, *inst).empty()) << "the overlap re-reads, but emits nothing twice";

  // Without the overlap, the same late change is missed: the overlap is what finds it.
  Harness h2(plugin_path());
  auto strict = h2.open(t.config({{"overlap_seconds", 0}}));
  ASSERT_EQ(drain(h2, *strict).size(), 3u);
  const int64_t later = t.party("Later");
  t.sql("UPDATE party_party SET create_date = datetime(create_date, '-10 minutes') WHERE id = " +
        std::to_string(later));
  EXPECT_TRUE(drain(h2, *strict).empty());
}

TEST(TrytonSync, ATrytonThatIsDownIsRetriedWithBackoffAndNothingIsLost) {
  Trytond t;
  Harness h(plugin_path());
  auto inst = h.open(t.config({{"max_backoff_ms", 100}}));
  ASSERT_EQ(drain(h, *inst).size(), 1u);
  t.stop();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(inst->read(), TP_OK) << "a CRM that is down is no error of the pipeline";
  EXPECT_GE(h.counters()["tryton_errors"], 1.0);
  size_t warnings = 0;
  for (const auto& l : h.logs()) warnings += l.message.find("retrying with backoff") != std::string::npos;
  EXPECT_EQ(warnings, 1u) << "said once, not on every poll";
  t.start();
  const int64_t id = t.party("Back Again", Json::array({email("back@example.de")}));
  std::vector<EmittedRecord> after;
  for (int i = 0; i < 200 && after.empty(); ++i) after = drain(h, *inst);  // until the backoff has passed
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(Json::parse(after[0].data)["external_ids"]["tryton"], std::to_string(id));
}

TEST(TrytonSync, APageTheHubCouldNotMakeDurableIsReadAgain) {
  Trytond t;
  t.party("Anna");
  t.party("Ben");
  Harness h(plugin_path());
  auto inst = h.open(t.config({{"page_size", 2}}));
  h.lose_next_emits(1, TP_STATUS_RETRYABLE);  // the first page is accepted, then lost (a full disk)
  ASSERT_EQ(inst->read(), TP_OK);
  EXPECT_TRUE(h.records().empty());
  std::set<std::string> names;
  for (int i = 0; i < 50 && names.size() < 3; ++i)
    for (const EmittedRecord& r : drain(h, *inst)) names.insert(Json::parse(r.data)["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"Anna", "Ben", "Touchpoint Test Bank AG"}))
      << "nothing of the lost page is missing";
  bool warned = false;
  for (const auto& l : h.logs()) warned = warned || l.message.find("could not store a page") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(TrytonSync, PartiesTooLargeForOneUnitTogetherArriveInSeveral) {
  Trytond t;
  // Four parties of 12 MiB each: each fits a record, three do not fit half a unit (32 MiB).
  Json big = Json::array();
  for (int i = 0; i < 4; ++i) big.push_back(Json{{"name", std::string(12u << 20, static_cast<char>('A' + i))}});
  t.rpc().model("party.party", "create", Json::array({big}));
  Harness h(plugin_path());
  auto inst = h.open(t.config());
  const std::map<std::string, Json> got = by_party(drain(h, *inst));
  EXPECT_EQ(got.size(), 5u) << "four big parties and the company";
  EXPECT_TRUE(h.refusals().empty()) << h.refusals().at(0).message;
  EXPECT_EQ(h.cursors().size(), 2u) << "the company and two big parties, then the other two: 24 MiB a unit";
}

TEST(TrytonSync, AWrongPasswordIsAPermanentErrorThatSaysWhy) {
  Trytond t;
  Harness h(plugin_path());
  auto inst = h.open(t.config({{"password", "wrong"}}));
  std::string error;
  EXPECT_EQ(inst->read(&error), TP_STATUS_PERMANENT);
  EXPECT_NE(error.find("login of user 'admin' to database 'tp' refused"), std::string::npos) << error;
  EXPECT_NE(inst->check(&error), TP_OK);
  EXPECT_TRUE(h.records().empty());
  auto nodb = h.open(t.config({{"database", "nosuchdb"}}));
  EXPECT_EQ(nodb->read(&error), TP_STATUS_PERMANENT);
  EXPECT_NE(error.find("nosuchdb"), std::string::npos) << error;
}

TEST(TrytonSync, HostileValuesArriveIntactOrAsARejectNeverAsABrokenUnit) {
  Trytond t;
  const std::string odd = "O'Brien \"Bobby\" \\ <script>alert(1)</script> Ünïcødé 🎉 \u2028";
  const std::string street = "Line 1\nLine 2\t\"quoted\" \\ NUL-free";
  const int64_t a = t.party(odd,
                            Json::array({email(std::string(5000, 'a') + "@example.de"),
                                         {{"type", "phone"}, {"value", std::string(1'000'000, '9')}}}),
                            Json::array({{{"street", street}, {"city", std::string(100'000, 'C')}}}));
  const int64_t huge = t.party(std::string(17u << 20, 'N'));  // more than a record may be
  Harness h(plugin_path());
  auto inst = h.open(t.config());
  const std::map<std::string, Json> got = by_party(drain(h, *inst));
  ASSERT_TRUE(got.count(std::to_string(a)));
  EXPECT_EQ(got.at(std::to_string(a))["name"], odd);
  EXPECT_EQ(got.at(std::to_string(a))["address"]["street"], street);
  EXPECT_EQ(got.at(std::to_string(a))["address"]["city"].get<std::string>().size(), 100'000u);
  EXPECT_EQ(got.at(std::to_string(a))["phone"].get<std::string>().size(), 1'000'000u)
      << "the store's identity rules judge a million-digit number, not the connector";
  EXPECT_FALSE(got.count(std::to_string(huge)));
  ASSERT_EQ(h.rejects().size(), 1u);
  EXPECT_NE(h.rejects()[0].reason.find("party " + std::to_string(huge) + " is"), std::string::npos);
  EXPECT_EQ(h.rejects()[0].location, "party.party," + std::to_string(huge));
  EXPECT_TRUE(h.refusals().empty()) << "every unit passed the hub's checks";
}

}  // namespace
}  // namespace touchpoint::tryton::test
