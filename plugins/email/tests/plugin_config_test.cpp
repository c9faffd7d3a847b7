// The plugin through the harness: validate_config, open, the missing intake.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <touchpoint/testing.hpp>

#include "test_support.hpp"
#include "unsubscribe_token.hpp"

namespace tp_email::test {
namespace {

TEST(PluginConfig, NegotiatesAsSourceAndSink) {
  touchpoint::testing::Harness h(TP_EMAIL_PLUGIN);
  EXPECT_EQ(std::string(h.info().name.data, h.info().name.len), "email");
  EXPECT_EQ(h.info().capabilities, static_cast<uint64_t>(TP_CAP_SOURCE | TP_CAP_SINK));
}

TEST(PluginConfig, ValidateNamesTheKey) {
  touchpoint::testing::Harness h(TP_EMAIL_PLUGIN);
  TempDir t;
  std::string error;
  EXPECT_EQ(h.validate(sink_config(t.path(), 25), &error), TP_OK) << error;
  auto j = nlohmann::json::parse(sink_config(t.path(), 25));
  j["smtp"]["pasword"] = "x";
  EXPECT_EQ(h.validate(j.dump(), &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("'smtp.pasword' is not a known key"), std::string::npos) << error;
  j = nlohmann::json::parse(sink_config(t.path(), 25));
  j["default_template"] = "../x";
  EXPECT_EQ(h.validate(j.dump(), &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("'default_template'"), std::string::npos) << error;
}

#ifndef TP_EMAIL_WITH_INTAKE
TEST(PluginConfig, AnIntakeBlockWithoutTheIntakeLibraryIsAClearError) {
  touchpoint::testing::Harness h(TP_EMAIL_PLUGIN);
  std::string error;
  EXPECT_EQ(h.validate(R"({"intake":{"maildir":"/var/mail/bounces"}})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("'intake' is not available"), std::string::npos) << error;
  EXPECT_THROW(h.open(R"({"intake":{"maildir":"/var/mail/bounces"}})"), std::runtime_error);
}
#endif

#ifdef TP_EMAIL_WITH_INTAKE
/// POSTs `body` to url; the HTTP status (0: no answer).
long http_post(const std::string& url, const std::string& body) {
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(
      c, CURLOPT_WRITEFUNCTION, +[](char*, size_t n, size_t m, void*) { return n * m; });
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  return status;
}

TEST(PluginConfig, TheOneClickEndpointEmitsADurableUnsubscribeAndRefusesForgedTokens) {
  touchpoint::testing::Harness h(TP_EMAIL_PLUGIN);
  TempDir t;
  const std::string secret = "one-click-secret-0123456789";
  nlohmann::json config{
      {"intake", {{"maildir", (t.path() / "bounces").string()}}},
      {"unsubscribe", {{"url_base", "https://bank.example/u"}, {"secret", secret}, {"listen", "127.0.0.1:0"}}}};
  std::string error;
  ASSERT_EQ(h.validate(config.dump(), &error), TP_OK) << error;
  auto inst = h.open(config.dump());
  const auto port = static_cast<int>(h.counters().at("email_unsubscribe_port"));
  ASSERT_GT(port, 0);
  const std::string base = "http://127.0.0.1:" + std::to_string(port) + "/u/";
  const std::string contact = "c-0123456789abcdef01234567";
  const std::string token = sign_unsubscribe_token(secret, contact);
  EXPECT_EQ(http_post(base + token, "List-Unsubscribe=One-Click"), 200);
  ASSERT_EQ(h.records().size(), 1u);
  const nlohmann::json r = nlohmann::json::parse(h.records()[0].data);
  EXPECT_EQ(h.records()[0].type, "response");
  EXPECT_EQ(r["contact_id"], contact);
  EXPECT_EQ(r["kind"], "unsubscribe");
  EXPECT_EQ(r["channel"], "email");
  // A forged MAC, a token of another secret, and a truncated token: nothing emitted.
  std::string forged = token;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(http_post(base + forged, "List-Unsubscribe=One-Click"), 404);
  EXPECT_EQ(
      http_post(base + sign_unsubscribe_token("another-secret-0123456789", contact), "List-Unsubscribe=One-Click"),
      404);
  EXPECT_EQ(http_post(base + token.substr(0, 10), "List-Unsubscribe=One-Click"), 400);
  EXPECT_EQ(h.records().size(), 1u);
  // The hub refusing the unit: the endpoint says so instead of pretending.
  h.refuse_next_emits(1, TP_STATUS_BACKPRESSURE, "full");
  EXPECT_EQ(http_post(base + token, "List-Unsubscribe=One-Click"), 503);
  inst->close();
}

TEST(PluginConfig, TheOneClickEndpointNeedsTheIntake) {
  touchpoint::testing::Harness h(TP_EMAIL_PLUGIN);
  TempDir t;
  auto j = nlohmann::json::parse(sink_config(t.path(), 25));
  j["unsubscribe"]["listen"] = "127.0.0.1:0";
  std::string error;
  EXPECT_EQ(h.validate(j.dump(), &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("'unsubscribe.listen'"), std::string::npos) << error;
  j["unsubscribe"]["listen"] = "nowhere";
  j["intake"] = {{"maildir", t.path().string()}};
  EXPECT_EQ(h.validate(j.dump(), &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("ADDRESS:PORT"), std::string::npos) << error;
}
#endif

TEST(PluginConfig, OpenDoesNotConnectAndASinkCannotRead) {
  touchpoint::testing::Harness h(TP_EMAIL_PLUGIN);
  TempDir t;
  auto inst = h.open(sink_config(t.path(), 1));  // nothing listens on port 1: open still succeeds
  std::string error;
  EXPECT_EQ(inst->read(&error), TP_STATUS_UNSUPPORTED);
  std::string doc;
  EXPECT_EQ(inst->discover(&doc), TP_OK);
  EXPECT_EQ(doc, R"({"streams":[{"name":"message","direction":"sink"}]})");
}

}  // namespace
}  // namespace tp_email::test
