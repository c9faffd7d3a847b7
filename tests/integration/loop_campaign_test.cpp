// touchpoint campaign run: one contact request per customer in the audience,
// decided and queued by the running hub's channel sink (the post plugin
// writing letter-shop files), a deterministic holdout that is decided but
// not sent, and a second run that sends nobody twice.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "support.hpp"

namespace tp_it {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

class LoopCampaignTest : public HubTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(write_shipped_customer_setup());
    letters_ = root_ / "letters";
    write_pipeline_file("letters.yaml",
                        "name: letters\n"
                        "source:\n"
                        "  plugin: post\n"
                        "  config: { returns: { dir: " +
                            (root_ / "returns").string() +
                            " } }\n"
                            "store: true\n"
                            "sinks:\n"
                            "  - name: shop\n"
                            "    plugin: post\n"
                            "    channel: post\n"
                            "    config: { target: { dir: " +
                            letters_.string() + " } }\n");
    ASSERT_NO_FATAL_FAILURE(start_hub());
  }

  size_t letters_written() {
    size_t rows = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(letters_, ec)) {
      if (e.path().extension() != ".csv") continue;
      std::string text = read_file(e.path());
      rows += static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) - 1;  // minus the header
    }
    return rows;
  }

  fs::path letters_;
};

TEST_F(LoopCampaignTest, ACampaignRunSendsTheAudienceHoldsOutAControlGroupAndNeverSendsTwice) {
  json batch = json::array();
  constexpr int kPeople = 40;
  for (int i = 0; i < kPeople; ++i) {
    const std::string email = "p" + std::to_string(i) + "@example.de";
    batch.push_back({{"type", "profile"},
                     {"data",
                      {{"customer_id", "K-" + std::to_string(i)},
                       {"email", email},
                       {"credit_score", i < 30 ? 700 : 400},
                       {"address", {{"street", "Weg " + std::to_string(i)}, {"zip", "10115"}, {"city", "Berlin"}}}}}});
    if (i % 10 != 9)  // every tenth has no postal consent
      batch.push_back(
          {{"type", "consent"},
           {"data", {{"customer", email}, {"channel", "post"}, {"purpose", "marketing"}, {"status", "granted"}}}});
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(webhook_port("records")) + "/v1/records";
  HttpResponse r = http_request("POST", url, batch.dump(), {"Content-Type: application/json"});
  ASSERT_EQ(r.status, 202) << r.error << r.body;
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", 76)) << hub_->log();

  const fs::path campaign = root_ / "spring.yaml";
  write_file(campaign,
             "name: spring\nchannel: post\npurpose: marketing\noffer: savings\n"
             "audience: profile.credit_score >= 500\nholdout: 0.2\n");
  CommandResult first = cli({"campaign", "run", campaign.string(), "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const json out = json::parse(first.out);
  EXPECT_EQ(out["audience"], 30);
  EXPECT_EQ(out["requested"], 30);
  const int held = out["holdout"].get<int>();
  EXPECT_GT(held, 0);
  EXPECT_LT(held, 15);
  const json& states = out["contacts_by_state"];
  // 3 of the 30 have no postal consent (i = 9, 19, 29): suppressed, even when in the holdout.
  EXPECT_EQ(states.value("suppressed", 0), 3) << out.dump();
  EXPECT_EQ(out["suppressed_by_reason"].value("consent_missing", 0), 3) << out.dump();
  const int queued = states.value("queued", 0) + states.value("sending", 0) + states.value("sent", 0);
  EXPECT_EQ(queued + states.value("holdout", 0) + 3, 30) << out.dump();

  // The running hub sends the queued ones; nobody in the holdout gets a letter.
  ASSERT_TRUE(poll_until([&] { return letters_written() == static_cast<size_t>(queued); }, 20s))
      << letters_written() << " of " << queued << "\n"
      << hub_->log();
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM contacts WHERE state='sent'", queued));

  // A second run creates nothing new and sends nothing again.
  CommandResult second = cli({"campaign", "run", campaign.string(), "--json"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(json::parse(second.out)["contacts_by_state"].value("sent", 0), queued) << second.out;
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM contacts"), 30);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM outbox"), 0);
  EXPECT_EQ(letters_written(), static_cast<size_t>(queued));

  // A broken campaign file is a usage error with its position.
  write_file(campaign, "name: spring\nchannel: post\nholdout: 0.9\n");
  CommandResult bad = cli({"campaign", "run", campaign.string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("holdout must be a number between 0 and 0.5"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace tp_it
