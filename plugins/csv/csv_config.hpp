// The csv connector's configuration (the pipeline's `config:` block as JSON).
#ifndef TOUCHPOINT_CSV_CSV_CONFIG_HPP
#define TOUCHPOINT_CSV_CSV_CONFIG_HPP

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "limits.hpp"

namespace touchpoint::csv {

struct ColumnMapping {
  std::string column;             ///< header name in the file
  std::vector<std::string> path;  ///< field path in the record data, split at '.'
};

struct Config {
  std::filesystem::path inbox;
  std::filesystem::path done_dir;  ///< default: <inbox>/done
  std::string pattern = "*.csv";
  char delimiter = 0;  ///< ';', ',', '\t'; 0 means detect from the header line
  std::string encoding = "utf-8";
  bool header = true;
  std::vector<ColumnMapping> columns;
  bool only_mapped = false;
  std::string type = "profile";  ///< at most TP_MAX_TYPE_BYTES of a-z, 0-9, '_', '-', '.'

  std::string key_column;  ///< empty: records have no key
  std::string id_column;   ///< empty: deterministic ids
  size_t batch_rows = 1000;
  int64_t settle_ms = 1000;
  bool trim = true;
  size_t max_row_bytes = kDefaultMaxRowBytes;  ///< kMinRowBytes to kMaxRowBytesLimit
};

/// Parses and validates `json`. Throws touchpoint::ConfigError naming the offending key.
/// Has no side effects (directories are not created here).
Config parse_config(std::string_view json);

/// Splits a dotted field path ("address.city"); empty segments make it invalid (empty result).
std::vector<std::string> split_path(std::string_view path);

}  // namespace touchpoint::csv

#endif  // TOUCHPOINT_CSV_CSV_CONFIG_HPP
