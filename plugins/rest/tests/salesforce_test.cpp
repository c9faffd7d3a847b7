// The rest connector against the simulator's Salesforce REST API: OAuth2
// client credentials with a token that expires in the middle of a query,
// SOQL pages by nextRecordsUrl, and the sink's upsert by external id with
// one outcome per record, one request each or 200 a request through the
// sObject Collections API with partial failures.
#include <gtest/gtest.h>

#include <set>

#include "support.hpp"

namespace touchpoint::rest::test {
namespace {

using touchpoint::testing::EmittedRecord;
using touchpoint::testing::Harness;

Json auth(const CrmSim& sim, const std::string& secret = "sim-secret") {
  return {{"type", "oauth2_client_credentials"},
          {"token_url", sim.url() + "/services/oauth2/token"},
          {"client_id", "sim-client"},
          {"client_secret", secret}};
}

Json source_config(const CrmSim& sim, const std::string& secret = "sim-secret") {
  return {{"base_url", sim.url() + "/services/data/v59.0"},
          {"auth", auth(sim, secret)},
          {"read",
           {{"path", "/query"},
            {"query",
             {{"q",
               "SELECT Id, FirstName, LastName, Email, LastModifiedDate FROM Contact "
               "WHERE LastModifiedDate >= {{cursor}} ORDER BY LastModifiedDate, Id"}}},
            {"headers", {{"Sforce-Query-Options", "batchSize=200"}}},
            {"records", "/records"},
            {"id", "/Id"},
            {"cursor", {{"field", "/LastModifiedDate"}, {"start", "1970-01-01T00:00:00.000+0000"}}},
            {"pagination", {{"type", "next_url"}, {"next", "/nextRecordsUrl"}}},
            {"map",
             {{"external_ids", {{"salesforce", "{{/Id}}"}}},
              {"email", "{{/Email}}"},
              {"first_name", "{{/FirstName}}"},
              {"last_name", "{{/LastName}}"}}}}}};
}

Json sink_config(const CrmSim& sim) {
  return {{"base_url", sim.url() + "/services/data/v59.0"},
          {"auth", auth(sim)},
          {"max_connections", 4},
          {"write",
           {{"method", "PATCH"},
            {"path", "/sobjects/Contact/Touchpoint_Id__c/{{/profile_id}}"},
            {"types", {"profile"}},
            {"body", {{"LastName", "{{/last_name}}"}, {"FirstName", "{{/first_name}}"}, {"Email", "{{/email}}"}}}}}};
}

EmittedRecord profile(const std::string& id, Json data) {
  data["profile_id"] = id;
  EmittedRecord r;
  r.id = "rec-" + id;
  r.type = "profile";
  r.data = data.dump();
  return r;
}

TEST(RestSalesforce, AQueryReadsEveryPageAndATokenExpiringMidwayIsRenewed) {
  CrmSim sim("salesforce");
  Json batch = Json::array();
  for (int i = 0; i < 450; ++i)
    batch.push_back({{"LastName", "Kunde " + std::to_string(i)}, {"Email", "k" + std::to_string(i) + "@example.de"}});
  sim.create(batch);
  Harness h(plugin_path());
  auto inst = h.open(source_config(sim).dump());
  ASSERT_EQ(inst->read(), TP_OK);
  ASSERT_EQ(h.records().size(), 200u);
  sim.control("POST", "/_sim/expire_tokens");
  drain(h, *inst);
  std::set<std::string> ids;
  for (const EmittedRecord& r : h.records()) ids.insert(Json::parse(r.data)["external_ids"]["salesforce"]);
  EXPECT_EQ(ids.size(), 450u);
  EXPECT_EQ(h.records().size(), 450u);
  EXPECT_EQ(sim.stats()["token_requests"], 2) << "one token, and one more after it expired";
  EXPECT_TRUE(drain(h, *inst).empty());
}

TEST(RestSalesforce, ARefusedClientSecretNamesTheClient) {
  CrmSim sim("salesforce");
  Harness h(plugin_path());
  auto inst = h.open(source_config(sim, "wrong").dump());
  std::string error;
  EXPECT_EQ(inst->read(&error), TP_STATUS_PERMANENT);
  EXPECT_NE(error.find("refused client 'sim-client'"), std::string::npos) << error;
  EXPECT_NE(error.find("invalid_client"), std::string::npos) << error;
}

TEST(RestSalesforce, UpsertsByExternalIdWithOneOutcomePerRecord) {
  CrmSim sim("salesforce");
  Harness h(plugin_path());
  auto inst = h.open(sink_config(sim).dump());
  std::vector<EmittedRecord> batch = {
      profile("p1", {{"last_name", "Schmidt"}, {"first_name", "Anna"}, {"email", "anna@example.de"}}),
      profile("p2", {{"last_name", "Meier"}, {"email", "ben@example.de"}}),
      profile("p3", {{"first_name", "Ohne Nachname"}}),
      profile("p4", {{"last_name", "Falsch"}, {"email", "not an address"}}),
      profile("../../sobjects/Account", {{"last_name", "Pfad"}}),
      profile("p6", {{"last_name", std::string(100, 'x')}}),
  };
  EmittedRecord event;
  event.type = "event";
  event.data = R"({"event_type":"page"})";
  batch.push_back(event);
  std::vector<touchpoint::testing::Outcome> out = inst->write(batch);
  ASSERT_EQ(out.size(), 7u);
  EXPECT_EQ(out[0].status, TP_OK) << out[0].message;
  EXPECT_EQ(out[1].status, TP_OK) << out[1].message;
  EXPECT_EQ(out[2].status, TP_STATUS_PERMANENT);
  EXPECT_NE(out[2].message.find("REQUIRED_FIELD_MISSING"), std::string::npos) << out[2].message;
  EXPECT_EQ(out[3].status, TP_STATUS_PERMANENT);
  EXPECT_NE(out[3].message.find("INVALID_EMAIL_ADDRESS"), std::string::npos) << out[3].message;
  EXPECT_EQ(out[4].status, TP_OK) << "an id with slashes stays one path segment: " << out[4].message;
  EXPECT_EQ(out[5].status, TP_STATUS_PERMANENT);
  EXPECT_NE(out[5].message.find("STRING_TOO_LONG"), std::string::npos) << out[5].message;
  EXPECT_EQ(out[6].status, TP_OK) << "an event is not for this sink (write.types)";

  Json all = sim.contacts();
  ASSERT_EQ(all.size(), 3u) << all.dump();
  std::set<std::string> ext;
  for (const Json& c : all) ext.insert(c["Touchpoint_Id__c"].get<std::string>());
  EXPECT_EQ(ext, (std::set<std::string>{"p1", "p2", "../../sobjects/Account"}));

  // Delivered again (a retry of the hub): the same three contacts, updated in place.
  batch[0] = profile("p1", {{"last_name", "Schmidt-Neu"}, {"email", "anna@example.de"}});
  out = inst->write({batch[0], batch[1]});
  EXPECT_EQ(out[0].status, TP_OK);
  all = sim.contacts();
  ASSERT_EQ(all.size(), 3u);
  for (const Json& c : all) {
    if (c["Touchpoint_Id__c"] == "p1") {
      EXPECT_EQ(c["LastName"], "Schmidt-Neu");
    }
  }

  // Salesforce unavailable for two requests: those two records are retried, the rest land.
  sim.fail_next(503, 2, "/services/data");
  std::vector<EmittedRecord> more;
  for (int i = 0; i < 6; ++i) more.push_back(profile("q" + std::to_string(i), {{"last_name", "Q"}}));
  out = inst->write(more);
  int retry = 0, ok = 0;
  for (const auto& o : out) {
    if (o.status == TP_STATUS_RETRYABLE) {
      ++retry;
      EXPECT_NE(o.message.find("HTTP 503"), std::string::npos) << o.message;
    }
    ok += o.status == TP_OK;
  }
  EXPECT_EQ(retry, 2);
  EXPECT_EQ(ok, 4);
  EXPECT_EQ(sim.contacts().size(), 7u);
}

TEST(RestSalesforce, RecordsAreWrittenSeveralAtOnceWithinTheConnectionLimit) {
  CrmSim sim("salesforce");
  Harness h(plugin_path());
  auto inst = h.open(sink_config(sim).dump());
  ASSERT_EQ(inst->write({profile("warm", {{"last_name", "W"}})})[0].status, TP_OK);  // the token first
  sim.control("POST", "/_sim/delay", {{"ms", 200}});
  std::vector<EmittedRecord> batch;
  for (int i = 0; i < 8; ++i) batch.push_back(profile("c" + std::to_string(i), {{"last_name", "C"}}));
  const auto start = std::chrono::steady_clock::now();
  const auto out = inst->write(batch);
  const auto took = std::chrono::steady_clock::now() - start;
  for (const auto& o : out) EXPECT_EQ(o.status, TP_OK) << o.message;
  const Json stats = sim.stats();
  EXPECT_LE(stats["max_concurrent"].get<int>(), 4);
  EXPECT_GE(stats["max_concurrent"].get<int>(), 2);
  EXPECT_LT(took, std::chrono::milliseconds(8 * 200)) << "not one after the other";
}

TEST(RestSalesforce, ACollectionRequestGivesEachRecordItsOwnOutcome) {
  CrmSim sim("salesforce");
  Json c = sink_config(sim);
  c["write"] = {{"method", "PATCH"},
                {"path", "/composite/sobjects/Contact/Touchpoint_Id__c"},
                {"body",
                 {{"attributes", {{"type", "Contact"}}},
                  {"Touchpoint_Id__c", "{{/profile_id}}"},
                  {"LastName", "{{/last_name}}"},
                  {"Email", "{{/email}}"}}},
                {"batch",
                 {{"max_records", 3},
                  {"body", {{"allOrNone", false}, {"records", "{{records}}"}}},
                  {"ok", "/success"},
                  {"reason", "/errors"}}}};
  Harness h(plugin_path());
  auto inst = h.open(c.dump());
  std::vector<EmittedRecord> batch;
  for (int i = 0; i < 7; ++i) batch.push_back(profile("b" + std::to_string(i), {{"last_name", "B"}}));
  batch[1] = profile("b1", {{"first_name", "no last name"}});
  batch[5] = profile("b5", {{"last_name", "E"}, {"email", "broken@"}});
  sim.control("POST", "/_sim/reset_stats");
  std::vector<touchpoint::testing::Outcome> out = inst->write(batch);
  for (size_t i = 0; i < out.size(); ++i) {
    if (i == 1 || i == 5) {
      EXPECT_EQ(out[i].status, TP_STATUS_PERMANENT) << i;
    } else {
      EXPECT_EQ(out[i].status, TP_OK) << i << ": " << out[i].message;
    }
  }
  EXPECT_NE(out[1].message.find("REQUIRED_FIELD_MISSING"), std::string::npos) << out[1].message;
  EXPECT_NE(out[5].message.find("INVALID_EMAIL_ADDRESS"), std::string::npos) << out[5].message;
  EXPECT_EQ(sim.contacts().size(), 5u);
  EXPECT_EQ(sim.stats()["requests"].value("PATCH /services/data/v59.0/composite/sobjects/Contact/Touchpoint_Id__c", 0),
            3)
      << "7 records, 3 a request";

  // A whole request failing (503) leaves its records retryable; an answer of the wrong shape too.
  sim.fail_next(503, 1, "/services/data");
  out = inst->write({batch[0], batch[2]});
  for (const auto& o : out) EXPECT_EQ(o.status, TP_STATUS_RETRYABLE) << o.message;
  sim.control("POST", "/_sim/fail", {{"status", 200}, {"count", 1}, {"body", "[]"}, {"path_prefix", "/services/data"}});
  out = inst->write({batch[0]});
  EXPECT_EQ(out[0].status, TP_STATUS_RETRYABLE);
  EXPECT_NE(out[0].message.find("no list of 1 results"), std::string::npos) << out[0].message;
  out = inst->write({batch[0], batch[2]});
  for (const auto& o : out) EXPECT_EQ(o.status, TP_OK) << o.message;
  EXPECT_EQ(sim.contacts().size(), 5u) << "upserts: delivered again, nothing new";
}

}  // namespace
}  // namespace touchpoint::rest::test
