// The CRM in the loop, end to end through the real binary: parties of a real
// trytond flow into the store (the tryton plugin as a source); a campaign
// calls them through the callcenter plugin; the dispositions come back
// through its signed webhook; and what the hub learnt flows back into
// Tryton through the tryton plugin as a feedback sink: the wrong number is
// deactivated on the party, the sale is an opportunity, both are notes.
#include <sys/wait.h>

#include <cstdio>
#include <set>

#include "loop_support.hpp"

namespace tp_it {
namespace {
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using json = nlohmann::json;

int run(const std::string& cmd, std::string* out) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  const int st = ::pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/// tests/fixtures/tryton/trytond.sh, and the test's own JSON-RPC calls.
class Trytond {
 public:
  explicit Trytond(fs::path dir) : dir_(std::move(dir)) {
    std::string out;
    const std::string script = std::string(TP_SOURCE_DIR) + "/tests/fixtures/tryton/trytond.sh";
    if (run(script + " start " + dir_.string() + " 2>&1", &out) != 0) throw std::runtime_error("trytond: " + out);
    port_ = std::stoi(out);
  }
  ~Trytond() {
    std::string out;
    run(std::string(TP_SOURCE_DIR) + "/tests/fixtures/tryton/trytond.sh stop " + dir_.string() + " 2>&1", &out);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  json call(const std::string& method, json params) {
    if (session_.empty()) {
      const json r =
          post({{"id", 0}, {"method", "common.db.login"}, {"params", {"admin", {{"password", "admin"}}}}}, "");
      const std::string plain = "admin:" + std::to_string(r[0].get<int64_t>()) + ":" + r[1].get<std::string>();
      std::string b64(4 * ((plain.size() + 2) / 3), '\0');
      b64.resize(static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                                     reinterpret_cast<const unsigned char*>(plain.data()),
                                                     static_cast<int>(plain.size()))));
      session_ = "Authorization: Session " + b64;
    }
    params.push_back(json{{"active_test", false}});
    return post({{"id", 1}, {"method", method}, {"params", std::move(params)}}, session_);
  }

 private:
  json post(const json& request, const std::string& session) {
    std::vector<std::string> headers{"Content-Type: application/json"};
    if (!session.empty()) headers.push_back(session);
    HttpResponse r = http_request("POST", url() + "/tp/", request.dump(), headers);
    if (r.status != 200) throw std::runtime_error("tryton HTTP " + std::to_string(r.status) + ": " + r.body);
    const json j = json::parse(r.body);
    if (j.contains("error") && !j["error"].is_null()) throw std::runtime_error("tryton: " + j["error"].dump());
    return j["result"];
  }

  fs::path dir_;
  int port_ = 0;
  std::string session_;
};

class LoopTrytonTest : public LoopTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(use_rulebook_with_calling_hours_now());
    tryton_ = std::make_unique<Trytond>(root_ / "tryton");
    write_calls_pipeline(root_ / "calls");
    write_file(root_ / "tryton.password", "admin\n");
    const std::string crm = "{ url: \"" + tryton_->url() + "\", database: tp, user: admin, password: \"${file:" +
                            (root_ / "tryton.password").string() + "}\" }";
    write_pipeline_file("crm.yaml",
                        "name: crm\n"
                        "source:\n"
                        "  plugin: tryton\n"
                        "  poll_interval_ms: 200\n"
                        "  config: " +
                            crm +
                            "\n"
                            "transforms:\n"
                            "  - normalize_phone: { field: phone, default_region: DE, on_invalid: remove }\n"
                            "store: true\n"
                            "sinks:\n"
                            "  - name: feedback\n"
                            "    plugin: tryton\n"
                            "    feedback: true\n"
                            "    config: " +
                            crm + "\n");
  }

  // Before the hub's directory (which holds the server's) is removed.
  void TearDown() override {
    tryton_.reset();
    LoopTest::TearDown();
  }

  int64_t party(const std::string& name, const std::string& email, const std::string& phone) {
    return tryton_
        ->call(
            "model.party.party.create",
            json::array({json::array(
                {{{"name", name},
                  {"contact_mechanisms", json::array({json::array({"create", json::array({
                                                                                 {{"type", "email"}, {"value", email}},
                                                                                 {{"type", "phone"}, {"value", phone}},
                                                                             })})})}}})}))[0]
        .get<int64_t>();
  }

  std::unique_ptr<Trytond> tryton_;
};

