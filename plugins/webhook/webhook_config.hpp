// The webhook connector's configuration: parsed and validated from the
// instance's JSON "config" block. Every error is a touchpoint::ConfigError
// whose message names the offending key.
#ifndef TOUCHPOINT_WEBHOOK_CONFIG_HPP
#define TOUCHPOINT_WEBHOOK_CONFIG_HPP

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace touchpoint::webhook {

/// What the requests on the path speak: the hub's own JSON/NDJSON with
/// Standard Webhooks signatures, or Segment's tracking API (README.md).
enum class Protocol { webhook, segment };

struct Config {
  Protocol protocol = Protocol::webhook;
  std::string listen = "127.0.0.1:8080";  ///< as configured
  std::string host = "127.0.0.1";         ///< IP literal to bind ("localhost" is mapped to 127.0.0.1)
  uint16_t port = 8080;                   ///< 0: ephemeral
  std::string path = "/ingest";
  uint64_t max_body_bytes = 10u * 1024u * 1024u;
  std::string secret;  ///< empty: signatures are not checked
  int64_t tolerance_seconds = 300;
  std::string type = "event";
  std::string id_field = "id";
  std::string key_field;
  unsigned threads = 2;
  uint64_t max_records_per_request = 100000;
  std::string port_file;
  unsigned read_timeout_seconds = 30;                  ///< total time for one request body (and for writing a response)
  unsigned header_timeout_seconds = 10;                ///< total time for one request header
  unsigned idle_timeout_seconds = 60;                  ///< keep-alive: time until the next request's first byte
  uint64_t max_connections = 1024;                     ///< open connections; more get 503
  uint64_t max_inflight_bytes = 256u * 1024u * 1024u;  ///< bodies being received or parsed, all connections
  uint64_t replay_cache_size = 100000;                 ///< webhook-ids remembered; 0 disables replay protection
  /// Browser origins allowed to post from a web page ("https://shop.example",
  /// or "*"): CORS preflights are answered and responses name the origin.
  std::vector<std::string> cors_origins;

  // protocol: segment
  std::vector<std::string> write_keys;  ///< accepted write keys (Basic auth user name or the body's writeKey)
  std::map<std::string, std::string, std::less<>> event_types;  ///< event name -> event_type
  std::string anonymous_id_system = "web_anonymous";            ///< anonymousId -> identity ext:<this>
  uint64_t max_message_bytes = 32u * 1024u;                     ///< one message (Segment's limit)

  /// The paths the instance serves: `path` itself, or for Segment one per
  /// endpoint under it ("/v1/identify", ..., "/v1/batch", "/v1/t").
  std::vector<std::string> paths() const;
};

/// "*" or a browser's Origin: http(s)://host[:port] in lower case, no path.
bool is_cors_origin(std::string_view s);

/// Parses and validates `json` (an object; empty input means all defaults).
/// Throws touchpoint::ConfigError. Has no side effects.
Config parse_config(std::string_view json);

}  // namespace touchpoint::webhook

#endif  // TOUCHPOINT_WEBHOOK_CONFIG_HPP
