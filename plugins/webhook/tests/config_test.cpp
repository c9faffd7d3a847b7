#include <gtest/gtest.h>
#include <touchpoint/abi.h>

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
    EXPECT_EQ(c.header_timeout_seconds, 10u);
    EXPECT_EQ(c.idle_timeout_seconds, 60u);
    EXPECT_EQ(c.max_connections, 1024u);
    EXPECT_EQ(c.max_inflight_bytes, 256u * 1024 * 1024);
    EXPECT_EQ(c.replay_cache_size, 100000u);
  }
}

TEST(WebhookConfig, AllKeys) {
  Config c = parse_config(R"({"listen":"0.0.0.0:0","path":"/hooks/a","max_body_bytes":1024,
      "secret":"whsec_c2VjcmV0","tolerance_seconds":60,"type":"profile","id_field":"uid","key_field":"email",
      "threads":"4","max_records_per_request":10,"port_file":"/tmp/p","read_timeout_seconds":5,
      "header_timeout_seconds":3,"idle_timeout_seconds":"7","max_connections":9,"max_inflight_bytes":2048,
      "replay_cache_size":0})");
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
  EXPECT_EQ(c.header_timeout_seconds, 3u);
  EXPECT_EQ(c.idle_timeout_seconds, 7u);
  EXPECT_EQ(c.max_connections, 9u);
  EXPECT_EQ(c.max_inflight_bytes, 2048u);
  EXPECT_EQ(c.replay_cache_size, 0u) << "0 disables replay protection";
}

TEST(WebhookConfig, BodyLimitIsBoundByTheHostsUnitLimit) {
  EXPECT_EQ(parse_config(R"({"max_body_bytes":67108864})").max_body_bytes, uint64_t{TP_MAX_UNIT_BYTES});
  const std::string e = error_of(R"({"max_body_bytes":67108865})");
  EXPECT_NE(e.find("'max_body_bytes'"), std::string::npos) << e;
  EXPECT_NE(e.find("67108864"), std::string::npos) << e;
  EXPECT_NE(e.find("TP_MAX_UNIT_BYTES"), std::string::npos) << e;
  EXPECT_NE(error_of(R"({"max_body_bytes":1073741824})").find("'max_body_bytes'"), std::string::npos);
}

TEST(WebhookConfig, TypeMustBeOneTheHostAccepts) {
  EXPECT_EQ(parse_config(R"({"type":"crm.contact_v2-x"})").type, "crm.contact_v2-x");
  for (const char* bad : {R"({"type":"Profile"})", R"({"type":"a b"})", R"({"type":"café"})",
                          R"({"type":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})"}) {
    const std::string e = error_of(bad);
    EXPECT_NE(e.find("'type'"), std::string::npos) << bad << ": " << e;
  }
}

TEST(WebhookConfig, InflightBudgetMustHoldOneBody) {
  EXPECT_EQ(parse_config(R"({"max_body_bytes":1000,"max_inflight_bytes":1000})").max_inflight_bytes, 1000u);
  const std::string e = error_of(R"({"max_body_bytes":1000,"max_inflight_bytes":999})");
  EXPECT_NE(e.find("'max_inflight_bytes'"), std::string::npos) << e;
  EXPECT_NE(e.find("max_body_bytes (1000)"), std::string::npos) << e;
  EXPECT_NE(error_of(R"({"max_inflight_bytes":1000})").find("'max_inflight_bytes'"), std::string::npos)
      << "the default max_body_bytes (10 MiB) does not fit";
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
  EXPECT_NE(error_of(R"({"header_timeout_seconds":0})").find("'header_timeout_seconds'"), std::string::npos);
  EXPECT_NE(error_of(R"({"idle_timeout_seconds":0})").find("'idle_timeout_seconds'"), std::string::npos);
  EXPECT_NE(error_of(R"({"max_connections":0})").find("'max_connections'"), std::string::npos);
  EXPECT_NE(error_of(R"({"replay_cache_size":-1})").find("'replay_cache_size'"), std::string::npos);
}

TEST(WebhookConfig, MustBeAnObject) {
  EXPECT_NE(error_of("[]").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(error_of("{").find("invalid JSON"), std::string::npos);
}

}  // namespace
}  // namespace touchpoint::webhook
