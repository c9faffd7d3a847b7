#include "journal/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "journal/frame.hpp"
#include "journal/segment_scanner.hpp"

namespace touchpoint::core::journal {
namespace fs = std::filesystem;
namespace {

constexpr const char* kSegmentSuffix = ".tpj";

std::string segment_name(uint64_t first_seq) {
  std::string digits = std::to_string(first_seq);
  return std::string(20 - digits.size(), '0') + digits + kSegmentSuffix;
}

bool parse_segment_name(const fs::path& p, uint64_t& first_seq) {
  std::string name = p.filename().string();
  if (name.size() != 20 + std::strlen(kSegmentSuffix) || !name.ends_with(kSegmentSuffix)) return false;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + 20, first_seq);
  return ec == std::errc() && ptr == name.data() + 20;
}

[[noreturn]] void fail_errno(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

/// A segment's entry in its directory is durable only once the directory is
/// synced; a failure here means the file may vanish on a crash.
void fsync_dir(const JournalOptions::FileOps& ops, const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail_errno("cannot open directory " + dir.string());
  if (ops.fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    fail_errno("fsync of directory " + dir.string() + " failed");
  }
  ::close(fd);
}

/// Writes everything or reports errno (EINTR retried; a short write of 0
/// bytes counts as ENOSPC so the caller never loops).
bool write_all(const JournalOptions::FileOps& ops, int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = ops.write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = ENOSPC;
      return false;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

Journal::Journal(JournalOptions options) : options_(std::move(options)) {
  fs::create_directories(options_.dir);
  recover();
  writer_ = std::thread([this] { writer_loop(); });
}

Journal::~Journal() {
  stop();
  if (active_fd_ >= 0) ::close(active_fd_);
}

void Journal::recover() {
  std::vector<SegmentInfo> found;
  for (const auto& entry : fs::directory_iterator(options_.dir)) {
    uint64_t first = 0;
    if (entry.is_regular_file() && parse_segment_name(entry.path(), first)) found.push_back({entry.path(), first});
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first_seq < b.first_seq; });

  uint64_t last_seq = 0;
  uint64_t total_bytes = 0;
  for (const SegmentInfo& seg : found) {
    SegmentScanner scanner(seg.path);
    SegmentScanner::Status st;
    uint64_t good = 0;  // end of the last accepted frame
    while ((st = scanner.next()) == SegmentScanner::Status::frame) {
      // A sequence going backwards (e.g. a stale block) is corruption: the
      // frame is not accepted and is quarantined with the rest of the tail.
      if (scanner.seq() <= last_seq) break;
      good = scanner.offset();
      last_seq = scanner.seq();
      if (options_.on_recovered_frame) options_.on_recovered_frame(scanner.seq(), scanner.payload());
      if (recovery_.first_seq == 0) recovery_.first_seq = scanner.seq();
      ++recovery_.entries;
    }
    uint64_t size = fs::file_size(seg.path);
    if (good < size) {
      // Keep the damaged bytes for inspection, then cut the segment back to
      // its last good frame so the hub starts instead of wedging.
      Quarantine q;
      q.segment = seg.path.filename().string();
      q.offset = good;
      q.bytes = size - good;
      q.reason = st == SegmentScanner::Status::frame ? "sequence number went backwards" : scanner.reason();
      fs::path qdir = options_.dir / "quarantine";
      fs::create_directories(qdir);
      fs::path saved = qdir / (q.segment + "." + std::to_string(good) + ".bad");
      {
        std::ifstream in(seg.path, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(good));
        std::ofstream out(saved, std::ios::binary | std::ios::trunc);
        out << in.rdbuf();
      }
      q.saved_as = saved.string();
      if (::truncate(seg.path.c_str(), static_cast<off_t>(good)) != 0)
        fail_errno("cannot truncate " + seg.path.string());
      recovery_.quarantined.push_back(q);
      size = good;
    }
    total_bytes += size;
  }
  segments_ = found;
  recovery_.segments = found.size();
  recovery_.last_seq = last_seq;
  bool fresh_segment = false;
  if (options_.min_last_seq > last_seq) {
    recovery_.advanced_from = last_seq;
    last_seq = options_.min_last_seq;
    fresh_segment = true;  // a segment's name must stay the first seq it holds
  }
  next_seq_ = last_seq + 1;
  durable_seq_.store(last_seq, std::memory_order_release);
  bytes_on_disk_.store(total_bytes, std::memory_order_relaxed);
  if (!recovery_.quarantined.empty()) fsync_dir(options_.ops, options_.dir);

  // Continue in the last segment while it has room, else start a new one.
  if (!fresh_segment && !segments_.empty() && fs::file_size(segments_.back().path) < options_.segment_bytes) {
    active_fd_ = ::open(segments_.back().path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (active_fd_ < 0) fail_errno("cannot open journal segment " + segments_.back().path.string());
    active_size_ = fs::file_size(segments_.back().path);
  } else {
    open_active_segment(next_seq_);
  }
}

void Journal::open_active_segment(uint64_t first_seq) {
  const fs::path path = options_.dir / segment_name(first_seq);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) fail_errno("cannot create journal segment " + path.string());
  try {
    // Reserve the segment's blocks up front (without changing its size, so
    // readers see no zeros): a full disk then shows here, where nothing is
    // half-written, instead of in the middle of a frame.
    if (options_.ops.fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(options_.segment_bytes)) != 0 &&
        errno != EOPNOTSUPP && errno != ENOSYS)
      fail_errno("cannot reserve " + std::to_string(options_.segment_bytes) + " bytes for journal segment " +
                 path.string());
    if (options_.fsync) fsync_dir(options_.ops, options_.dir);
  } catch (...) {
    ::close(fd);
    ::unlink(path.c_str());
    throw;
  }
  if (active_fd_ >= 0) ::close(active_fd_);  // its frames were synced with their group
  active_fd_ = fd;
  active_size_ = 0;
  std::lock_guard<std::mutex> lk(mu_);
  segments_.push_back({path, first_seq});
}

void Journal::fail(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!failure_.empty()) return;
    failure_ = reason;
  }
  durable_cv_.notify_all();
  if (options_.on_fatal) options_.on_fatal(reason);
}

