// Turns a row of decoded cell values into the record's data JSON.
#ifndef TOUCHPOINT_CSV_RECORD_BUILDER_HPP
#define TOUCHPOINT_CSV_RECORD_BUILDER_HPP

#include <cstddef>
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

/// FNV-1a, 64 bit, continuing from `h` (so several pieces hash as one).
uint64_t fnv1a64(std::string_view bytes, uint64_t h = 0xcbf29ce484222325ull);

/// The hash of a data row that goes into its deterministic id: FNV-1a-64 of the header
/// row's bytes, a line feed, and the row's bytes (`header` is empty without a header row).
/// Both as in the file (not decoded), without line breaks around them.
uint64_t row_hash(std::string_view header, std::string_view row);

/// "csv:" + hex FNV-1a-64(file name) + ":" + line + ":" + hex row_hash: the same row at the
/// same line of a file of the same name gets the same id (a repeated delivery), a changed
/// row gets a new one (a correction), whatever the file's size.
std::string deterministic_id(std::string_view file_name, uint64_t line, uint64_t row_hash);
/// deterministic_id() up to the line number ("csv:<hash>:").
std::string deterministic_id_prefix(std::string_view file_name);

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
  /// are omitted, and so are objects that end up empty. Returns false (out is then
  /// unspecified) as soon as the object would grow beyond `max_bytes`; it never allocates
  /// much more than that.
  bool build(const std::vector<std::string>& values, std::string& out, size_t max_bytes = SIZE_MAX) const;

 private:
  struct Node {
    std::string key;
    std::string key_json;  // "\"key\":"
    int column = -1;       // leaf: column index; object: -1
    std::vector<Node> children;
  };
  // Writes node's object (`depth` objects are open, this one included); false when it stays
  // empty. Sets `over` once the result cannot fit in `limit` (then stops).
  bool write_object(const Node& node, const std::vector<std::string>& values, std::string& out, size_t limit,
                    size_t depth, bool& over) const;

  std::vector<std::string> names_;
  Node root_;
  int key_index_ = -1;
  int id_index_ = -1;
};

}  // namespace touchpoint::csv

#endif  // TOUCHPOINT_CSV_RECORD_BUILDER_HPP
