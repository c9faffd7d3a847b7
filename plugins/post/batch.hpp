// Renders one export batch: the data file (CSV or JSONL) and its manifest, in memory.
//
// A batch is what one write() call hands over, so its size is bounded by the sink's
// batch_size; nothing accumulates across batches.
#ifndef TOUCHPOINT_POST_BATCH_HPP
#define TOUCHPOINT_POST_BATCH_HPP

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "letter.hpp"
#include "post_config.hpp"
#include "transcode.hpp"

namespace touchpoint::post {

struct BatchFile {
  std::string name;  ///< the data file's name
  std::string content;
  uint64_t rows = 0;
  std::string sha256;
  std::string manifest_name;  ///< name + ".manifest.json"
  std::string manifest;
};

class BatchBuilder {
 public:
  explicit BatchBuilder(const ExportConfig& config);

  /// Starts a new batch file called `name` (the header row is written now).
  void begin(std::string name);
  /// Adds one message record. Returns its 1-based row number, or 0 with the reason the record
  /// can never be exported in `error` (nothing of it is written).
  uint64_t add(std::string_view id, std::string_view key, std::string_view data, std::string_view meta,
               std::string& error);
  /// Finishes the batch: checksum and manifest (created: RFC 3339 UTC text).
  BatchFile finish(const std::string& created);

  /// "csv" or "jsonl".
  std::string_view extension() const;

 private:
  bool encode(std::string_view value, std::string& out, std::string& error);
  void append_csv_field(std::string_view encoded);

  const ExportConfig& config_;
  std::unique_ptr<Transcoder> to_latin1_;
  Letter letter_;
  BatchFile file_;
  std::string row_;
  std::string field_;
};

}  // namespace touchpoint::post

#endif  // TOUCHPOINT_POST_BATCH_HPP
