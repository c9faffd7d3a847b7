// jsonl: a JSON Lines connector, both source and sink.
//
// Source: tails a .jsonl file. Every complete line (ending in '\n') becomes a
// record; a line that is not a usable JSON object becomes a reject, which the
// hub puts into its dead-letter store with "<path>:<line>". The cursor handed
// to the hub with each unit is the byte offset after the unit, so a restart
// resumes exactly where the last durable unit ended.
//
// Sink: appends every record it is given as one JSON line (the whole envelope)
// to a file and fsyncs before reporting success.
#ifndef JSONL_CONNECTOR_HPP
#define JSONL_CONNECTOR_HPP

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <touchpoint/plugin.hpp>

#include "jsonl_config.hpp"

namespace jsonl {

/// Where the source stands in its file. Serialized as the unit cursor:
/// {"inode":123,"offset":4096,"line":42}
struct Position {
  uint64_t inode = 0;   ///< identifies the file: a replaced (rotated) file starts over
  uint64_t offset = 0;  ///< byte offset of the first unread line
  uint64_t line = 1;    ///< its 1-based line number (for reject locations)
};

std::string to_cursor(const Position& p);
std::optional<Position> parse_cursor(std::string_view cursor);

class JsonlConnector : public touchpoint::Connector {
 public:
  JsonlConnector(touchpoint::Host host, std::string_view config_json);
  ~JsonlConnector() override;

  /// Called by `touchpoint validate` without opening an instance.
  static void validate_config(std::string_view config_json);

  // touchpoint::Connector
  void check() override;
  std::string discover() override;
  void read() override;
  void write(touchpoint::RecordSpan batch, touchpoint::Outcomes& outcomes) override;
  void commit(std::string_view cursor) override;
  void close() override;

 private:
  // done() runs on a host thread; it only records the first failed unit.
  // Shared, so a late callback never touches a closed instance.
  struct Failures {
    std::mutex mu;
    std::optional<uint64_t> seq;
    std::string message;
  };

  void rewind_after_failure();
  void build_record(std::string_view line, touchpoint::EmitUnit& unit, uint64_t line_no) const;

  Config config_;
  // Source state, touched only on the instance thread.
  Position next_;       ///< where the next unit starts (past everything emitted)
  Position committed_;  ///< end of the last unit the hub reported durable
  uint64_t next_seq_ = 1;
  uint64_t epoch_ = 1;  ///< first unit emitted since the last rewind
  std::shared_ptr<Failures> failures_ = std::make_shared<Failures>();
  // Sink state.
  int out_fd_ = -1;
};

}  // namespace jsonl

#endif  // JSONL_CONNECTOR_HPP