TEST_F(LoopTrytonTest, PartiesComeInAndTheCallsOutcomesGoBackIntoTryton) {
  const int64_t joerg = party("Jörg Krüger", "joerg@example.de", "+49 30 1234567");
  const int64_t karla = party("Karla Schulz", "karla@example.de", "030 7654321");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM identities WHERE kind='ext:tryton'", 3)) << hub_->log();
  CommandResult shown = cli({"profile", "show", "ext:tryton:" + std::to_string(karla), "--json"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(json::parse(shown.out)["attributes"]["phone"]["value"], "+49307654321") << "normalised by the pipeline";

  // Consent comes from another system (the records pipeline); the campaign calls both.
  json consents = json::array();
  for (const char* email : {"joerg@example.de", "karla@example.de"})
    consents.push_back({{"type", "consent"},
                        {"data",
                         {{"customer", email},
                          {"channel", "phone"},
                          {"purpose", "marketing"},
                          {"status", "granted"},
                          {"at", "2026-11-01T10:00:00Z"}}}});
  ASSERT_NO_FATAL_FAILURE(send(consents));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records WHERE type='consent'", 2)) << hub_->log();
  ASSERT_NO_FATAL_FAILURE(send(json::array(
      {request("autumn:J", "ext:tryton:" + std::to_string(joerg), "phone", "autumn", {{"offer", "insurance"}}),
       request("autumn:K", "ext:tryton:" + std::to_string(karla), "phone", "autumn", {{"offer", "insurance"}})})));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM contacts WHERE state='sent'", 2)) << hub_->log();

  const json dispositions = json::array(
      {{{"contact_id", contact_of("autumn:J")}, {"outcome", "wrong_number"}},
       {{"contact_id", contact_of("autumn:K")}, {"outcome", "sale"}, {"product", "savings-plus"}, {"revenue", 125.5}}});
  HttpResponse ok = post_signed_dispositions(gauge_port("callcenter_webhook_port"), dispositions, "msg_1");
  ASSERT_EQ(ok.status, 200) << ok.body;

  // Tryton now shows what the call center told the hub.
  json phone, opportunity, notes;
  const bool landed = poll_until(
      [&] {
        phone = tryton_->call(
            "model.party.contact_mechanism.search_read",
            json::array({json::array({json::array({"party", "=", joerg}), json::array({"type", "=", "phone"})}), 0, 10,
                         nullptr, json::array({"active", "comment"})}));
        opportunity = tryton_->call("model.sale.opportunity.search_read",
                                    json::array({json::array({json::array({"party", "=", karla})}), 0, 10, nullptr,
                                                 json::array({"amount", "description"})}));
        notes = tryton_->call("model.ir.note.search_read",
                              json::array({json::array(), 0, 10, nullptr, json::array({"resource", "message"})}));
        return phone.size() == 1 && phone[0]["active"] == 0 && opportunity.size() == 1 && notes.size() == 2;
      },
      30s);
  ASSERT_TRUE(landed) << phone.dump() << "\n" << opportunity.dump() << "\n" << notes.dump() << "\n" << hub_->log();
  const std::string comment = phone[0]["comment"];
  EXPECT_EQ(comment.rfind("touchpoint: invalid since 20", 0), 0u) << comment;
  EXPECT_NE(comment.find("(call_outcome wrong_number)"), std::string::npos) << comment;
  EXPECT_EQ(opportunity[0]["amount"]["decimal"], "125.50");
  EXPECT_EQ(opportunity[0]["description"], "savings-plus (sold on a phone contact)");
  std::set<std::string> resources;
  for (const json& n : notes) resources.insert(n["resource"].get<std::string>());
  EXPECT_EQ(resources,
            (std::set<std::string>{"party.party," + std::to_string(joerg), "party.party," + std::to_string(karla)}));
  EXPECT_TRUE(wait_count("SELECT COUNT(*) FROM outbox WHERE sink='crm.feedback'", 0)) << "all delivered";
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters"), 0) << hub_->log();
}

}  // namespace
}  // namespace tp_it
