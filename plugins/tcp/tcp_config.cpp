#include "tcp_config.hpp"

#include <touchpoint/abi.h>

#include <nlohmann/json.hpp>
#include <touchpoint/plugin.hpp>

#include "tp_common/body_parser.hpp"
#include "tp_common/listen_address.hpp"

namespace touchpoint::tcp {

namespace {

using Json = nlohmann::json;

[[noreturn]] void fail(std::string_view key, std::string_view what) {
  throw ConfigError("tcp config: '" + std::string(key) + "' " + std::string(what));
}

std::string get_string(std::string_view key, const Json& v) {
  if (!v.is_string()) fail(key, "must be a string");
  return v.get<std::string>();
}

// Integers may arrive as numbers or, after ${env:...} substitution, as strings of digits.
uint64_t get_uint(std::string_view key, const Json& v, uint64_t min, uint64_t max) {
  uint64_t n = 0;
  if (v.is_number_unsigned()) {
    n = v.get<uint64_t>();
  } else if (v.is_string() && !v.get_ref<const std::string&>().empty() &&
             v.get_ref<const std::string&>().find_first_not_of("0123456789") == std::string::npos &&
             v.get_ref<const std::string&>().size() <= 19) {
    n = std::stoull(v.get<std::string>());
  } else {
    fail(key, "must be a non-negative integer");
  }
  if (n < min || n > max) fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  return n;
}

}  // namespace

Config parse_config(std::string_view json) {
  Config c;
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) json = "{}";
  const Json root = Json::parse(json, nullptr, false);
  if (root.is_discarded() || !root.is_object()) throw ConfigError("tcp config: must be a JSON object");
  for (const auto& [key, v] : root.items()) {
    if (key == "listen") {
      c.listen = get_string(key, v);
      std::string error;
      std::optional<tp_common::ListenAddress> a = tp_common::parse_listen_address(c.listen, error);
      if (!a) fail(key, error);
      c.host = a->host;
      c.port = a->port;
    } else if (key == "port_file") {
      c.port_file = get_string(key, v);
      if (c.port_file.empty()) fail(key, "must not be empty");
    } else if (key == "type") {
      c.type = get_string(key, v);
      if (!tp_common::is_valid_record_type(c.type)) fail(key, "must be 1-64 characters of a-z, 0-9, '_', '.', '-'");
    } else if (key == "id_field") {
      c.id_field = get_string(key, v);
    } else if (key == "key_field") {
      c.key_field = get_string(key, v);
    } else if (key == "max_line_bytes") {
      c.max_line_bytes = get_uint(key, v, 64, TP_MAX_RECORD_BYTES);
    } else if (key == "read_buffer_bytes") {
      c.read_buffer_bytes = get_uint(key, v, 4096, 16u * 1024u * 1024u);
    } else if (key == "max_units_in_flight") {
      c.max_units_in_flight = get_uint(key, v, 1, 1024);
    } else if (key == "max_connections") {
      c.max_connections = get_uint(key, v, 1, 100000);
    } else if (key == "idle_timeout_ms") {
      c.idle_timeout_ms = get_uint(key, v, 0, 86'400'000);
    } else if (key == "threads") {
      c.threads = static_cast<unsigned>(get_uint(key, v, 1, 64));
    } else if (key == "ack") {
      if (!v.is_boolean()) fail(key, "must be true or false");
      c.ack = v.get<bool>();
    } else {
      fail(key, "is not a setting of the tcp source (README.md lists them)");
    }
  }
  return c;
}

}  // namespace touchpoint::tcp
