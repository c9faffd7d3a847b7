#pragma once
// Sequential, buffered reading of the frames of one segment file. Used by
// start-up recovery (which stops at the first bad frame) and by readers.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace touchpoint::core::journal {

class SegmentScanner {
 public:
  enum class Status {
    frame,    ///< a complete, verified frame
    end,      ///< clean end of the file
    torn,     ///< an incomplete frame at the end (crash during write, or still being written)
    corrupt,  ///< bad magic, implausible length or checksum mismatch
  };

  explicit SegmentScanner(const std::filesystem::path& path, uint64_t start_offset = 0);
  ~SegmentScanner();
  SegmentScanner(const SegmentScanner&) = delete;
  SegmentScanner& operator=(const SegmentScanner&) = delete;

  /// Reads the next frame. On `frame`, seq and payload are set and offset()
  /// moves past it. A frame whose seq exceeds max_seq is left unread and
  /// reported as `end` (it is not durable yet).
  Status next(uint64_t max_seq = UINT64_MAX);

  uint64_t seq() const noexcept { return seq_; }
  std::string_view payload() const noexcept { return payload_; }
  /// File offset just after the last frame returned (where the next one starts).
  uint64_t offset() const noexcept { return offset_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  bool fill(size_t need);  // ensures `need` bytes at offset_ are buffered

  int fd_ = -1;
  uint64_t offset_ = 0;
  std::vector<char> buf_;
  uint64_t buf_file_offset_ = 0;  // file offset of buf_[0]
  size_t buf_len_ = 0;
  uint64_t seq_ = 0;
  std::string_view payload_;
  std::string reason_;
};

}  // namespace touchpoint::core::journal
