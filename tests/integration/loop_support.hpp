// What the closed-loop tests share: records posted through the shipped
// records pipeline, contact requests, and the contact and decision as the
// store, the CLI and the admin API show them.
#ifndef TOUCHPOINT_TESTS_INTEGRATION_LOOP_SUPPORT_HPP
#define TOUCHPOINT_TESTS_INTEGRATION_LOOP_SUPPORT_HPP

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support.hpp"

namespace tp_it {

/// The call-center webhook's shared secret in the loop tests.
inline const std::string kCallSecret = "a-call-center-secret-of-32-bytes";

class LoopTest : public HubTest {
 protected:
  using json = nlohmann::json;

  /// The shipped customer setup with the shipped rulebook, its calling hours
  /// moved to a UTC window around now (wrapping midnight where it must): a
  /// test must not depend on the hour it runs at.
  void use_rulebook_with_calling_hours_now() {
    namespace fs = std::filesystem;
    std::string rulebook = read_file(fs::path(TP_SOURCE_DIR) / "config/rulebook.yaml");
    const std::string hours = "timezone: Europe/Berlin\n    from: \"08:00\"\n    to: \"20:00\"";
    ASSERT_NE(rulebook.find(hours), std::string::npos) << "config/rulebook.yaml changed its calling hours";
    const auto hour =
        std::chrono::duration_cast<std::chrono::hours>(std::chrono::system_clock::now().time_since_epoch()).count() %
        24;
    char window[64];
    std::snprintf(window, sizeof(window), "timezone: UTC\n    from: \"%02d:00\"\n    to: \"%02d:00\"",
                  static_cast<int>((hour + 22) % 24), static_cast<int>((hour + 3) % 24));
    rulebook.replace(rulebook.find(hours), hours.size(), window);
    write_file(root_ / "rulebook.yaml", rulebook);
    ASSERT_NO_FATAL_FAILURE(write_shipped_customer_setup());
    std::string config = read_file(root_ / "touchpoint.yaml");
    const std::string shipped = std::string(TP_SOURCE_DIR) + "/config/rulebook.yaml";
    ASSERT_NE(config.find(shipped), std::string::npos);
    config.replace(config.find(shipped), shipped.size(), (root_ / "rulebook.yaml").string());
    write_file(root_ / "touchpoint.yaml", config);
  }

  /// The Standard Webhooks signature `v1,<base64 HMAC-SHA256("{id}.{ts}.{body}")>`.
  static std::string sign(const std::string& secret, const std::string& id, const std::string& ts,
                          const std::string& body) {
    const std::string signed_text = id + "." + ts + "." + body;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), mac, &mac_len);
    std::string out(4 * ((mac_len + 2) / 3), '\0');
    const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(mac_len));
    out.resize(static_cast<size_t>(len));
    return "v1," + out;
  }

  /// pipelines/calls.yaml's shape for the tests: the callcenter plugin's signed
  /// webhook on an ephemeral port (secret kCallSecret) and call lists as JSON
  /// lines in `calls_dir`.
  void write_calls_pipeline(const std::filesystem::path& calls_dir) {
    write_file(root_ / "callcenter.secret", kCallSecret);
    write_pipeline_file("calls.yaml",
                        "name: calls\n"
                        "source:\n"
                        "  plugin: callcenter\n"
                        "  config:\n"
                        "    webhook: { listen: \"127.0.0.1:0\", secret: \"${file:" +
                            (root_ / "callcenter.secret").string() +
                            "}\" }\n"
                            "store: true\n"
                            "sinks:\n"
                            "  - name: call-lists\n"
                            "    plugin: callcenter\n"
                            "    channel: phone\n"
                            "    config:\n"
                            "      target: { dir: " +
                            calls_dir.string() + ", format: jsonl }\n");
  }

  /// Dispositions to the callcenter plugin's signed webhook on `port`.
  static HttpResponse post_signed_dispositions(int port, const json& body, const std::string& id,
                                               const std::string& secret = kCallSecret) {
    const std::string text = body.dump();
    const std::string ts = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    return http_request("POST", "http://127.0.0.1:" + std::to_string(port) + "/dispositions", text,
                        {"Content-Type: application/json", "webhook-id: " + id, "webhook-timestamp: " + ts,
                         "webhook-signature: " + sign(secret, id, ts, text)});
  }

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
