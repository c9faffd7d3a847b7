// The reports end to end (docs/reports.md): a campaign run by the real hub
// (letters through the post plugin, a held-out control group), purchases
// posted to the webhook, then the same figures from GET /v1/reports/<kind>,
// from `touchpoint report` and on the dashboard in headless Chromium
// (tests/browser/dashboard_check.mjs), whose screenshots are kept as
// artifacts in <build>/artifacts/dashboard/.
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace tp_it {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

constexpr int kPeople = 60;
const std::string kHostileCampaign = "<img src=x onerror=alert(1)> \"Ünïcødé\" & 'Ω' \u202e\u200d";

class ReportDashboardTest : public HubTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    read_token_file_ = root_ / "reporting.token";
    write_file(read_token_file_, "reporting-token-0123456789abcdef\n");
    ::chmod(read_token_file_.c_str(), 0600);
    admin_yaml_ = "{ listen: \"127.0.0.1:0\", tokens: [{ name: reporting, file: " + read_token_file_.string() +
                  ", role: read }] }";
    ASSERT_NO_FATAL_FAILURE(write_shipped_customer_setup());
    write_pipeline_file(
        "letters.yaml",
        "name: letters\nsource:\n  plugin: post\n  config: { returns: { dir: " + (root_ / "returns").string() +
            " } }\nstore: true\nsinks:\n  - name: shop\n    plugin: post\n    channel: post\n"
            "    config: { target: { dir: " +
            (root_ / "letters").string() + " } }\n");
    ASSERT_NO_FATAL_FAILURE(start_hub());
    ASSERT_NO_FATAL_FAILURE(make_data());
  }

  /// 60 people with postal addresses (every tenth without consent), a
  /// savings campaign with a 20 % holdout, and purchases after it.
  void make_data() {
    json batch = json::array();
    for (int i = 0; i < kPeople; ++i) {
      const std::string email = "p" + std::to_string(i) + "@example.de";
      batch.push_back(
          {{"type", "profile"},
           {"data",
            {{"customer_id", "K-" + std::to_string(i)},
             {"email", email},
             {"first_name", "Person"},
             {"address", {{"street", "Weg " + std::to_string(i)}, {"zip", "10115"}, {"city", "Berlin"}}}}}});
      if (i % 10 != 9)
        batch.push_back(
            {{"type", "consent"},
             {"data", {{"customer", email}, {"channel", "post"}, {"purpose", "marketing"}, {"status", "granted"}}}});
    }
    const std::string url = "http://127.0.0.1:" + std::to_string(webhook_port("records")) + "/v1/records";
    HttpResponse r = http_request("POST", url, batch.dump(), {"Content-Type: application/json"});
    ASSERT_EQ(r.status, 202) << r.error << r.body;
    ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", kPeople + kPeople - kPeople / 10)) << hub_->log();

    const fs::path campaign = root_ / "spring.yaml";
    write_file(
        campaign,
        "name: spring\nchannel: post\npurpose: marketing\noffer: savings\noffer_category: savings\nholdout: 0.2\n");
    CommandResult run = cli({"campaign", "run", campaign.string(), "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    campaign_run_ = json::parse(run.out);
    const int queued = campaign_run_["contacts_by_state"].value("queued", 0);
    // A campaign name is anybody's input: markup and odd Unicode must reach
    // the page as text (the browser check fails on any script error or CSP
    // violation), and one of 10 KB is refused with its reason.
    json hostile = json::array();
    for (const std::string& name : {kHostileCampaign, std::string(10'000, 'c')})
      hostile.push_back({{"type", "contact_request"},
                         {"id", "odd-" + std::to_string(name.size())},
                         {"data",
                          {{"customer", "p3@example.de"},
                           {"channel", "post"},
                           {"campaign", name},
                           {"purpose", "marketing"},
                           {"offer", "savings"}}}});
    r = http_request("POST", url, hostile.dump(), {"Content-Type: application/json"});
    ASSERT_EQ(r.status, 202) << r.error << r.body;
    ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM contacts WHERE state='sent'", queued + 1, 20s)) << hub_->log();
    ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM dead_letters", 1)) << hub_->log();

    // Every third person buys savings (the offer), every seventh a credit card.
    json buys = json::array();
    for (int i = 0; i < kPeople; ++i) {
      const std::string email = "p" + std::to_string(i) + "@example.de";
      if (i % 3 == 0)
        buys.push_back({{"type", "event"},
                        {"id", "buy-s-" + std::to_string(i)},
                        {"data",
                         {{"customer", email},
                          {"event_type", "purchase"},
                          {"product", "savings-plus"},
                          {"category", "savings"},
                          {"revenue", 1234.5}}}});
      if (i % 7 == 0)
        buys.push_back({{"type", "event"},
                        {"id", "buy-c-" + std::to_string(i)},
                        {"data",
                         {{"customer", email},
                          {"event_type", "purchase"},
                          {"product", "credit-card"},
                          {"category", "cards"},
                          {"revenue", 49.99}}}});
    }
    purchases_ = static_cast<int>(buys.size());
    r = http_request("POST", url, buys.dump(), {"Content-Type: application/json"});
    ASSERT_EQ(r.status, 202) << r.error << r.body;
    ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM timeline WHERE event_type='purchase'", purchases_)) << hub_->log();
    // The data-quality snapshot the hub computed at start-up predates these records.
    HttpResponse refresh = admin_post("/v1/reports/quality/refresh");
    ASSERT_EQ(refresh.status, 200) << refresh.body;
  }

  json report(const std::string& path, const std::string& token = "") {
    std::vector<std::string> h{"Authorization: Bearer " + (token.empty() ? admin_token() : token)};
    HttpResponse r = http_request("GET", hub_->admin_url(path), "", h);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    json j = json::parse(r.body, nullptr, false);
    if (j.is_object()) j.erase("computed_ms");
    return j;
  }

  fs::path read_token_file_;
  json campaign_run_;
  int purchases_ = 0;
};

TEST_F(ReportDashboardTest, TheApiCountsTheCampaignItsControlGroupAndItsConversions) {
  const json c = report("/v1/reports/campaigns");
  ASSERT_EQ(c["campaigns"].size(), 2u) << c.dump();
  json f, odd;
  for (const json& row : c["campaigns"]) (row["campaign"] == "spring" ? f : odd) = row["funnel"];
  EXPECT_EQ(odd["requested"], 1) << c.dump();  // the hostile name, intact
  EXPECT_EQ(odd["sent"], 1);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters WHERE reason LIKE '%campaign%'"), 1);
  const json& states = campaign_run_["contacts_by_state"];
  EXPECT_EQ(f["requested"], kPeople);
  EXPECT_EQ(f["suppressed"], kPeople / 10);
  EXPECT_EQ(f["suppressed_by_reason"]["consent_missing"], kPeople / 10);
  EXPECT_EQ(f["holdout"], states.value("holdout", 0));
  EXPECT_EQ(f["contacted"], states.value("queued", 0));
  EXPECT_EQ(f["sent"], states.value("queued", 0));
  // Converted: the contacted people among every third or every seventh.
  const int64_t converted = store().scalar(
      "SELECT COUNT(DISTINCT c.id) FROM contacts c JOIN timeline t ON t.profile_id = c.profile_id "
      "WHERE c.campaign = 'spring' AND c.decision = 'send' AND t.event_type = 'purchase'");
  EXPECT_EQ(f["converted"], converted);
  const int64_t target = store().scalar(
      "SELECT COUNT(DISTINCT c.id) FROM contacts c JOIN timeline t ON t.profile_id = c.profile_id "
      "WHERE c.campaign = 'spring' AND c.decision = 'send' AND t.event_type = 'purchase' AND t.category = 'savings'");
  EXPECT_EQ(f["converted_target"], target);
  EXPECT_LT(target, converted);  // the credit cards were not the offer

  // Every purchase is somebody's or nobody's under each model, never more or less.
  for (const char* model : {"first_touch", "last_touch", "linear", "position_based", "time_decay", "treatment"}) {
    const json a = report(std::string("/v1/reports/attribution?model=") + model);
    EXPECT_NEAR(a["total"]["conversions"].get<double>(), purchases_, 1e-9) << model;
    double by_channel = 0;
    for (const json& ch : a["channels"]) by_channel += ch["conversions"].get<double>();
    EXPECT_NEAR(by_channel, purchases_, 1e-9) << model;
  }
  const json ctl = report("/v1/reports/control");
  ASSERT_EQ(ctl["campaigns"].size(), 1u) << ctl.dump();
  EXPECT_EQ(ctl["campaigns"][0]["any"]["control"], states.value("holdout", 0));
  EXPECT_EQ(ctl["campaigns"][0]["any"]["verdict"], "too_small");

  const json q = report("/v1/reports/quality");
  EXPECT_EQ(q["profiles"], kPeople);
  EXPECT_EQ(q["consent_marketing"]["post"]["granted"], kPeople - kPeople / 10);
  EXPECT_EQ(q["completeness"]["first_name"]["profiles"], kPeople);
  const json p = report("/v1/reports/pipelines");
  EXPECT_TRUE(p["status"]["ready"].get<bool>()) << p.dump();
  EXPECT_TRUE(p["outbox"].contains("letters.shop")) << p.dump();
}

TEST_F(ReportDashboardTest, ReportsNeedATokenAndRefuseMalformedQueries) {
  EXPECT_EQ(admin_get("/v1/reports/campaigns", false).status, 401);
  // A read-only token reads reports but cannot trigger a rescan.
  EXPECT_EQ(report("/v1/reports/channels", "reporting-token-0123456789abcdef")["report"], "channels");
  HttpResponse refresh = http_request("POST", hub_->admin_url("/v1/reports/quality/refresh"), "",
                                      {"Authorization: Bearer reporting-token-0123456789abcdef"});
  EXPECT_EQ(refresh.status, 403) << refresh.body;
  EXPECT_EQ(admin_get("/v1/reports/attribution?model=last-click").status, 400);
  EXPECT_EQ(admin_get("/v1/reports/campaigns?from=yesterday").status, 400);
  EXPECT_EQ(admin_get("/v1/reports/campaigns?campaign=" + std::string(300, 'x')).status, 400);
  EXPECT_EQ(admin_get("/v1/reports/nothing").status, 404);
  // A time range without contacts has no campaigns.
  EXPECT_TRUE(report("/v1/reports/campaigns?from=2001-01-01&to=2001-12-31")["campaigns"].empty());
  // The page itself is public (it holds no data) and locked down.
  HttpResponse page = admin_get("/dashboard", false);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<html"), std::string::npos);
  EXPECT_EQ(page.headers["content-security-policy"].rfind("default-src 'self'", 0), 0u)
      << page.headers["content-security-policy"];
  EXPECT_EQ(admin_get("/dashboard/chart.js", false).status, 200);
}

TEST_F(ReportDashboardTest, TheCliPrintsWhatTheApiAnswers) {
  CommandResult j = cli({"report", "campaigns", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  json from_cli = json::parse(j.out);
  from_cli.erase("computed_ms");
  EXPECT_EQ(from_cli, report("/v1/reports/campaigns"));
  CommandResult csv = cli({"report", "attribution", "--model", "linear", "--csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("model,campaign,channel,conversions,revenue\n", 0), 0u) << csv.out;
  EXPECT_NE(csv.out.find("linear,spring,post,"), std::string::npos) << csv.out;
  // The hostile name is quoted as CSV, and starts no formula.
  EXPECT_NE(csv.out.find("linear,\"<img src=x onerror=alert(1)> \"\"Ünïcødé\"\""), std::string::npos) << csv.out;
  CommandResult text = cli({"report", "control"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("too_small"), std::string::npos) << text.out;
  EXPECT_EQ(cli({"report", "nothing"}).exit_code, 2);
  EXPECT_EQ(cli({"report", "attribution", "--model", "u-shaped"}).exit_code, 2);
}

TEST_F(ReportDashboardTest, TheDashboardInChromiumShowsTheApisFigures) {
  const fs::path node = program_on_path("node");
  ASSERT_FALSE(node.empty()) << "node is not on PATH (scripts/install-deps.sh installs nodejs)";
  const fs::path browser_dir = fs::path(TP_SOURCE_DIR) / "tests/browser";
  ASSERT_TRUE(fs::exists(browser_dir / "node_modules/playwright-core"))
      << "run: npm ci --prefix tests/browser (scripts/test.sh does)";
  ASSERT_TRUE(fs::exists("/usr/bin/chromium")) << "Debian's chromium is missing (scripts/install-deps.sh installs it)";
  const fs::path artifacts = fs::path(TP_ARTIFACT_DIR) / "dashboard";
  fs::create_directories(artifacts);
  CommandResult r = run_command({node.string(), (browser_dir / "dashboard_check.mjs").string(), "--url",
                                 hub_->admin_url(""), "--token", admin_token(), "--out", artifacts.string()},
                                root_, 120s);
  ASSERT_EQ(r.exit_code, 0) << r.out << "\n" << r.err << "\n" << hub_->log();
  EXPECT_TRUE(fs::exists(artifacts / "dashboard-desktop.png"));
  EXPECT_TRUE(fs::exists(artifacts / "dashboard-phone.png"));
  std::cout << "dashboard check: " << r.out;
}

}  // namespace
}  // namespace tp_it
