// Turns a row of decoded cell values into the record's data JSON.
#ifndef TOUCHPOINT_CSV_RECORD_BUILDER_HPP
#define TOUCHPOINT_CSV_RECORD_BUILDER_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "csv_config.hpp"

namespace touchpoint::csv {

/// Column names as used for mapping: trimmed header cells (or "1", "2", ... without a
/// header); an empty name becomes the 1-based column number, a repeated name gets "_2",
/// "_3", ... appended.
std::vector<std::string> normalize_header(std::vector<std::string> names);

/// "csv:" + hex FNV-1a-64(file name) + ":" + file size + ":" + line.
std::string deterministic_id(std::string_view file_name, uint64_t file_size, uint64_t line);
/// deterministic_id() without the line number (ends with ':').
std::string deterministic_id_prefix(std::string_view file_name, uint64_t file_size);

class RecordBuilder {
 public:
  /// `names` are normalized column names. Problems that do not stop the import (mapped
  /// columns absent from the header, unmapped columns clashing with a mapped path) are
  /// appended to `warnings`.
  RecordBuilder(const std::vector<std::string>& names, const Config& config, std::vector<std::string>& warnings);

  size_t column_count() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }
  /// Index of key_column / id_column, -1 when not configured or not in the header.
  int key_index() const { return key_index_; }
  int id_index() const { return id_index_; }

  /// Appends the data object for `values` (UTF-8, one per column) to `out`. Empty values
  /// are omitted, and so are objects that end up empty.
  void build(const std::vector<std::string>& values, std::string& out) const;

 private:
  struct Node {
    std::string key;
    std::string key_json;  // "\"key\":"
    int column = -1;       // leaf: column index; object: -1
    std::vector<Node> children;
  };
  bool write_object(const Node& node, const std::vector<std::string>& values, std::string& out) const;

  std::vector<std::string> names_;
  Node root_;
  int key_index_ = -1;
  int id_index_ = -1;
};

}  // namespace touchpoint::csv

#endif  // TOUCHPOINT_CSV_RECORD_BUILDER_HPP
