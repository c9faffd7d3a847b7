// The csv source connector: picks settled files from the inbox in name order,
// emits their rows in units of batch_rows, and moves a file to done_dir once
// the host reports its last unit durable (commit of an eof cursor).
#ifndef TOUCHPOINT_CSV_CSV_CONNECTOR_HPP
#define TOUCHPOINT_CSV_CSV_CONNECTOR_HPP

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "csv_config.hpp"
#include "cursor.hpp"
#include "encoding.hpp"
#include "file_source.hpp"
#include "inbox.hpp"
#include "sdk.hpp"

namespace touchpoint::csv {

class CsvConnector : public Connector {
 public:
  CsvConnector(Host host, std::string_view config_json);
  ~CsvConnector() override;

  static void validate_config(std::string_view config_json);

  void check() override;
  std::string discover() override;
  void read() override;
  void commit(std::string_view cursor) override;
  void close() override;

 private:
  /// The data path a header column becomes in records, "" when it is dropped.
  std::string field_of(const std::string& column) const;
  // Written by done() callbacks on host threads: the earliest unit the host did not keep.
  // Shared with the callbacks so that a late callback never touches a closed instance.
  struct Failures {
    std::mutex mu;
    std::optional<uint64_t> seq;
    std::string message;
    void report(uint64_t s, std::string_view why);
  };
  struct Awaiting {  // eof unit emitted, waiting for its commit
    uint64_t seq;
    uint64_t size;
    int64_t mtime;
    bool move_failed = false;
  };
  struct Stamp {
    uint64_t size;
    int64_t mtime;
  };

  void restore_checkpoint();
  void rewind_after_failure();
  void retry_moves();
  bool open_next_file();
  bool emit_pending();
  /// The rejects that replace a unit the host refused as permanent, in units within the
  /// limits: every record becomes a reject with the host's message, its rejects stay.
  static std::deque<Batch> fallback_units(Batch refused, std::string_view host_message);
  bool busy_with(const std::string& file) const;
  /// Moves a finished file to done_dir if it is unchanged since `size`/`mtime`. Returns false
  /// when the move failed (and should be retried).
  bool finish_file(const std::string& name, uint64_t size, int64_t mtime, bool quiet);

  Config config_;
  Decoder decoder_;
  SettleTracker settle_;
  std::shared_ptr<Failures> failures_ = std::make_shared<Failures>();
  std::unique_ptr<FileSource> current_;
  std::deque<Batch> pending_;     // built but not yet accepted by the host, in emit order
  std::optional<Cursor> resume_;  // where to continue a file (checkpoint or rewind)
  std::map<std::string, Awaiting> awaiting_;
  std::map<std::string, Stamp> unreadable_;  // skipped until they change
  uint64_t next_seq_ = 1;
  uint64_t epoch_ = 1;  // first sequence number emitted since the last rewind
};

}  // namespace touchpoint::csv

#endif  // TOUCHPOINT_CSV_CSV_CONNECTOR_HPP
