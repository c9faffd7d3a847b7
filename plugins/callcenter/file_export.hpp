// Call lists as files: one file per write batch, written atomically (a hidden
// temporary name, fsync, rename without replacing, fsync of the directory),
// so the call center never picks up half a list and a list once renamed
// survives a crash.
#ifndef TOUCHPOINT_CALLCENTER_FILE_EXPORT_HPP
#define TOUCHPOINT_CALLCENTER_FILE_EXPORT_HPP

#include <cstdint>
#include <string>
#include <vector>

#include "call_entry.hpp"
#include "config.hpp"

namespace touchpoint::callcenter {

/// The file's content (CSV with CRLF line ends per RFC 4180, or JSON lines), encoded as configured.
std::string render_call_list(const DirTarget& config, const std::vector<const CallEntry*>& entries);

class FileExporter {
 public:
  explicit FileExporter(DirTarget config) : config_(std::move(config)) {}

  /// Writes the list and returns the new file's name ("calls-20260301T101500Z-000001.csv").
  /// Throws std::runtime_error when the file cannot be written; nothing is left behind then.
  std::string write(const std::vector<const CallEntry*>& entries);

 private:
  DirTarget config_;
  uint64_t seq_ = 0;
};

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_FILE_EXPORT_HPP
