// The inbox directory: listing candidate files, the settle check and moving
// finished files to done_dir.
#ifndef TOUCHPOINT_CSV_INBOX_HPP
#define TOUCHPOINT_CSV_INBOX_HPP

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace touchpoint::csv {

struct FileInfo {
  std::string name;  ///< plain file name inside the inbox
  std::filesystem::path path;
  uint64_t size = 0;
  int64_t mtime = 0;  ///< nanoseconds since the epoch
};

/// True for names the connector may pick: matching `pattern` (fnmatch) and not hidden
/// (leading '.') nor a temporary upload (".part", ".tmp" suffix).
bool is_candidate_name(std::string_view name, const std::string& pattern);

/// stat() of a regular file (symlinks followed); nullopt when missing or not a regular file.
std::optional<FileInfo> stat_file(const std::filesystem::path& path);

/// Regular candidate files in `inbox`, sorted by name (bytewise). Throws std::system_error
/// when the directory cannot be read.
std::vector<FileInfo> list_inbox(const std::filesystem::path& inbox, const std::string& pattern);

/// Decides whether a file has stopped changing: its size and mtime must have been seen
/// unchanged for `settle` and its mtime must be at least `settle` old (an mtime in the
/// future is ignored, only the observation counts).
class SettleTracker {
 public:
  using Clock = std::chrono::steady_clock;
  explicit SettleTracker(std::chrono::milliseconds settle) : settle_(settle) {}

  bool settled(const FileInfo& file, Clock::time_point now, int64_t wall_now_ns);
  /// Forgets files no longer listed.
  void retain(const std::vector<FileInfo>& files);

 private:
  struct Seen {
    uint64_t size;
    int64_t mtime;
    Clock::time_point since;
  };
  std::chrono::milliseconds settle_;
  std::map<std::string, Seen> seen_;
};

/// Wall clock now in nanoseconds since the epoch.
int64_t wall_now_ns();

/// "a.csv" -> "a.20240102T030405Z.csv" (attempt > 1 adds "-<attempt>" after the time).
std::string timestamped_name(std::string_view name, std::chrono::system_clock::time_point when, int attempt);

/// Moves `file` into `done_dir` (created if missing) without replacing anything there: on a
/// name clash a timestamp is inserted before the extension. Falls back to copy + remove across
/// file systems. Returns the new path; throws std::system_error on failure.
std::filesystem::path move_to_done(const std::filesystem::path& file, const std::filesystem::path& done_dir);

}  // namespace touchpoint::csv

#endif  // TOUCHPOINT_CSV_INBOX_HPP
