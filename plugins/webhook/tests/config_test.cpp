#include <gtest/gtest.h>

#include <touchpoint/plugin.hpp>

#include "webhook_config.hpp"

namespace touchpoint::webhook {
namespace {

std::string error_of(std::string_view json) {
  try {
    parse_config(json);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.status(), TP_STATUS_INVALID_CONFIG);
    return e.what();
  }
  return "";
}

TEST(WebhookConfig, Defaults) {
  for (const char* json : {"{}", "", "  "}) {
    Config c = parse_config(json);
    EXPECT_EQ(c.host, "127.0.0.1");
    EXPECT_EQ(c.port, 8080);
    EXPECT_EQ(c.path, "/ingest");
    EXPECT_EQ(c.max_body_bytes, 10u * 1024 * 1024);
    EXPECT_EQ(c.secret, "");
    EXPECT_EQ(c.tolerance_seconds, 300);
    EXPECT_EQ(c.type, "event");
    EXPECT_EQ(c.id_field, "id");
    EXPECT_EQ(c.key_field, "");
    EXPECT_EQ(c.threads, 2u);
    EXPECT_EQ(c.max_records_per_request, 100000u);
    EXPECT_EQ(c.port_file, "");
    EXPECT_EQ(c.read_timeout_seconds, 30u);
  }
}

TEST(WebhookConfig, AllKeys) {
  Config c = parse_config(R"({"listen":"0.0.0.0:0","path":"/hooks/a","max_body_bytes":1024,
      "secret":"whsec_c2VjcmV0","tolerance_seconds":60,"type":"profile","id_field":"uid","key_field":"email",
      "threads":"4","max_records_per_request":10,"port_file":"/tmp/p","read_timeout_seconds":5})");
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.path, "/hooks/a");
  EXPECT_EQ(c.max_body_bytes, 1024u);
  EXPECT_EQ(c.secret, "whsec_c2VjcmV0");
  EXPECT_EQ(c.tolerance_seconds, 60);
  EXPECT_EQ(c.type, "profile");
  EXPECT_EQ(c.id_field, "uid");
  EXPECT_EQ(c.key_field, "email");
  EXPECT_EQ(c.threads, 4u) << "integers may be given as strings (${env:...})";
  EXPECT_EQ(c.max_records_per_request, 10u);
  EXPECT_EQ(c.port_file, "/tmp/p");
  EXPECT_EQ(c.read_timeout_seconds, 5u);
}

TEST(WebhookConfig, NullKeepsTheDefault) {
  Config c = parse_config(R"({"path":null,"threads":null})");
  EXPECT_EQ(c.path, "/ingest");
  EXPECT_EQ(c.threads, 2u);
}

TEST(WebhookConfig, ListenForms) {
  Config c = parse_config(R"({"listen":"[::1]:9000"})");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 9000);
  c = parse_config(R"({"listen":"localhost:81"})");
  EXPECT_EQ(c.host, "127.0.0.1");
  for (const char* bad : {R"({"listen":"127.0.0.1"})", R"({"listen":"127.0.0.1:65536"})", R"({"listen":":80"})",
                          R"({"listen":"example.com:80"})", R"({"listen":"127.0.0.1:x"})", R"({"listen":8080})"})
    EXPECT_NE(error_of(bad).find("'listen'"), std::string::npos) << bad;
}

TEST(WebhookConfig, ErrorsNameTheKey) {
  EXPECT_EQ(error_of(R"({"bogus":1})"), "webhook config: unknown key 'bogus'");
  EXPECT_NE(error_of(R"({"path":"ingest"})").find("'path'"), std::string::npos);
  EXPECT_NE(error_of(R"({"path":"/a?b"})").find("'path'"), std::string::npos);
  EXPECT_NE(error_of(R"({"max_body_bytes":0})").find("'max_body_bytes'"), std::string::npos);
  EXPECT_NE(error_of(R"({"max_body_bytes":-1})").find("'max_body_bytes'"), std::string::npos);
  EXPECT_NE(error_of(R"({"max_body_bytes":1.5})").find("'max_body_bytes'"), std::string::npos);
  EXPECT_NE(error_of(R"({"secret":""})").find("'secret'"), std::string::npos);
  EXPECT_NE(error_of(R"({"secret":"whsec_***"})").find("'secret'"), std::string::npos);
  EXPECT_NE(error_of(R"({"secret":"whsec_"})").find("'secret'"), std::string::npos);
  EXPECT_NE(error_of(R"({"tolerance_seconds":"soon"})").find("'tolerance_seconds'"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":""})").find("'type'"), std::string::npos);
  EXPECT_NE(error_of(R"({"id_field":1})").find("'id_field'"), std::string::npos);
  EXPECT_NE(error_of(R"({"key_field":true})").find("'key_field'"), std::string::npos);
  EXPECT_NE(error_of(R"({"threads":0})").find("'threads'"), std::string::npos);
  EXPECT_NE(error_of(R"({"threads":65})").find("'threads'"), std::string::npos);
  EXPECT_NE(error_of(R"({"max_records_per_request":0})").find("'max_records_per_request'"), std::string::npos);
  EXPECT_NE(error_of(R"({"port_file":""})").find("'port_file'"), std::string::npos);
  EXPECT_NE(error_of(R"({"read_timeout_seconds":0})").find("'read_timeout_seconds'"), std::string::npos);
}

TEST(WebhookConfig, MustBeAnObject) {
  EXPECT_NE(error_of("[]").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(error_of("{").find("invalid JSON"), std::string::npos);
}

}  // namespace
}  // namespace touchpoint::webhook
