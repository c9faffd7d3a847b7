// The jsonl connector's configuration: the pipeline's `config:` block, which
// the hub hands to open() and validate() as one JSON object.
#ifndef JSONL_CONFIG_HPP
#define JSONL_CONFIG_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace jsonl {

struct Config {
  std::string path;                ///< source: the file to tail; sink: the file to append to
  std::string type = "event";      ///< source: record type of plain-object lines
  std::string id_field = "id";     ///< source: member of a plain object that becomes the record id
  std::string key_field;           ///< source: member that becomes the record key ("" = none)
  std::size_t batch_lines = 1000;  ///< source: most lines per emitted unit
  bool fsync = true;               ///< sink: fsync the file before write() reports success
};

/// Parses and checks `json`. Throws touchpoint::ConfigError naming the offending key.
/// No side effects: `touchpoint validate` calls this without opening an instance.
Config parse_config(std::string_view json);

}  // namespace jsonl

#endif  // JSONL_CONFIG_HPP
