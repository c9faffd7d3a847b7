// The rest connector as a HubSpot source, against the simulator's CRM v3
// search API: an incremental cursor over lastmodifieddate with ties across
// pages, a restart from the checkpoint, a lost unit read again, 429 with
// Retry-After and a request rate of our own.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "support.hpp"

namespace touchpoint::rest::test {
namespace {

using touchpoint::testing::EmittedRecord;
using touchpoint::testing::Harness;

Json hubspot_config(const CrmSim& sim, int limit = 100, Json extra = Json::object()) {
  Json c = {
      {"base_url", sim.url()},
      {"auth", {{"type", "bearer"}, {"token", "sim-token"}}},
      {"timeout_ms", 10000},
      {"read",
       {{"method", "POST"},
        {"path", "/crm/v3/objects/contacts/search"},
        {"body",
         {{"filterGroups",
           {{{"filters", {{{"propertyName", "lastmodifieddate"}, {"operator", "GTE"}, {"value", "{{cursor}}"}}}}}}},
          {"sorts", {{{"propertyName", "lastmodifieddate"}, {"direction", "ASCENDING"}}}},
          {"properties", {"email", "firstname", "lastname", "phone"}},
          {"limit", limit},
          {"after", "{{next}}"}}},
        {"records", "/results"},
        {"id", "/id"},
        {"cursor", {{"field", "/properties/lastmodifieddate"}, {"start", "1970-01-01T00:00:00.000Z"}}},
        {"pagination", {{"type", "cursor"}, {"next", "/paging/next/after"}}},
        {"map",
         {{"external_ids", {{"hubspot", "{{/id}}"}}},
          {"email", "{{/properties/email}}"},
          {"first_name", "{{/properties/firstname}}"},
          {"last_name", "{{/properties/lastname}}"},
          {"phone", "{{/properties/phone}}"}}}}}};
  c.update(extra);
  return c;
}

Json contacts(int from, int n, const std::string& stamp_prefix = "") {
  Json out = Json::array();
  for (int i = from; i < from + n; ++i) {
    Json c = {{"email", "c" + std::to_string(i) + "@example.de"},
              {"firstname", "C" + std::to_string(i)},
              {"lastname", "Kunde"}};
    if (!stamp_prefix.empty()) {
      char ms[8];
      std::snprintf(ms, sizeof ms, "%03d", i % 1000);
      c["_modified"] = stamp_prefix + ms + "Z";
    }
    out.push_back(c);
  }
  return out;
}

std::map<std::string, int> count_by_hubspot_id(const std::vector<EmittedRecord>& records) {
  std::map<std::string, int> n;
  for (const EmittedRecord& r : records) ++n[Json::parse(r.data)["external_ids"]["hubspot"].get<std::string>()];
  return n;
}

/// Reads until `n` records arrived or the time is up (reads return at once while backing off).
void read_until(Harness& h, touchpoint::testing::Instance& inst, size_t n, std::chrono::seconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (h.records().size() < n && std::chrono::steady_clock::now() < end) {
    ASSERT_EQ(inst.read(), TP_OK);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST(RestHubSpot, AFullLoadWithTiesAcrossPagesThenOnlyWhatChanged) {
  CrmSim sim("hubspot");
  // 120 contacts share one stamp, so the ties cross the page boundary at 100.
  Json batch = contacts(0, 120);
  for (Json& c : batch) c["_modified"] = "2026-12-01T10:00:00.000Z";
  sim.create(batch);
  sim.create(contacts(120, 130, "2026-12-01T11:00:00."));
  Harness h(plugin_path());
  auto inst = h.open(hubspot_config(sim).dump());
  const auto first = drain(h, *inst);
  const auto n = count_by_hubspot_id(first);
  ASSERT_EQ(n.size(), 250u);
  for (const auto& [id, times] : n) EXPECT_EQ(times, 1) << "contact " << id;
  const Json one = Json::parse(first.front().data);
  EXPECT_EQ(one["last_name"], "Kunde");
  EXPECT_TRUE(one["email"].get<std::string>().find("@example.de") != std::string::npos);
  EXPECT_FALSE(one.contains("phone")) << "a property HubSpot did not return is left out, not null";
  EXPECT_EQ(first.front().type, "profile");

  // Two contacts change through the API, as a user of HubSpot would change them.
  const std::string some = n.begin()->first, other = std::next(n.begin(), 130)->first;
  for (const std::string& id : {some, other}) {
    SimAnswer a = sim.call("PATCH", "/crm/v3/objects/contacts/" + id, R"({"properties":{"phone":"+49 30 1234567"}})",
                           {"Authorization: Bearer sim-token"});
    ASSERT_EQ(a.status, 200) << a.body;
  }
  const auto second = drain(h, *inst);
  const auto m = count_by_hubspot_id(second);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.count(some), 1u);
  EXPECT_EQ(m.count(other), 1u);
  for (const EmittedRecord& r : second) EXPECT_EQ(Json::parse(r.data)["phone"], "+49 30 1234567");
  EXPECT_TRUE(drain(h, *inst).empty()) << "the contacts at the last stamp are not read again";
  std::set<std::string> ids;
  for (const EmittedRecord& r : h.records()) EXPECT_TRUE(ids.insert(r.id).second) << r.id;
}

TEST(RestHubSpot, ARestartResumesFromTheCheckpointAndALostUnitIsReadAgain) {
  CrmSim sim("hubspot");
  sim.create(contacts(0, 250, "2026-12-01T12:00:00."));
  std::string checkpoint;
  {
    Harness h(plugin_path());
    auto inst = h.open(hubspot_config(sim).dump());
    ASSERT_EQ(inst->read(), TP_OK);
    ASSERT_EQ(h.records().size(), 100u);
    checkpoint = h.cursors().back();
    ASSERT_EQ(inst->commit(checkpoint), TP_OK);
  }  // the hub stops here (kill -9 or not: only the committed cursor counts)
  Harness h(plugin_path());
  h.set_checkpoint(checkpoint);
  auto inst = h.open(hubspot_config(sim).dump());
  h.lose_next_emits(1, TP_STATUS_RETRYABLE);  // page 2 never becomes durable
  ASSERT_EQ(inst->read(), TP_OK);
  EXPECT_TRUE(h.records().empty());
  // The loss arrives on another thread; a read before it would emit page 3 and, once the loss
  // is seen, read pages 2 and 3 again (at least once, same record ids). Here: exactly once.
  ASSERT_TRUE(h.wait_for_losses(1));
  const auto rest = drain(h, *inst);
  const auto n = count_by_hubspot_id(rest);
  EXPECT_EQ(n.size(), 150u) << "pages 2 and 3 after the restart, page 2 read again after it was lost";
  for (const auto& [id, times] : n) EXPECT_EQ(times, 1) << "contact " << id;
  bool warned = false;
  for (const auto& l : h.logs())
    warned |= l.message.find("reading again from the last durable cursor") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(RestHubSpot, TooManyRequestsPauseTheSourceAndAnOwnRateAvoidsThem) {
  CrmSim sim("hubspot", {"--rate-limit", "5"});
  sim.create(contacts(0, 100, "2026-12-01T13:00:00."));
  {
    Harness h(plugin_path());
    auto inst = h.open(hubspot_config(sim, 8).dump());  // 13 pages, far more than 5 a second
    read_until(h, *inst, 100, std::chrono::seconds(30));
    EXPECT_EQ(count_by_hubspot_id(h.records()).size(), 100u);
    EXPECT_GT(sim.stats()["rate_limited"].get<int>(), 0);
    EXPECT_GT(h.counters()["rest_errors"], 0);
  }
  // A fresh server, so the requests above are not in its window.
  CrmSim calm("hubspot", {"--rate-limit", "5"});
  calm.create(contacts(0, 100, "2026-12-01T13:00:00."));
  Harness h(plugin_path());
  auto inst = h.open(hubspot_config(calm, 8, {{"requests_per_second", 4}}).dump());
  const auto start = std::chrono::steady_clock::now();
  read_until(h, *inst, 100, std::chrono::seconds(30));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(count_by_hubspot_id(h.records()).size(), 100u);
  EXPECT_EQ(calm.stats()["rate_limited"].get<int>(), 0) << calm.stats().dump();
  EXPECT_GE(took, std::chrono::milliseconds(12 * 250 - 100)) << "13 requests at 4 a second";
}

TEST(RestHubSpot, AWrongTokenStopsTheSourceWithTheReasonAndADownServerIsRetried) {
  CrmSim sim("hubspot");
  sim.create(contacts(0, 3));
  {
    Harness h(plugin_path());
    Json c = hubspot_config(sim);
    c["auth"]["token"] = "wrong";
    auto inst = h.open(c.dump());
    std::string error;
    EXPECT_EQ(inst->read(&error), TP_STATUS_PERMANENT);
    EXPECT_NE(error.find("refused the credentials (HTTP 401)"), std::string::npos) << error;
    EXPECT_NE(error.find("INVALID_AUTHENTICATION"), std::string::npos) << error;
  }
  Harness h(plugin_path());
  auto inst = h.open(hubspot_config(sim).dump());
  sim.fail_next(503, 1);
  ASSERT_EQ(inst->read(), TP_OK) << "a 503 is retried, not an error of the pipeline";
  EXPECT_TRUE(h.records().empty());
  EXPECT_EQ(h.counters()["rest_errors"], 1);
  read_until(h, *inst, 3, std::chrono::seconds(10));  // after the 1 s backoff
  EXPECT_EQ(h.records().size(), 3u);
  int warnings = 0;
  for (const auto& l : h.logs()) warnings += l.message.find("HTTP 503") != std::string::npos;
  EXPECT_EQ(warnings, 1);
}

}  // namespace
}  // namespace touchpoint::rest::test
