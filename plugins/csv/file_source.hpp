// Reading one inbox file: header, then batches of rows turned into records
// and rejects, each batch ending at a cursor.
#ifndef TOUCHPOINT_CSV_FILE_SOURCE_HPP
#define TOUCHPOINT_CSV_FILE_SOURCE_HPP

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "csv_config.hpp"
#include "csv_reader.hpp"
#include "cursor.hpp"
#include "encoding.hpp"
#include "inbox.hpp"
#include "limits.hpp"
#include "record_builder.hpp"
#include "sdk.hpp"

namespace touchpoint::csv {

/// What one record or reject adds to a unit's size as the host counts it (TP_MAX_UNIT_BYTES).
size_t unit_cost(const Record& r);
size_t unit_cost(const Reject& r);

/// `name` for messages, meta and locations: valid UTF-8, invalid bytes written as \xNN.
std::string display_name(std::string_view name);

struct Batch {
  EmitUnit unit;
  Cursor start;                        ///< position before the batch
  Cursor end;                          ///< position after it (unit.cursor is to_json(end), or empty, see below)
  std::vector<uint64_t> record_lines;  ///< the line of each record in unit.records
  size_t skipped = 0;                  ///< rows skipped because every cell was empty
  size_t bytes = 0;                    ///< unit_cost() of its records and rejects
  /// Made of the rejects of a unit the host refused (see CsvConnector). All but the last
  /// part of a refused unit have an empty cursor, which does not move the position.
  bool fallback = false;
};

/// Where to start reading a file: the first data row (offset 0, line 1) or a cursor's position.
struct ReadPosition {
  uint64_t offset = 0;
  uint64_t line = 1;
  uint64_t horizon = 0;  ///< the reader's recovery state (see RowReader)
  bool strict = false;
};

class FileSource {
 public:
  /// Opens `file` and reads its header. Reading starts at `from` (default: the first data
  /// row). Throws std::system_error on I/O errors.
  FileSource(const Config& config, Decoder& decoder, const FileInfo& file, ReadPosition from = {});
  ~FileSource();
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  const FileInfo& file() const { return file_; }
  char delimiter() const { return delimiter_; }
  /// Normalized column names (empty for an empty file).
  const std::vector<std::string>& columns() const { return columns_; }
  /// Non-empty when the file cannot be imported at all (bad header, missing key column).
  const std::string& file_error() const { return file_error_; }
  /// Problems worth a log line that do not stop the import.
  const std::vector<std::string>& warnings() const { return warnings_; }
  /// Position of the next row.
  Cursor position() const;
  bool done() const { return done_; }

  /// Reads up to `max_rows` rows (records + rejects). The last batch of a file has end.eof.
  Batch next_batch(size_t max_rows);

 private:
  bool fill(RowReader& reader);  // false once the reader has all input
  void process(const Row& row, Batch& batch);
  void add_reject(Batch& batch, const Row& row, std::string reason);
  Cursor cursor(uint64_t offset, uint64_t line, bool eof) const;
  /// 'name' of column i for a reason, cut to a readable length.
  std::string column_label(size_t i) const;

  const Config& config_;
  Decoder& decoder_;
  FileInfo file_;
  int fd_ = -1;
  uint64_t read_pos_ = 0;  // next byte to read from the file
  char delimiter_ = ',';
  std::vector<std::string> columns_;
  std::vector<std::string> warnings_;
  std::string file_error_;
  Row header_row_;
  std::unique_ptr<RecordBuilder> builder_;
  std::unique_ptr<RowReader> reader_;
  std::string display_name_;  // the file name as UTF-8, for meta and locations
  std::string header_raw_;    // the header row's bytes (hashed into deterministic ids)
  std::string meta_prefix_;
  bool done_ = false;
  Row row_;
  std::vector<std::string> values_;
};

}  // namespace touchpoint::csv

#endif  // TOUCHPOINT_CSV_FILE_SOURCE_HPP
