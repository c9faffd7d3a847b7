// The plugin's configuration, parsed and validated strictly: unknown keys and
// wrong types are errors that name the key.
#ifndef TOUCHPOINT_CALLCENTER_CONFIG_HPP
#define TOUCHPOINT_CALLCENTER_CONFIG_HPP

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace touchpoint::callcenter {

enum class Encoding { utf8, latin1 };
enum class FileFormat { csv, jsonl };

/// target.dir: call lists as files.
struct DirTarget {
  std::string dir;
  FileFormat format = FileFormat::csv;
  std::string prefix = "calls";
  std::vector<std::string> columns;  ///< CSV columns, in order
  char delimiter = ',';
  bool header = true;
  Encoding encoding = Encoding::utf8;
};

/// target.http: call lists POSTed to a REST endpoint.
struct HttpTarget {
  std::string url;
  std::string auth_header;  ///< a complete "Name: value" header line, or empty
  long timeout_ms = 10000;
};

/// dispositions: outcome files dropped by the call center.
struct DispositionDir {
  std::string dir;
  std::string done_dir;              ///< default <dir>/done
  std::optional<FileFormat> format;  ///< nullopt: by extension (.csv, .jsonl, .ndjson)
  char delimiter = ',';
  Encoding encoding = Encoding::utf8;
  uint64_t max_file_bytes = 64ull * 1024 * 1024;
};

/// webhook: outcomes pushed over HTTP, Standard Webhooks signed.
struct Webhook {
  std::string host;  ///< IP address to bind
  uint16_t port = 0;
  std::string path = "/dispositions";
  std::string secret;
  int64_t tolerance_seconds = 300;
  uint64_t max_body_bytes = 1024 * 1024;
  size_t max_connections = 64;
  size_t replay_cache_size = 100000;
  int64_t timeout_seconds = 30;
};

struct Config {
  std::optional<DirTarget> dir_target;
  std::optional<HttpTarget> http_target;
  std::optional<DispositionDir> dispositions;
  std::optional<Webhook> webhook;
  std::map<std::string, std::string> outcome_map;  ///< provider code -> canonical outcome
};

/// The CSV columns a call list may have.
const std::vector<std::string>& known_columns();

/// Parses and validates; throws touchpoint::ConfigError naming the key.
Config parse_config(std::string_view json);

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_CONFIG_HPP
