// SIGHUP reloads the rulebook without a restart: the next decision uses the
// new rules and reports the new version; an invalid rulebook is refused, the
// running one stays, and the refusal is logged and counted.
#include <signal.h>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace tp_it {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kNoRules = "channels: [email]\npurposes: [marketing]\nrules: []\n";
constexpr const char* kConsentRule =
    "channels: [email]\npurposes: [marketing]\nrules:\n"
    "  - name: consent needed\n    kind: consent\n    effect: suppress\n    purposes: [marketing]\n";
constexpr const char* kInvalid =
    "channels: [email]\npurposes: [marketing]\nrules:\n  - name: broken\n    kind: no_such_kind\n";

class RulebookReloadTest : public HubTest {
 protected:
  json decide_anna() {
    HttpResponse r = http_request("POST", hub_->admin_url("/v1/decide"),
                                  R"({"customer":"anna@example.de","channel":"email","purpose":"marketing"})",
                                  {"Authorization: Bearer " + admin_token(), "Content-Type: application/json"});
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }
  std::filesystem::path rulebook() const { return root_ / "rulebook.yaml"; }
};

TEST_F(RulebookReloadTest, SighupSwapsTheRulebookAndRefusesAnInvalidOne) {
  write_file_atomic(rulebook(), kNoRules);
  write_hub_config("customer:\n  rulebook: " + rulebook().string() + "\n");
  write_webhook_pipeline("web");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  ASSERT_EQ(post("web", R"({"id":"r1","customer_id":"K-1","email":"anna@example.de"})").status, 202);
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM profiles", 1));

  const json before = decide_anna();
  EXPECT_EQ(before["decision"], "send") << before.dump();
  const std::string first = before["rulebook"].get<std::string>();

  // A stricter rulebook: Anna gave no consent.
  write_file_atomic(rulebook(), kConsentRule);
  hub_->signal(SIGHUP);
  json after;
  ASSERT_TRUE(poll_until(
      [&] {
        after = decide_anna();
        return after.value("rulebook", "") != first;
      },
      10s))
      << hub_->log();
  EXPECT_EQ(after["decision"], "suppress") << after.dump();
  ASSERT_EQ(after["reasons"].size(), 1u) << after.dump();
  EXPECT_EQ(after["reasons"][0]["code"], "consent_missing");
  EXPECT_EQ(after["reasons"][0]["rule"], "consent needed");
  const std::string second = after["rulebook"].get<std::string>();

  // An invalid rulebook: refused with its position, the running one stays.
  write_file_atomic(rulebook(), kInvalid);
  hub_->signal(SIGHUP);
  ASSERT_TRUE(poll_until(
      [&] {
        return admin_get("/metrics").body.find("touchpoint_reloads_total{result=\"rulebook_rejected\"} 1") !=
               std::string::npos;
      },
      10s))
      << admin_get("/metrics").body;
  const json kept = decide_anna();
  EXPECT_EQ(kept["rulebook"], second);
  EXPECT_EQ(kept["decision"], "suppress");
  const std::string log = hub_->log();
  EXPECT_NE(log.find("the running rulebook stays"), std::string::npos) << log;
  EXPECT_NE(log.find("rulebook.yaml:5:"), std::string::npos) << "the error names file:line:col\n" << log;
  EXPECT_TRUE(hub_->running());
  EXPECT_EQ(hub_->terminate(20s), 0);
}

}  // namespace
}  // namespace tp_it
