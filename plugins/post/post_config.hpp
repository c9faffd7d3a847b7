// The post plugin's configuration: the letter-shop export (sink) and the return files (source).
#ifndef TOUCHPOINT_POST_POST_CONFIG_HPP
#define TOUCHPOINT_POST_POST_CONFIG_HPP

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace touchpoint::post {

struct SftpConfig {
  std::string url;   ///< sftp://host[:port]/dir/ (always ends in '/')
  std::string host;  ///< scheme, host and port: "sftp://127.0.0.1:2222"
  std::string path;  ///< the directory part of url: "/upload/" (starts and ends with '/')
  std::string username;
  std::string private_key_file;
  std::string public_key_file;  ///< empty: derived from the private key
  std::string passphrase;
  std::string known_hosts;
  int64_t timeout_ms = 30000;
  int64_t max_send_bytes_per_s = 0;  ///< 0: unlimited
};

/// Where a batch goes or returns come from: a local directory or an SFTP directory.
struct Location {
  std::string dir;                 ///< set for a directory
  std::optional<SftpConfig> sftp;  ///< set for SFTP
};

struct Column {
  std::string name;   ///< the output column name (header text, JSON key)
  std::string field;  ///< what goes in it (see README "Fields")
};

enum class Format { csv, jsonl };
enum class Encoding { utf8, latin1 };

struct ExportConfig {
  Format format = Format::csv;
  std::string prefix = "letters";
  std::vector<Column> columns;
  char delimiter = ',';
  bool header = true;
  Encoding encoding = Encoding::utf8;
  std::string line_ending = "\r\n";
  bool fsync = true;
  Location target;
};

enum class ReturnField { contact_id, reason, new_street, new_zip, new_city, new_country, date };

struct ReturnsConfig {
  Location from;
  std::string pattern = "*.csv";
  char delimiter = ',';
  Encoding encoding = Encoding::utf8;
  std::map<std::string, ReturnField> columns;     ///< header text -> field; empty: header text = field name
  std::map<std::string, std::string> reason_map;  ///< the shop's code (case-folded) -> closed-list reason
  uint64_t max_file_bytes = 64u * 1024u * 1024u;
  uint64_t max_field_bytes = 64u * 1024u;
  size_t batch_rows = 500;
};

struct Config {
  std::optional<ExportConfig> exporter;  ///< present when "target" is configured
  std::optional<ReturnsConfig> returns;  ///< present when "returns" is configured
};

/// Parses and validates the plugin configuration (a JSON object). Throws touchpoint::ConfigError
/// naming the offending key. Touches no file.
Config parse_config(std::string_view json);

/// The closed list of reasons (docs/channels.md, kind letter_returned).
bool is_return_reason(std::string_view reason);

/// The field names a return file column can map to.
std::optional<ReturnField> return_field(std::string_view name);
std::string_view return_field_name(ReturnField f);

}  // namespace touchpoint::post

#endif  // TOUCHPOINT_POST_POST_CONFIG_HPP
