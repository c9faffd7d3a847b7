#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <touchpoint/plugin.hpp>

#include "email_config.hpp"
#include "test_support.hpp"

namespace tp_email {
namespace {

using nlohmann::json;
using test::TempDir;

class Config : public ::testing::Test {
 protected:
  json base() const { return json::parse(test::sink_config(dir_.path(), 2525)); }
  // The ConfigError message for `j`, "" when it parses.
  std::string error(const json& j) const {
    try {
      (void)parse_email_config(j.dump());
      return {};
    } catch (const touchpoint::ConfigError& e) {
      return e.what();
    }
  }
  TempDir dir_;
};

TEST_F(Config, ParsesTheFullSinkConfig) {
  json j = base();
  j["smtp"]["username"] = "u";
  j["smtp"]["password"] = "p";
  j["smtp"]["helo"] = "hub.bank.example";
  j["rate_per_second"] = 12.5;
  const EmailConfig c = parse_email_config(j.dump());
  EXPECT_TRUE(c.has_sink);
  EXPECT_EQ(c.smtp.host, "127.0.0.1");
  EXPECT_EQ(c.smtp.port, 2525);
  EXPECT_EQ(c.smtp.tls, TlsMode::none);
  EXPECT_EQ(c.smtp.timeout_ms, 5000);
  EXPECT_EQ(c.smtp.helo, "hub.bank.example");
  EXPECT_EQ(c.from.name, "Bank");
  EXPECT_EQ(c.from.address, "news@bank.example");
  EXPECT_EQ(c.return_path, "bounces@bank.example");
  EXPECT_EQ(c.message_id_domain, "mail.bank.example");
  EXPECT_EQ(c.unsubscribe.url_base, "https://bank.example/u");
  EXPECT_EQ(c.unsubscribe.mailto, "unsubscribe@bank.example");
  EXPECT_DOUBLE_EQ(c.rate_per_second, 12.5);
  EXPECT_FALSE(c.intake_json.has_value());
}

TEST_F(Config, Defaults) {
  json j = base();
  j["smtp"].erase("tls");
  j["smtp"].erase("port");
  j["smtp"].erase("timeout_ms");
  j.erase("message_id_domain");
  const EmailConfig c = parse_email_config(j.dump());
  EXPECT_EQ(c.smtp.port, 587);
  EXPECT_EQ(c.smtp.tls, TlsMode::starttls);
  EXPECT_EQ(c.smtp.timeout_ms, 30000);
  EXPECT_EQ(c.smtp.connections, 1);
  EXPECT_FALSE(c.smtp.helo.empty());
  EXPECT_TRUE(c.smtp.tls_verify);
  EXPECT_EQ(c.message_id_domain, "bank.example") << "the From domain";
  EXPECT_EQ(c.rate_per_second, 0);
}

TEST_F(Config, FromAsAnObjectWithAUtf8Name) {
  json j = base();
  j["from"] = {{"name", "Bank Müller & Söhne"}, {"address", "news@bank.example"}};
  EXPECT_EQ(parse_email_config(j.dump()).from.name, "Bank Müller & Söhne");
}

TEST_F(Config, UnknownKeysAreNamed) {
  json j = base();
  j["smtp"]["hots"] = "x";
  EXPECT_NE(error(j).find("'smtp.hots' is not a known key"), std::string::npos) << error(j);
  j = base();
  j["unsubscribe"]["url"] = "x";
  EXPECT_NE(error(j).find("'unsubscribe.url'"), std::string::npos);
  j = base();
  j["retrun_path"] = "x";
  EXPECT_NE(error(j).find("'retrun_path'"), std::string::npos);
}

TEST_F(Config, WrongTypesAndValuesAreNamed) {
  const std::vector<std::pair<std::function<void(json&)>, std::string>> cases = {
      {[](json& j) { j["smtp"]["port"] = "25"; }, "'smtp.port' must be an integer"},
      {[](json& j) { j["smtp"]["port"] = 70000; }, "'smtp.port' must be between"},
      {[](json& j) { j["smtp"]["tls"] = "yes"; }, "'smtp.tls' must be one of"},
      {[](json& j) { j["smtp"]["timeout_ms"] = 1.5; }, "'smtp.timeout_ms' must be an integer"},
      {[](json& j) { j["smtp"]["connections"] = 0; }, "'smtp.connections' must be between"},
      {[](json& j) { j["smtp"]["connections"] = 17; }, "'smtp.connections' must be between"},
      {[](json& j) { j["smtp"]["username"] = "u"; }, "'smtp.password' is required"},
      {[](json& j) { j["smtp"]["host"] = "a b"; }, "'smtp.host'"},
      {[](json& j) { j["smtp"]["helo"] = "x\r\nMAIL FROM:<a@b>"; }, "'smtp.helo'"},
      {[](json& j) { j["smtp"]["ca_file"] = "/nonexistent/ca.pem"; }, "'smtp.ca_file'"},
      {[](json& j) { j["smtp"]["tls_verify"] = "no"; }, "'smtp.tls_verify' must be true or false"},
      {[](json& j) { j["smtp"] = "localhost"; }, "'smtp' must be an object"},
      {[](json& j) { j.erase("from"); }, "'from' is required"},
      {[](json& j) { j["from"] = "not an address"; }, "'from'"},
      {[](json& j) { j["from"] = "A <a@b.example>, B <b@b.example>"; }, "'from' must be one address"},
      {[](json& j) { j["from"] = "Bank\r\nBcc: x@y <news@bank.example>"; }, "'from' must not contain control"},
      {[](json& j) { j["from"] = 5; }, "'from' must be a string"},
      {[](json& j) { j["return_path"] = "bounces"; }, "'return_path' is not a plain e-mail address"},
      {[](json& j) { j.erase("return_path"); }, "'return_path' is required"},
      {[](json& j) { j["message_id_domain"] = "a b"; }, "'message_id_domain'"},
      {[](json& j) { j["templates"] = "/nonexistent/templates"; }, "'templates' is not a readable directory"},
      {[](json& j) { j.erase("templates"); }, "'templates' is required"},
      {[](json& j) { j.erase("unsubscribe"); }, "'unsubscribe' is required"},
      {[](json& j) { j["unsubscribe"]["secret"] = "short"; }, "'unsubscribe.secret' must be at least 16"},
      {[](json& j) { j["unsubscribe"]["url_base"] = "ftp://x"; }, "'unsubscribe.url_base' must be an http"},
      {[](json& j) { j["unsubscribe"]["url_base"] = "https://x/<script>"; }, "'unsubscribe.url_base' must not"},
      {[](json& j) { j["unsubscribe"]["mailto"] = "x"; }, "'unsubscribe.mailto'"},
      {[](json& j) { j["rate_per_second"] = -1; }, "'rate_per_second' must be between"},
      {[](json& j) { j["rate_per_second"] = "fast"; }, "'rate_per_second' must be a number"},
      {[](json& j) { j["max_message_bytes"] = 10; }, "'max_message_bytes' must be between"},
      {[](json& j) { j["intake"] = "maildir"; }, "'intake' must be an object"},
  };
  for (const auto& [mutate, expected] : cases) {
    json j = base();
    mutate(j);
    const std::string e = error(j);
    EXPECT_NE(e.find(expected), std::string::npos) << "expected: " << expected << "\n got: " << e;
  }
}

TEST_F(Config, NotJsonOrNotAnObject) {
  for (const std::string& bad : std::vector<std::string>{"{", "[]", "42", "\"x\"", std::string("{\"smtp\":\0}", 10)}) {
    try {
      (void)parse_email_config(bad);
      ADD_FAILURE() << bad;
    } catch (const touchpoint::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("email config:"), std::string::npos);
    }
  }
}

TEST_F(Config, IntakeOnlyConfigHasNoSink) {
  const EmailConfig c = parse_email_config(R"({"intake":{"maildir":"/var/mail/bounces"}})");
  EXPECT_FALSE(c.has_sink);
  ASSERT_TRUE(c.intake_json.has_value());
  EXPECT_EQ(json::parse(*c.intake_json)["maildir"], "/var/mail/bounces");
  EXPECT_NE(error(json::parse(R"({"intake":{},"from":"a@b.example"})")).find("'from' needs 'smtp'"), std::string::npos);
  EXPECT_NE(error(json::object()).find("needs 'smtp'"), std::string::npos);
}

}  // namespace
}  // namespace tp_email
