// The two example pipelines of the rest connector (pipelines/crm/), end to
// end through the real binary against the CRM simulator
// (tests/fixtures/rest/crm_sim.py): contacts of a HubSpot- or
// Salesforce-style API flow into the store; a campaign calls them through
// the callcenter plugin; the dispositions come back through its signed
// webhook; and the feedback goes back into the CRM as the example files
// say (HubSpot contact properties; Salesforce tasks through the sObject
// Collections API). The files are used as shipped, with only the API's host
// pointed at the simulator and a short poll interval.
#include <cstdlib>
#include <fstream>
#include <set>

#include "crm_sim.hpp"
#include "loop_support.hpp"

namespace tp_it {
namespace {
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using json = nlohmann::json;
using tp_fixture::CrmSim;

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
    text.replace(at, from.size(), to);
  return text;
}

class LoopRestTest : public LoopTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(use_rulebook_with_calling_hours_now());
    write_calls_pipeline(root_ / "calls");
  }
  /// pipelines/crm/<file> with `host` replaced by the simulator's URL.
  void install_example(const std::string& file, const std::string& host, const CrmSim& sim) {
    std::ifstream in(std::string(TP_SOURCE_DIR) + "/pipelines/crm/" + file);
    std::string yaml((std::istreambuf_iterator<char>(in)), {});
    ASSERT_NE(yaml.find(host), std::string::npos);
    yaml = replace_all(yaml, host, sim.url());
    yaml = replace_all(yaml, "poll_interval_ms: 10000", "poll_interval_ms: 200");
    write_pipeline_file(file, yaml);
  }
  /// Consent for both and a phone campaign; returns the dispositions' answer.
  void call_and_dispose(const std::string& first, const std::string& second) {
    json consents = json::array();
    for (const std::string& who : {first, second})
      consents.push_back({{"type", "consent"},
                          {"data",
                           {{"customer", who},
                            {"channel", "phone"},
                            {"purpose", "marketing"},
                            {"status", "granted"},
                            {"at", "2026-11-01T10:00:00Z"}}}});
    ASSERT_NO_FATAL_FAILURE(send(consents));
    ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records WHERE type='consent'", 2)) << hub_->log();
    ASSERT_NO_FATAL_FAILURE(send(
        json::array({request("autumn:1", first, "phone", "autumn"), request("autumn:2", second, "phone", "autumn")})));
    ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM contacts WHERE state='sent'", 2)) << hub_->log();
    const json dispositions = json::array(
        {{{"contact_id", contact_of("autumn:1")}, {"outcome", "wrong_number"}},
         {{"contact_id", contact_of("autumn:2")}, {"outcome", "sale"}, {"product", "savings-plus"}, {"revenue", 99}}});
    HttpResponse ok = post_signed_dispositions(gauge_port("callcenter_webhook_port"), dispositions, "msg_1");
    ASSERT_EQ(ok.status, 200) << ok.body;
  }
};

TEST_F(LoopRestTest, TheHubSpotExampleReadsContactsAndWritesTheResponsesBack) {
  CrmSim sim("hubspot");
  ::setenv("HUBSPOT_TOKEN", "sim-token", 1);
  const std::vector<std::string> ids =
      sim.create(json::array({{{"email", "Jana.Berg@Example.DE"}, {"firstname", "Jana"}, {"phone", "030 1234567"}},
                              {{"email", "lutz@example.de"}, {"firstname", "Lutz"}, {"phone", "+49 40 7654321"}}}));
  ASSERT_NO_FATAL_FAILURE(install_example("hubspot-contacts.yaml", "https://api.hubapi.com", sim));
  ASSERT_NO_FATAL_FAILURE(start_hub());
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM identities WHERE kind='ext:hubspot'", 2)) << hub_->log();
  CommandResult shown = cli({"profile", "show", "ext:hubspot:" + ids[0], "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(json::parse(shown.out)["attributes"]["email"]["value"], "jana.berg@example.de") << "normalised";
  EXPECT_EQ(json::parse(shown.out)["attributes"]["phone"]["value"], "+49301234567");

  ASSERT_NO_FATAL_FAILURE(call_and_dispose("ext:hubspot:" + ids[0], "ext:hubspot:" + ids[1]));
  json contacts;
  const bool landed = poll_until(
      [&] {
        contacts = sim.contacts();
        int seen = 0;
        for (const json& c : contacts) seen += c["properties"].value("touchpoint_last_response", "") == "call_outcome";
        return seen == 2;
      },
      30s);
  ASSERT_TRUE(landed) << contacts.dump() << "\n" << hub_->log();
  for (const json& c : contacts) {
    EXPECT_EQ(c["properties"]["touchpoint_last_campaign"], "autumn");
    EXPECT_EQ(c["properties"]["touchpoint_last_response_at"].get<std::string>().rfind("20", 0), 0u);
  }
  EXPECT_TRUE(wait_count("SELECT COUNT(*) FROM outbox WHERE sink='hubspot-contacts.responses'", 0));
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters"), 0) << hub_->log();
}

TEST_F(LoopRestTest, TheSalesforceExampleReadsContactsAndFilesTheResponsesAsTasks) {
  CrmSim sim("salesforce");
  ::setenv("SALESFORCE_CLIENT_ID", "sim-client", 1);
  ::setenv("SALESFORCE_CLIENT_SECRET", "sim-secret", 1);
  const std::vector<std::string> ids = sim.create(json::array(
      {{{"LastName", "Berg"}, {"FirstName", "Jana"}, {"Email", "jana@example.de"}, {"Phone", "+49 30 1234567"}},
       {{"LastName", "Lutz"}, {"Email", "lutz@example.de"}, {"Phone", "+49 40 7654321"}}}));
  ASSERT_NO_FATAL_FAILURE(install_example("salesforce-contacts.yaml", "https://MY-DOMAIN.my.salesforce.com", sim));
  ASSERT_NO_FATAL_FAILURE(start_hub());
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM identities WHERE kind='ext:salesforce'", 2)) << hub_->log();

  ASSERT_NO_FATAL_FAILURE(call_and_dispose("ext:salesforce:" + ids[0], "ext:salesforce:" + ids[1]));
  json tasks;
  ASSERT_TRUE(poll_until(
      [&] {
        tasks = sim.control("GET", "/_sim/tasks");
        return tasks.size() == 2;
      },
      30s))
      << tasks.dump() << "\n"
      << hub_->log();
  std::set<std::string> who;
  for (const json& t : tasks) {
    who.insert(t["WhoId"].get<std::string>());
    EXPECT_EQ(t["Subject"], "Touchpoint: call_outcome (autumn)");
    EXPECT_EQ(t["Status"], "Completed");
  }
  EXPECT_EQ(who, (std::set<std::string>{ids[0], ids[1]}));
  EXPECT_TRUE(wait_count("SELECT COUNT(*) FROM outbox WHERE sink='salesforce-contacts.responses'", 0));
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters"), 0) << hub_->log();
}

}  // namespace
}  // namespace tp_it
