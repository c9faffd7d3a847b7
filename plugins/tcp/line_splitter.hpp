// A byte stream -> complete lines, bounded: a line longer than the limit is
// not buffered, only its first bytes are kept for the dead letter.
#ifndef TOUCHPOINT_TCP_LINE_SPLITTER_HPP
#define TOUCHPOINT_TCP_LINE_SPLITTER_HPP

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace touchpoint::tcp {

class LineSplitter {
 public:
  /// Bytes of an overlong line that are kept for its dead letter.
  static constexpr size_t kOverlongHead = 1024;
  /// Told about a line over the limit: its 1-based number, first bytes and length.
  using Overlong = std::function<void(uint64_t line_no, std::string_view head, uint64_t bytes)>;

  explicit LineSplitter(size_t max_line_bytes) : max_(max_line_bytes) {}

  /// Appends each line that `data` completes to `lines`, followed by '\n'. An
  /// overlong line goes to `overlong` and leaves an empty line in its place,
  /// so that line numbers in `lines` stay those of the stream.
  void feed(std::string_view data, std::string& lines, const Overlong& overlong);
  /// End of the stream: an unterminated last line counts as a line.
  void finish(std::string& lines, const Overlong& overlong);
  /// Lines completed so far.
  uint64_t lines() const noexcept { return lines_; }
  /// Bytes of the line not yet complete (bounded by the limit).
  size_t pending_bytes() const noexcept { return partial_.size(); }

 private:
  void end_overlong(std::string& lines, const Overlong& overlong);

  size_t max_;
  std::string partial_;  // the incomplete line, while it is within the limit
  bool discarding_ = false;
  std::string head_;      // of the overlong line being skipped
  uint64_t skipped_ = 0;  // its length so far
  uint64_t lines_ = 0;
};

}  // namespace touchpoint::tcp

#endif  // TOUCHPOINT_TCP_LINE_SPLITTER_HPP
