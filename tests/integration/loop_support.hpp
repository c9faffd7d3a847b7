// What the closed-loop tests share: records posted through the shipped
// records pipeline, contact requests, and the contact and decision as the
// store, the CLI and the admin API show them.
#ifndef TOUCHPOINT_TESTS_INTEGRATION_LOOP_SUPPORT_HPP
#define TOUCHPOINT_TESTS_INTEGRATION_LOOP_SUPPORT_HPP

#include <nlohmann/json.hpp>
#include <sstream>

#include "support.hpp"

namespace tp_it {

class LoopTest : public HubTest {
 protected:
  using json = nlohmann::json;

  /// Posts envelopes to the records pipeline (write_shipped_customer_setup) and expects 202.
  void send(const json& envelopes) {
    const std::string url = "http://127.0.0.1:" + std::to_string(webhook_port("records")) + "/v1/records";
    HttpResponse r = http_request("POST", url, envelopes.dump(), {"Content-Type: application/json"});
    ASSERT_EQ(r.status, 202) << r.error << r.body;
  }
  /// A profile envelope and the customer's marketing consent on `channel`.
  static json customer(const std::string& id, const std::string& email, const std::string& channel, json attributes) {
    attributes["customer_id"] = id;
    attributes["email"] = email;
    return json::array({{{"type", "profile"}, {"data", std::move(attributes)}},
                        {{"type", "consent"},
                         {"data",
                          {{"customer", email},
                           {"channel", channel},
                           {"purpose", "marketing"},
                           {"status", "granted"},
                           {"at", "2026-11-01T10:00:00Z"}}}}});
  }
  /// A marketing contact request for `email` on `channel`; `extra` adds or overrides fields.
  static json request(const std::string& id, const std::string& email, const std::string& channel,
                      const std::string& campaign, json extra = json::object()) {
    json data{{"customer", email}, {"channel", channel}, {"campaign", campaign}, {"purpose", "marketing"}};
    data.update(extra);
    return {{"id", id}, {"type", "contact_request"}, {"data", std::move(data)}};
  }
  std::string contact_of(const std::string& request_id) {
    auto rows = store().rows("SELECT id FROM contacts WHERE request_id=?", {request_id});
    return rows.empty() ? std::string() : rows[0][0];
  }
  std::string state_of(const std::string& contact) {
    auto rows = store().rows("SELECT state FROM contacts WHERE id=?", {contact});
    return rows.empty() ? std::string() : rows[0][0];
  }
  /// `touchpoint rules decide` for the customer on `channel`, as JSON.
  json decide(const std::string& email, const std::string& channel) {
    CommandResult d = cli({"rules", "decide", "--customer", email, "--channel", channel, "--json"});
    EXPECT_EQ(d.exit_code, 0) << d.err;
    return json::parse(d.out);
  }
  /// The steps of a contact's life from GET /v1/contacts/<id> (empty when not found).
  std::vector<std::string> history_of(const std::string& contact) {
    HttpResponse life = admin_get("/v1/contacts/" + contact);
    EXPECT_EQ(life.status, 200) << life.body;
    if (life.status != 200) return {};
    const json c = json::parse(life.body);
    std::vector<std::string> steps;
    for (const json& h : c["history"]) steps.push_back(h["what"]);
    return steps;
  }
  /// The JSON lines of every `*.jsonl` file in `dir` (with a `.manifest.json` beside it, when asked).
  static std::vector<json> jsonl_rows(const std::filesystem::path& dir, bool with_manifest = false) {
    std::vector<json> rows;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.path().extension() != ".jsonl") continue;
      if (with_manifest && !std::filesystem::exists(e.path().string() + ".manifest.json")) continue;
      std::istringstream lines(read_file(e.path()));
      for (std::string line; std::getline(lines, line);)
        if (!line.empty()) rows.push_back(json::parse(line));
    }
    return rows;
  }
};

}  // namespace tp_it

#endif  // TOUCHPOINT_TESTS_INTEGRATION_LOOP_SUPPORT_HPP
