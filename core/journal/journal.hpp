#pragma once
// The durable, append-only journal every source writes into before it is
// acknowledged. One writer thread batches concurrent appends into a single
// write + fdatasync (group commit); callbacks run once their frame is on disk.
// Segments are named after the first sequence number they hold and deleted
// once everything in them is applied to the store.

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace touchpoint::core::journal {

struct JournalOptions {
  std::filesystem::path dir;
  uint64_t segment_bytes = 64ull << 20;
  /// Appends are refused (backpressure) while the journal holds more than this.
  uint64_t max_bytes = 2ull << 30;
  /// Upper bound of one group commit; larger groups are split.
  uint64_t max_group_bytes = 16ull << 20;
  bool fsync = true;
  /// Sequence numbers up to this one were handed out before (the store's
  /// applied position). If the journal on disk ends below it — emptied, or
  /// restored from an older backup — numbering continues after it, because
  /// the reader skips everything at or below the store's position.
  uint64_t min_last_seq = 0;
  /// Called once, from the writer thread, when the journal stops for good
  /// (a failed fdatasync, or a failed write it could not cut back). From then
  /// on every append is refused with AppendResult::failed; the process should
  /// exit so that a restart recovers from what is really on disk.
  std::function<void(const std::string& reason)> on_fatal;
  /// Called during recovery for every verified frame, in order (lets the
  /// runtime learn the newest source cursors without reading twice).
  std::function<void(uint64_t seq, std::string_view payload)> on_recovered_frame;
  /// The system calls the writer uses; tests replace them to inject faults.
  struct FileOps {
    ssize_t (*write)(int fd, const void* data, size_t len) = &::write;
    int (*fdatasync)(int fd) = &::fdatasync;
    int (*fsync)(int fd) = &::fsync;  ///< of the journal directory
    int (*ftruncate)(int fd, off_t length) = &::ftruncate;
    int (*fallocate)(int fd, int mode, off_t offset, off_t len) = &::fallocate;
  } ops;
};

struct Quarantine {
  std::string segment;
  uint64_t offset = 0;
  uint64_t bytes = 0;
  std::string reason;
  std::string saved_as;
};

struct RecoveryReport {
  size_t segments = 0;
  uint64_t entries = 0;
  uint64_t first_seq = 0;  ///< 0 when empty
  uint64_t last_seq = 0;   ///< 0 when empty
  /// Set when numbering was moved forward to min_last_seq (the old last seq).
  std::optional<uint64_t> advanced_from;
  std::vector<Quarantine> quarantined;
};

struct SegmentInfo {
  std::filesystem::path path;
  uint64_t first_seq = 0;
};

class Journal {
 public:
  /// too_large: the payload exceeds the frame limit (callers check their own,
  /// smaller limits first; this is the last line of defence).
  /// failed: the journal has stopped for good (see JournalOptions::on_fatal).
  enum class AppendResult { accepted, backpressure, stopping, too_large, failed };
  /// ok=false only when the disk write failed; the error says why.
  using Done = std::function<void(bool ok, uint64_t seq, const std::string& error)>;

  /// Opens (creating if needed) and recovers: verifies every frame, and
  /// moves a torn or corrupt tail to `<dir>/quarantine/` instead of failing.
  explicit Journal(JournalOptions options);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  const RecoveryReport& recovery() const noexcept { return recovery_; }

  AppendResult append(std::string payload, Done done);

  uint64_t durable_seq() const noexcept { return durable_seq_.load(std::memory_order_acquire); }
  /// Waits until durable_seq() > seq, stop(), or the timeout. True if advanced.
  bool wait_beyond(uint64_t seq, std::chrono::milliseconds timeout);
  /// Wakes every wait_beyond (used on shutdown of readers).
  void notify_waiters();

  /// Deletes segments whose entries all have seq <= applied_seq.
  void release_until(uint64_t applied_seq);

  uint64_t bytes_on_disk() const noexcept { return bytes_on_disk_.load(std::memory_order_relaxed); }
  /// Non-empty once the journal has stopped for good: why.
  std::string failure() const;
  uint64_t pending_appends() const;
  std::vector<SegmentInfo> segments() const;
  const JournalOptions& options() const noexcept { return options_; }

  /// Finishes queued appends, then stops the writer. Later appends are refused.
  void stop();

 private:
  struct Pending {
    std::string payload;
    Done done;
  };

  void recover();
  /// Creates the segment for first_seq (pre-allocated, directory synced) and
  /// makes it the active one. Throws on failure, leaving the old one active.
  void open_active_segment(uint64_t first_seq);
  /// Enters the failed state: logs through on_fatal, refuses appends.
  void fail(const std::string& reason);
  void writer_loop();
  void write_group(std::deque<Pending>& group);

  JournalOptions options_;
  RecoveryReport recovery_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable durable_cv_;
  std::deque<Pending> queue_;
  uint64_t queued_bytes_ = 0;
  bool stopping_ = false;
  std::string failure_;  // guarded by mu_; non-empty: stopped for good

  std::vector<SegmentInfo> segments_;  // guarded by mu_
  int active_fd_ = -1;                 // writer thread only after construction
  uint64_t active_size_ = 0;
  uint64_t next_seq_ = 1;

  std::atomic<uint64_t> durable_seq_{0};
  std::atomic<uint64_t> bytes_on_disk_{0};
  std::thread writer_;
};

}  // namespace touchpoint::core::journal
