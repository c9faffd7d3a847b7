#include "webhook_config.hpp"

#include <simdjson.h>
#include <touchpoint/abi.h>

#include <charconv>
#include <stdexcept>
#include <touchpoint/plugin.hpp>

#include "segment_parser.hpp"
#include "tp_common/body_parser.hpp"
#include "tp_common/listen_address.hpp"
#include "tp_common/signature.hpp"

namespace touchpoint::webhook {

namespace {

// One request is one unit: a body may not be larger than the host accepts.
constexpr uint64_t kMaxBodyLimit = TP_MAX_UNIT_BYTES;
constexpr uint64_t kMaxThreads = 64;
constexpr uint64_t kMaxInflightLimit = 1ull << 40;  // 1 TiB

[[noreturn]] void fail(std::string_view key, std::string_view what) {
  throw ConfigError("webhook config: '" + std::string(key) + "' " + std::string(what));
}

std::string get_string(std::string_view key, simdjson::dom::element value) {
  std::string_view s;
  if (value.get_string().get(s) != simdjson::SUCCESS) fail(key, "must be a string");
  return std::string(s);
}

// Integers may arrive as JSON numbers or, after ${env:...} substitution, as
// strings of digits.
uint64_t get_uint(std::string_view key, simdjson::dom::element value, uint64_t min, uint64_t max,
                  std::string_view max_note = {}) {
  uint64_t n = 0;
  std::string_view s;
  if (value.is_uint64()) {
    n = value.get_uint64().value_unsafe();
  } else if (value.get_string().get(s) == simdjson::SUCCESS && !s.empty()) {
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || ptr != s.data() + s.size()) fail(key, "must be a non-negative integer");
  } else {
    fail(key, "must be a non-negative integer");
  }
  if (n < min || n > max)
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + std::string(max_note));
  return n;
}

void parse_listen(Config& c) {
  std::string error;
  std::optional<tp_common::ListenAddress> a = tp_common::parse_listen_address(c.listen, error);
  if (!a) fail("listen", error);
  c.host = std::move(a->host);
  c.port = a->port;
}

// The characters the store accepts in an event_type.
bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
          c == '.' || c == ':'))
      return false;
  return true;
}

// The keys that only mean something for one protocol, with the protocol's name.
void check_protocol_keys(const Config& c, bool has_segment_key, std::string_view segment_key, bool has_webhook_key,
                         std::string_view webhook_key) {
  if (c.protocol == Protocol::webhook && has_segment_key)
    fail(segment_key, "belongs to protocol: segment (this instance speaks protocol: webhook)");
  if (c.protocol == Protocol::segment && has_webhook_key)
    fail(webhook_key,
         "belongs to protocol: webhook; a Segment source authenticates by write_keys and takes id, type and key from "
         "each message");
  if (c.protocol == Protocol::segment && c.write_keys.empty())
    fail("write_keys", "must list at least one write key for protocol: segment (use ${file:...} or ${env:...})");
}

}  // namespace

std::vector<std::string> Config::paths() const {
  if (protocol == Protocol::webhook) return {path};
  std::string base = path;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::vector<std::string> out;
  for (std::string_view endpoint : kSegmentEndpoints) out.push_back(base + "/" + std::string(endpoint));
  return out;
}

bool is_cors_origin(std::string_view s) {
  if (s == "*") return true;
  size_t host = 0;
  if (s.rfind("https://", 0) == 0)
    host = 8;
  else if (s.rfind("http://", 0) == 0)
    host = 7;
  else
    return false;
  if (s.size() <= host || s.size() > 256) return false;
  for (size_t i = host; i < s.size(); ++i) {
    const char ch = s[i];
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == ':' ||
                    ch == '[' || ch == ']';
    if (!ok) return false;  // upper case, a path, a query, spaces: browsers send none of them
  }
  return true;
}

