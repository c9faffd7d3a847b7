// The post channel connector: exports letters as batch files for a letter shop (sink) and
// reads the letter shop's return files back as responses (source). See README.md.
#ifndef TOUCHPOINT_POST_POST_CONNECTOR_HPP
#define TOUCHPOINT_POST_POST_CONNECTOR_HPP

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "batch.hpp"
#include "post_config.hpp"
#include "sdk.hpp"
#include "sftp_client.hpp"

namespace touchpoint::post {

/// The source position: the file, its content hash, the last line consumed, whether the
/// unit finished the file.
struct ReturnCursor {
  std::string file;
  std::string hash;
  uint64_t line = 0;
  bool eof = false;
};
std::string to_json(const ReturnCursor& c);
std::optional<ReturnCursor> parse_return_cursor(std::string_view json);

class PostConnector : public Connector {
 public:
  PostConnector(Host host, std::string_view config_json);
  ~PostConnector() override;

  static void validate_config(std::string_view config_json);

  void check() override;
  std::string discover() override;
  void write(RecordSpan batch, Outcomes& outcomes) override;
  void read() override;
  void commit(std::string_view cursor) override;

 private:
  // Sink.
  std::string next_file_name(const std::string& now_compact);
  void deliver(const BatchFile& file);

  // Source.
  struct Failures {  // written by done() callbacks on host threads
    std::mutex mu;
    std::optional<uint64_t> seq;
    std::string message;
  };
  void rewind_if_failed();
  void retry_moves();
  bool queue_next_file();
  void queue_file(const std::string& name, std::string_view bytes);
  void queue_file_reject(const std::string& name, const std::string& why, bool finish);
  void move_to_done(const std::string& name);

  Config config_;
  std::unique_ptr<BatchBuilder> builder_;
  std::unique_ptr<SftpClient> export_sftp_;
  std::unique_ptr<SftpClient> returns_sftp_;
  uint64_t seq_ = 0;
  std::string last_stamp_;

  std::shared_ptr<Failures> failures_ = std::make_shared<Failures>();
  std::deque<EmitUnit> pending_;
  std::set<std::string> awaiting_;  // eof unit queued or emitted, commit not seen yet
  std::set<std::string> to_move_;   // committed (or finished before a restart), move pending
  std::set<std::string> refused_names_;
  std::optional<ReturnCursor> resume_;
  uint64_t next_seq_ = 1;
  uint64_t epoch_ = 1;
};

}  // namespace touchpoint::post

#endif  // TOUCHPOINT_POST_POST_CONNECTOR_HPP
