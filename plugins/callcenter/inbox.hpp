// The dispositions directory: reads one file per read() call, emits its
// responses and rejects in units, and moves the file to done_dir (or, when
// nothing in it was usable, to <dir>/failed) only in commit() of its last
// unit, so a crash at any point leaves the file where a restart reads it again.
#ifndef TOUCHPOINT_CALLCENTER_INBOX_HPP
#define TOUCHPOINT_CALLCENTER_INBOX_HPP

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <touchpoint/plugin.hpp>
#include <vector>

#include "config.hpp"
#include "disposition.hpp"

namespace touchpoint::callcenter {

/// The cursor of unit `unit` (1-based) of `of` for the file with content digest `sha`.
std::string file_cursor(std::string_view sha, size_t unit, size_t of);

class Inbox {
 public:
  /// `checkpoint` is the host's last durable cursor: a file whose last unit it names is moved
  /// on sight instead of being read again.
  Inbox(DispositionDir config, OutcomeMap outcome_map, Host host, std::string_view checkpoint);

  /// Reads and emits the next file, if any. Returns true when a unit was accepted.
  bool read();
  void commit(std::string_view cursor);
  /// Throws RetryableError when the directory cannot be read.
  void check() const;

 private:
  struct Awaiting {
    std::string name;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    bool failed = false;  ///< nothing usable: goes to <dir>/failed
  };
  // Written by done() on host threads; shared so a late callback never touches a closed instance.
  struct Failures {
    std::mutex mu;
    std::set<std::string> shas;
  };

  void forget_failed();
  bool emit_file(const std::string& name, const std::string& content, uint64_t size, int64_t mtime_ns);
  void finish(const Awaiting& file);

  DispositionDir config_;
  OutcomeMap outcome_map_;
  Host host_;
  std::string checkpoint_sha_;                // the file the checkpoint finished, "" if none
  std::map<std::string, Awaiting> awaiting_;  // content digest -> file emitted, last unit not committed
  // Files whose move failed (permissions, ...): not read again until they change, so a stuck
  // file is not re-emitted on every poll.
  std::map<std::string, std::pair<uint64_t, int64_t>> unmovable_;
  std::shared_ptr<Failures> failures_ = std::make_shared<Failures>();
};

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_INBOX_HPP