Config parse_config(std::string_view json) {
  Config c;
  size_t first = json.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return c;

  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::object root;
  simdjson::error_code err = parser.parse(padded).get(root);
  if (err == simdjson::INCORRECT_TYPE) throw ConfigError("webhook config: must be a JSON object");
  if (err != simdjson::SUCCESS)
    throw ConfigError(std::string("webhook config: invalid JSON: ") + simdjson::error_message(err));

  bool has_path = false, has_max_body = false;
  std::string_view segment_key, webhook_key;  // one key given that belongs to either protocol
  for (auto field : root) {
    std::string_view key = field.key;
    simdjson::dom::element v = field.value;
    if (v.is_null()) continue;  // an explicit null keeps the default
    if (key == "write_keys" || key == "event_types" || key == "anonymous_id_system" || key == "max_message_bytes")
      segment_key = key;
    if (key == "secret" || key == "type" || key == "id_field" || key == "key_field" || key == "replay_cache_size" ||
        key == "tolerance_seconds")
      webhook_key = key;
    if (key == "protocol") {
      const std::string p = get_string(key, v);
      if (p == "webhook") {
        c.protocol = Protocol::webhook;
      } else if (p == "segment") {
        c.protocol = Protocol::segment;
      } else {
        fail(key, "must be webhook or segment, not '" + p.substr(0, 64) + "'");
      }
    } else if (key == "write_keys") {
      simdjson::dom::array keys;
      if (v.get_array().get(keys) != simdjson::SUCCESS) fail(key, "must be a list of strings");
      for (simdjson::dom::element k : keys) {
        std::string s = get_string(key, k);
        if (s.empty() || s.size() > 1024) fail(key, "holds an empty write key or one longer than 1024 bytes");
        c.write_keys.push_back(std::move(s));
      }
    } else if (key == "event_types") {
      simdjson::dom::object map;
      if (v.get_object().get(map) != simdjson::SUCCESS)
        fail(key, "must map event names to event types, e.g. {\"Order Completed\": purchase}");
      for (auto entry : map) {
        std::string type = get_string(key, entry.value);
        if (!is_name(type))
          fail(key, "maps '" + std::string(entry.key.substr(0, 64)) +
                        "' to an event type that is not 1-256 letters, digits, '_', '-', '.', ':'");
        c.event_types[std::string(entry.key)] = std::move(type);
      }
    } else if (key == "anonymous_id_system") {
      c.anonymous_id_system = get_string(key, v);
      if (!is_valid_record_type(c.anonymous_id_system))
        fail(key, "must be 1-64 bytes of a-z, 0-9, '_', '.', '-' (it names the identity kind ext:<system>)");
    } else if (key == "max_message_bytes") {
      c.max_message_bytes = get_uint(key, v, 64, TP_MAX_RECORD_BYTES);
    } else if (key == "cors_origins") {
      simdjson::dom::array origins;
      if (v.get_array().get(origins) != simdjson::SUCCESS) fail(key, "must be a list of origins");
      for (simdjson::dom::element o : origins) {
        std::string s = get_string(key, o);
        if (!is_cors_origin(s))
          fail(key, "holds '" + s.substr(0, 64) +
                        "', which is not \"*\" or an origin (http:// or https://, a host, an optional port, no path)");
        c.cors_origins.push_back(std::move(s));
      }
      if (c.cors_origins.size() > 1000) fail(key, "lists more than 1000 origins");
    } else if (key == "listen") {
      c.listen = get_string(key, v);
      parse_listen(c);
    } else if (key == "path") {
      has_path = true;
      c.path = get_string(key, v);
      if (c.path.empty() || c.path.front() != '/') fail(key, "must start with '/'");
      if (c.path.find_first_of("?# \t\r\n") != std::string::npos) fail(key, "must not contain '?', '#' or whitespace");
    } else if (key == "max_body_bytes") {
      has_max_body = true;
      c.max_body_bytes = get_uint(key, v, 1, kMaxBodyLimit, " (TP_MAX_UNIT_BYTES, the host's limit for one unit)");
    } else if (key == "secret") {
      c.secret = get_string(key, v);
      try {
        (void)tp_common::decode_secret(c.secret);
      } catch (const std::invalid_argument& e) {
        fail(key, std::string("is invalid: ") + e.what());
      }
    } else if (key == "tolerance_seconds") {
      c.tolerance_seconds = static_cast<int64_t>(get_uint(key, v, 1, 7u * 24u * 3600u));
    } else if (key == "type") {
      c.type = get_string(key, v);
      if (c.type.empty()) fail(key, "must not be empty");
      if (!is_valid_record_type(c.type))
        fail(key, "must be at most " + std::to_string(TP_MAX_TYPE_BYTES) + " bytes of a-z, 0-9, '_', '.', '-'");
    } else if (key == "id_field") {
      c.id_field = get_string(key, v);
    } else if (key == "key_field") {
      c.key_field = get_string(key, v);
    } else if (key == "threads") {
      c.threads = static_cast<unsigned>(get_uint(key, v, 1, kMaxThreads));
    } else if (key == "max_records_per_request") {
      c.max_records_per_request = get_uint(key, v, 1, 100'000'000);
    } else if (key == "port_file") {
      c.port_file = get_string(key, v);
      if (c.port_file.empty()) fail(key, "must not be empty");
    } else if (key == "read_timeout_seconds") {
      c.read_timeout_seconds = static_cast<unsigned>(get_uint(key, v, 1, 3600));
    } else if (key == "header_timeout_seconds") {
      c.header_timeout_seconds = static_cast<unsigned>(get_uint(key, v, 1, 3600));
    } else if (key == "idle_timeout_seconds") {
      c.idle_timeout_seconds = static_cast<unsigned>(get_uint(key, v, 1, 86400));
    } else if (key == "max_connections") {
      c.max_connections = get_uint(key, v, 1, 1'000'000);
    } else if (key == "max_inflight_bytes") {
      c.max_inflight_bytes = get_uint(key, v, 1, kMaxInflightLimit);
    } else if (key == "replay_cache_size") {
      c.replay_cache_size = get_uint(key, v, 0, 100'000'000);
    } else {
      throw ConfigError("webhook config: unknown key '" + std::string(key) + "'");
    }
  }
  check_protocol_keys(c, !segment_key.empty(), segment_key, !webhook_key.empty(), webhook_key);
  if (c.protocol == Protocol::segment) {
    // Segment's own defaults: its endpoints live under /v1, a batch is at most 500 KB.
    if (!has_path) c.path = "/v1";
    if (!has_max_body) c.max_body_bytes = 512u * 1024u;
  }
  // A chunked request reserves max_body_bytes of the budget, so a smaller
  // budget could never admit one.
  if (c.max_inflight_bytes < c.max_body_bytes)
    fail("max_inflight_bytes", "must be at least max_body_bytes (" + std::to_string(c.max_body_bytes) + ")");
  return c;
}

}  // namespace touchpoint::webhook
