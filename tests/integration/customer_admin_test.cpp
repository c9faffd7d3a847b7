// The customer commands of the real binary and the admin API routes behind
// them, against a running hub with the shipped rulebook and records pipeline:
// rules test|decide|simulate, suppress add|list|remove, profile show|unmerge,
// gdpr export|erase, and the audit log. Exit codes and outputs are the ones
// docs/cli.md documents.
#include <nlohmann/json.hpp>
#include <set>

#include "support.hpp"

namespace tp_it {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

class CustomerAdminTest : public HubTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(write_shipped_customer_setup());
    ASSERT_NO_FATAL_FAILURE(start_hub());
    // Ben: credit score 450, e-mail marketing consent, a branch visit on 2026-11-28.
    // Clara: two CRM-less profiles that a third record links (a merge).
    ASSERT_NO_FATAL_FAILURE(send(json::array({
        {{"type", "profile"},
         {"data", {{"customer_id", "K-2"}, {"email", "ben@example.de"}, {"first_name", "Ben"}, {"credit_score", 450}}}},
        {{"type", "consent"},
         {"data",
          {{"customer", "ben@example.de"},
           {"channel", "email"},
           {"purpose", "marketing"},
           {"status", "granted"},
           {"at", "2026-11-01T10:00:00Z"}}}},
        {{"type", "event"},
         {"data", {{"customer", "ben@example.de"}, {"event_type", "branch_visit"}, {"at", "2026-11-28T15:00:00Z"}}}},
        {{"type", "profile"}, {"data", {{"customer_id", "K-3"}, {"email", "clara@example.de"}}}},
        {{"type", "profile"}, {"data", {{"customer_id", "K-4"}, {"phone", "+49 151 12345678"}}}},
    })));
    ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", 5));
    ASSERT_NO_FATAL_FAILURE(send(json::array(
        {{{"type", "profile"}, {"data", {{"customer_id", "K-3"}, {"phone", "0151 12345678"}}}}})));  // links K-4
    ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM merges", 1)) << hub_->log();
  }

  void send(const json& envelopes) {
    const std::string url = "http://127.0.0.1:" + std::to_string(webhook_port("records")) + "/v1/records";
    HttpResponse r = http_request("POST", url, envelopes.dump(), {"Content-Type: application/json"});
    ASSERT_EQ(r.status, 202) << r.error << r.body;
  }
  HttpResponse admin(const std::string& method, const std::string& path, const std::string& body = "") {
    return http_request(method, hub_->admin_url(path), body,
                        {"Authorization: Bearer " + admin_token(), "Content-Type: application/json"});
  }
  static std::set<std::string> codes(const json& decision) {
    std::set<std::string> out;
    for (const json& r : decision["reasons"]) out.insert(r["code"].get<std::string>());
    return out;
  }
  json decide_json(const std::vector<std::string>& extra, int expected_exit = 0) {
    std::vector<std::string> args{"rules", "decide", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult c = cli(args);
    EXPECT_EQ(c.exit_code, expected_exit) << c.out << c.err;
    return json::parse(c.out, nullptr, false);
  }
};