std::string Journal::failure() const {
  std::lock_guard<std::mutex> lk(mu_);
  return failure_;
}

Journal::AppendResult Journal::append(std::string payload, Done done) {
  if (payload.size() > kMaxPayloadBytes) return AppendResult::too_large;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!failure_.empty()) return AppendResult::failed;
    if (stopping_) return AppendResult::stopping;
    if (bytes_on_disk_.load(std::memory_order_relaxed) + queued_bytes_ > options_.max_bytes)
      return AppendResult::backpressure;
    queued_bytes_ += payload.size() + kFrameHeaderBytes;
    queue_.push_back(Pending{std::move(payload), std::move(done)});
  }
  work_cv_.notify_one();
  return AppendResult::accepted;
}

void Journal::writer_loop() {
  std::deque<Pending> group;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(mu_);
      work_cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      // Take everything queued, bounded by max_group_bytes (at least one).
      uint64_t bytes = 0;
      while (!queue_.empty() &&
             (group.empty() || bytes + queue_.front().payload.size() + kFrameHeaderBytes <= options_.max_group_bytes)) {
        bytes += queue_.front().payload.size() + kFrameHeaderBytes;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_bytes_ -= std::min(queued_bytes_, bytes);
    }
    write_group(group);
    group.clear();
  }
}

void Journal::write_group(std::deque<Pending>& group) {
  auto refuse = [&](const std::string& why) {
    for (Pending& p : group) p.done(false, 0, why);
  };
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (!failure_.empty()) return refuse("the journal has stopped after an I/O error: " + failure_);
  }
  if (active_size_ >= options_.segment_bytes) {
    try {
      open_active_segment(next_seq_);
    } catch (const std::exception& e) {
      // Nothing was written: the group is refused and the old segment stays
      // active; a later group tries again (space may have been released).
      return refuse(e.what());
    }
  }
  const uint64_t first_seq = next_seq_;
  std::string buffer;
  size_t total = 0;
  for (const Pending& p : group) total += p.payload.size() + kFrameHeaderBytes;
  buffer.reserve(total);
  uint64_t seq = first_seq;
  for (const Pending& p : group) append_frame(buffer, seq++, p.payload);

  if (!write_all(options_.ops, active_fd_, buffer.data(), buffer.size())) {
    const std::string error = errno_text("journal write failed");
    // Cut the segment back to its last acknowledged frame. Only when that
    // provably worked may the sequence numbers be handed out again: frames
    // left behind would be followed by frames with the same numbers, and
    // recovery would then cut away acknowledged ones.
    struct stat st {};
    if (options_.ops.ftruncate(active_fd_, static_cast<off_t>(active_size_)) != 0 || ::fstat(active_fd_, &st) != 0 ||
        static_cast<uint64_t>(st.st_size) != active_size_) {
      fail(error + "; cutting the segment back failed too (" + std::strerror(errno) + ")");
    }
    return refuse(error);
  }
  if (options_.fsync && options_.ops.fdatasync(active_fd_) != 0) {
    // After a failed fdatasync the kernel may have dropped the dirty pages
    // while the page cache still shows them (PostgreSQL's "fsyncgate"):
    // neither the file nor its cached view can be trusted any more. Stop
    // acknowledging; a restart recovers from what is really on disk.
    const std::string error = errno_text("journal fdatasync failed");
    fail(error);
    return refuse(error);
  }
  next_seq_ = seq;
  active_size_ += buffer.size();
  bytes_on_disk_.fetch_add(buffer.size(), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lk(mu_);
    durable_seq_.store(next_seq_ - 1, std::memory_order_release);
  }
  durable_cv_.notify_all();
  seq = first_seq;
  for (Pending& p : group) p.done(true, seq++, {});
}

bool Journal::wait_beyond(uint64_t seq, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(mu_);
  return durable_cv_.wait_for(lk, timeout, [&] { return stopping_ || durable_seq() > seq; }) && durable_seq() > seq;
}

void Journal::notify_waiters() { durable_cv_.notify_all(); }

void Journal::release_until(uint64_t applied_seq) {
  std::vector<fs::path> doomed;
  {
    std::lock_guard<std::mutex> lk(mu_);
    // Segment i holds [first_seq_i, first_seq_{i+1}); never delete the active one.
    while (segments_.size() > 1 && segments_[1].first_seq <= applied_seq + 1) {
      doomed.push_back(segments_.front().path);
      segments_.erase(segments_.begin());
    }
  }
  for (const fs::path& p : doomed) {
    std::error_code ec;
    uint64_t size = fs::file_size(p, ec);
    if (fs::remove(p, ec) && !ec)
      bytes_on_disk_.fetch_sub(std::min(size, bytes_on_disk_.load()), std::memory_order_relaxed);
  }
}

uint64_t Journal::pending_appends() const {
  std::lock_guard<std::mutex> lk(mu_);
  return queue_.size();
}

std::vector<SegmentInfo> Journal::segments() const {
  std::lock_guard<std::mutex> lk(mu_);
  return segments_;
}

void Journal::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  durable_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

}  // namespace touchpoint::core::journal
