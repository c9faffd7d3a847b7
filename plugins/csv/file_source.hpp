// Reading one inbox file: header, then batches of rows turned into records
// and rejects, each batch ending at a cursor.
#ifndef TOUCHPOINT_CSV_FILE_SOURCE_HPP
#define TOUCHPOINT_CSV_FILE_SOURCE_HPP

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "csv_config.hpp"
#include "csv_reader.hpp"
#include "cursor.hpp"
#include "encoding.hpp"
#include "inbox.hpp"
#include "record_builder.hpp"
#include "sdk.hpp"

namespace touchpoint::csv {

/// Largest `raw` kept in a reject; longer input is cut (at a UTF-8 boundary).
inline constexpr size_t kMaxRejectRaw = size_t{64} << 10;
/// A batch also ends once its records and rejects hold this many bytes.
inline constexpr size_t kMaxBatchBytes = size_t{16} << 20;

struct Batch {
  EmitUnit unit;
  Cursor start;        ///< position before the batch
  Cursor end;          ///< position after it (unit.cursor is to_json(end))
  size_t skipped = 0;  ///< rows skipped because every cell was empty
};

class FileSource {
 public:
  /// Opens `file` and reads its header. Reading starts at `offset`/`line` (0 / 1: the first
  /// data row). Throws std::system_error on I/O errors.
  FileSource(const Config& config, Decoder& decoder, const FileInfo& file, uint64_t offset, uint64_t line);
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
  void process(const Row& row, Batch& batch, size_t& bytes);
  void add_reject(Batch& batch, const Row& row, std::string reason, size_t& bytes);
  Cursor cursor(uint64_t offset, uint64_t line, bool eof) const;

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
  std::string id_prefix_;
  std::string meta_prefix_;
  bool done_ = false;
  Row row_;
  std::vector<std::string> values_;
};

}  // namespace touchpoint::csv

#endif  // TOUCHPOINT_CSV_FILE_SOURCE_HPP