TEST_F(CustomerAdminTest, RulesTestDecideAndSimulate) {
  CommandResult t = cli({"rules", "test"});
  EXPECT_EQ(t.exit_code, 0) << t.out << t.err;
  EXPECT_NE(t.out.find(" passed, 0 failed"), std::string::npos) << t.out;

  // A case that expects the wrong decision fails with its name and the difference.
  const fs::path bad = root_ / "failing-rulebook.yaml";
  write_file_atomic(bad,
                    "channels: [email]\npurposes: [marketing]\nrules:\n"
                    "  - { name: consent, kind: consent, effect: suppress, purposes: [marketing] }\n"
                    "tests:\n  - name: no consent but expected to send\n    at: 2026-03-03T10:00:00Z\n"
                    "    customer: {}\n    proposal: { channel: email, purpose: marketing }\n"
                    "    expect: { decision: send }\n");
  t = cli({"rules", "test", "--rulebook", bad.string()});
  EXPECT_EQ(t.exit_code, 1) << t.out << t.err;
  EXPECT_NE(t.out.find("FAIL no consent but expected to send"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("expected send, got suppress"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("0 passed, 1 failed"), std::string::npos) << t.out;

  // The seed: within ten days of the branch visit, and credit offers below score 500.
  json d = decide_json({"--customer", "ben@example.de", "--channel", "email", "--offer", "loan", "--offer-category",
                        "credit", "--at", "2026-12-01T10:00:00Z"});
  EXPECT_EQ(d["decision"], "suppress") << d.dump();
  EXPECT_EQ(codes(d), (std::set<std::string>{"quiet_period", "condition"})) << d.dump();
  d = decide_json({"--customer", "ben@example.de", "--channel", "email", "--at", "2026-12-20T10:00:00Z"});
  EXPECT_EQ(d["decision"], "send") << d.dump();
  d = decide_json({"--customer", "nobody@example.com", "--channel", "email"}, 3);
  EXPECT_EQ(codes(d), std::set<std::string>{"unknown_customer"});
  CommandResult fax = cli({"rules", "decide", "--customer", "ben@example.de", "--channel", "fax"});
  EXPECT_EQ(fax.exit_code, 2);
  EXPECT_NE(fax.err.find("'fax' is not a channel of the rulebook"), std::string::npos) << fax.err;

  CommandResult s = cli({"rules", "simulate", "--all", "--channel", "email", "--at", "2026-12-20T10:00:00Z", "--json"});
  ASSERT_EQ(s.exit_code, 0) << s.out << s.err;
  json sim = json::parse(s.out, nullptr, false);
  EXPECT_EQ(sim["customers"], store().scalar("SELECT COUNT(*) FROM profiles WHERE COALESCE(merged_into, 0) = 0"));
  EXPECT_EQ(sim["send"], 1) << sim.dump();  // Ben; Clara has no consent
  EXPECT_EQ(sim["send"].get<int>() + sim["suppress"].get<int>(), sim["audience"].get<int>());
  EXPECT_EQ(sim["reasons"].value("consent_missing", 0), 1) << sim.dump();
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM decisions"), 0) << "simulate and decide store nothing";
  s = cli({"rules", "simulate", "--where", "profile.age > 3"});
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.err.find("unknown attribute 'age'"), std::string::npos) << s.err;
}

TEST_F(CustomerAdminTest, SuppressionsThroughTheCliAndTheAdminApi) {
  CommandResult a = cli({"suppress", "add", "ben@example.de", "--list", "marketing_objection", "--reason",
                         "objected by phone", "--channels", "email,sms"});
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  json d = decide_json({"--customer", "ben@example.de", "--channel", "email", "--at", "2026-12-20T10:00:00Z"});
  EXPECT_EQ(codes(d), std::set<std::string>{"suppressed"}) << d.dump();
  // The running hub sees the CLI's entry too.
  HttpResponse r =
      admin("POST", "/v1/decide", R"({"customer":"ben@example.de","channel":"email","at":"2026-12-20T10:00:00Z"})");
  EXPECT_EQ(codes(json::parse(r.body)), std::set<std::string>{"suppressed"}) << r.body;

  CommandResult l = cli({"suppress", "list", "--json"});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  json entries = json::parse(l.out);
  ASSERT_EQ(entries.size(), 1u) << l.out;
  EXPECT_EQ(entries[0]["subject"], "email:ben@example.de");
  EXPECT_EQ(entries[0]["channels"], json::array({"email", "sms"}));
  EXPECT_EQ(cli({"suppress", "add", "ben@example.de", "--list", "x", "--channels", "fax"}).exit_code, 2);

  // The admin API: add, list, bad input, delete.
  r = admin("POST", "/v1/suppressions", R"({"customer":"phone:+4915112345678","list":"blacklist","reason":"fraud"})");
  EXPECT_EQ(r.status, 201) << r.body;
  r = admin("POST", "/v1/suppressions", R"({"customer":"ben@example.de","list":"blacklist","channels":"email"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("channels: must be a list"), std::string::npos);
  r = admin("POST", "/v1/suppressions", R"({"customer":"ben@example.de","list":"blacklist","until":"tomorrow"})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = admin("GET", "/v1/suppressions?list=blacklist");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).size(), 1u) << r.body;
  r = admin("DELETE", "/v1/suppressions?list=blacklist&customer=phone:%2B4915112345678");
  EXPECT_EQ(r.status, 200) << r.body;
  r = admin("DELETE", "/v1/suppressions?list=blacklist&customer=phone:%2B4915112345678");
  EXPECT_EQ(r.status, 404) << r.body;

  CommandResult rm = cli({"suppress", "remove", "ben@example.de", "--list", "marketing_objection"});
  EXPECT_EQ(rm.exit_code, 0) << rm.out << rm.err;
  rm = cli({"suppress", "remove", "ben@example.de", "--list", "marketing_objection"});
  EXPECT_EQ(rm.exit_code, 3) << rm.out << rm.err;
  EXPECT_EQ(cli({"suppress", "list"}).out, "no entries\n");

  // Every change is in the audit log, with who made it.
  r = admin("GET", "/v1/audit?limit=10");
  ASSERT_EQ(r.status, 200) << r.body;
  int by_cli = 0, by_token = 0, removed = 0;
  for (const json& e : json::parse(r.body)) {
    const bool cli_actor = e["actor"].get<std::string>().rfind("cli:", 0) == 0;
    if (e["action"] == "suppress.add") ++(cli_actor ? by_cli : by_token);
    if (e["action"] == "suppress.remove") removed += e["detail"]["removed"].get<int>();  // attempts are audited too
    EXPECT_EQ(e.dump().find("ben@example.de"), std::string::npos) << "the audit log holds the plain address";
  }
  EXPECT_EQ(by_cli, 1) << r.body;
  EXPECT_EQ(by_token, 1) << r.body;
  EXPECT_EQ(removed, 2) << r.body;  // one through the API, one through the CLI
}

TEST_F(CustomerAdminTest, ProfileShowUnmergeExportAndErase) {
  CommandResult show = cli({"profile", "show", "clara@example.de", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  json clara = json::parse(show.out);
  ASSERT_EQ(clara["merges"].size(), 1u) << show.out;
  const int64_t merge = clara["merges"][0]["id"].get<int64_t>();
  EXPECT_EQ(clara["merged_profiles"].size(), 1u);

  CommandResult u = cli({"profile", "unmerge", "--merge", std::to_string(merge)});
  EXPECT_EQ(u.exit_code, 0) << u.out << u.err;
  EXPECT_NE(u.out.find("unmerged"), std::string::npos) << u.out;
  u = cli({"profile", "unmerge", "--merge", std::to_string(merge)});
  EXPECT_EQ(u.exit_code, 3) << u.out << u.err;
  EXPECT_NE((u.out + u.err).find("already split"), std::string::npos) << u.out << u.err;
  HttpResponse r = admin("GET", "/v1/profiles/clara@example.de");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["merged_profiles"].size(), 0u) << r.body;
  EXPECT_EQ(admin("POST", "/v1/profiles/unmerge?merge=abc").status, 400);
  EXPECT_EQ(admin("GET", "/v1/profiles/nobody@example.com").status, 404);

  CommandResult x = cli({"gdpr", "export", "ben@example.de"});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  json exported = json::parse(x.out);
  EXPECT_EQ(exported["format"], "touchpoint.gdpr-export.v1");
  EXPECT_EQ(exported["candidates_by_source"]["first_name"]["records"]["value"], "Ben") << x.out;
  EXPECT_EQ(exported["timeline"].size(), 1u);
  EXPECT_EQ(cli({"gdpr", "export", "nobody@example.com"}).exit_code, 3);

  // Erase through the running hub: a receipt per connector, then Ben stays gone.
  CommandResult e = cli({"gdpr", "erase", "ben@example.de"});
  ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
  json receipt = json::parse(e.out);
  EXPECT_EQ(receipt["profiles"], 1);
  EXPECT_EQ(receipt["complete"], true) << e.out;
  ASSERT_EQ(receipt["connectors"].size(), 1u) << e.out;
  EXPECT_EQ(receipt["connectors"][0]["status"], "holds_no_data");
  EXPECT_EQ(cli({"gdpr", "erase", "ben@example.de"}).exit_code, 3);
  EXPECT_EQ(cli({"profile", "show", "ben@example.de"}).exit_code, 3);
  ASSERT_NO_FATAL_FAILURE(send(json::array(
      {{{"type", "profile"}, {"data", {{"customer_id", "K-2"}, {"email", "BEN@example.de"}, {"first_name", "B"}}}}})));
  ASSERT_TRUE(poll_until(
      [&] { return admin("GET", "/metrics").body.find("touchpoint_store_tombstoned_total 1") != std::string::npos; },
      10s))
      << admin("GET", "/metrics").body;
  EXPECT_EQ(cli({"profile", "show", "ben@example.de"}).exit_code, 3) << "an erased person came back";

  r = admin("GET", "/v1/audit");
  ASSERT_EQ(r.status, 200);
  bool erase_audited = false, export_audited = false;
  for (const json& a : json::parse(r.body)) {
    erase_audited |= a["action"] == "gdpr.erase";
    export_audited |= a["action"] == "gdpr.export";
    EXPECT_EQ(a.dump().find("ben@example.de"), std::string::npos) << "the audit log holds the plain address";
  }
  EXPECT_TRUE(erase_audited) << r.body;
  EXPECT_TRUE(export_audited) << r.body;
}

}  // namespace
}  // namespace tp_it
