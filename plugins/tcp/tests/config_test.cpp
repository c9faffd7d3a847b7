#include <gtest/gtest.h>

#include <touchpoint/plugin.hpp>

#include "tcp_config.hpp"

namespace touchpoint::tcp {
namespace {

std::string error_of(std::string_view json) {
  try {
    (void)parse_config(json);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(TcpConfig, DefaultsListenOnLoopback) {
  const Config c = parse_config("");
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 5170);
  EXPECT_EQ(c.type, "event");
  EXPECT_EQ(c.id_field, "id");
  EXPECT_TRUE(c.ack);
}

TEST(TcpConfig, EverySettingIsRead) {
  const Config c = parse_config(R"({"listen":"[::1]:0","port_file":"/tmp/p","type":"profile","id_field":"uid",
    "key_field":"email","max_line_bytes":"4096","read_buffer_bytes":65536,"max_units_in_flight":2,
    "max_connections":3,"threads":2,"ack":false,"idle_timeout_ms":1500})");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.type, "profile");
  EXPECT_EQ(c.key_field, "email");
  EXPECT_EQ(c.max_line_bytes, 4096u) << "a string of digits, as ${env:...} gives";
  EXPECT_EQ(c.read_buffer_bytes, 65536u);
  EXPECT_EQ(c.max_units_in_flight, 2u);
  EXPECT_EQ(c.max_connections, 3u);
  EXPECT_EQ(c.threads, 2u);
  EXPECT_FALSE(c.ack);
  EXPECT_EQ(c.idle_timeout_ms, 1500u);
}

TEST(TcpConfig, MistakesNameTheKey) {
  EXPECT_NE(error_of(R"({"listen":"example.com:80"})").find("'listen' must use an IPv4 or IPv6"), std::string::npos);
  EXPECT_NE(error_of(R"({"listen":"127.0.0.1:99999"})").find("'listen' has an invalid port"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":"Not Valid"})").find("'type'"), std::string::npos);
  EXPECT_NE(error_of(R"({"max_line_bytes":99999999999})").find("'max_line_bytes' must be between 64 and"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"max_line_bytes":-1})").find("'max_line_bytes' must be a non-negative integer"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"threads":0})").find("'threads'"), std::string::npos);
  EXPECT_NE(error_of(R"({"idle_timeout_ms":86400001})").find("'idle_timeout_ms' must be between 0 and"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"ack":"yes"})").find("'ack' must be true or false"), std::string::npos);
  EXPECT_NE(error_of(R"({"lisen":"127.0.0.1:1"})").find("'lisen' is not a setting"), std::string::npos);
  EXPECT_NE(error_of("[1]").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(error_of("{\"listen\":").find("must be a JSON object"), std::string::npos);
}

}  // namespace
}  // namespace touchpoint::tcp
