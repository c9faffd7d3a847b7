#include "journal/segment_scanner.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "journal/frame.hpp"

namespace touchpoint::core::journal {

SegmentScanner::SegmentScanner(const std::filesystem::path& path, uint64_t start_offset) : offset_(start_offset) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error("cannot open journal segment " + path.string() + ": " + std::strerror(errno));
  buf_.resize(1 << 20);
  buf_file_offset_ = offset_;
}

SegmentScanner::~SegmentScanner() {
  if (fd_ >= 0) ::close(fd_);
}

bool SegmentScanner::fill(size_t need) {
  uint64_t have_from = offset_ - buf_file_offset_;
  if (have_from + need <= buf_len_) return true;
  // Move the unread tail to the front, grow if one frame is larger than the buffer.
  size_t tail = buf_len_ - static_cast<size_t>(have_from);
  std::memmove(buf_.data(), buf_.data() + have_from, tail);
  buf_file_offset_ = offset_;
  buf_len_ = tail;
  if (need > buf_.size()) buf_.resize(need);
  while (buf_len_ < need) {
    ssize_t n =
        ::pread(fd_, buf_.data() + buf_len_, buf_.size() - buf_len_, static_cast<off_t>(buf_file_offset_ + buf_len_));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("journal read failed: ") + std::strerror(errno));
    }
    if (n == 0) return false;
    buf_len_ += static_cast<size_t>(n);
  }
  return true;
}

SegmentScanner::Status SegmentScanner::next(uint64_t max_seq) {
  if (!fill(kFrameHeaderBytes)) {
    bool clean = buf_len_ == static_cast<size_t>(offset_ - buf_file_offset_);
    reason_ = clean ? "" : "incomplete frame header";
    return clean ? Status::end : Status::torn;
  }
  const char* p = buf_.data() + (offset_ - buf_file_offset_);
  FrameHeader h = decode_header(p);
  if (!header_plausible(h)) {
    reason_ = h.magic != kFrameMagic ? "bad frame magic" : "implausible frame length";
    return Status::corrupt;
  }
  if (h.seq > max_seq) return Status::end;
  if (!fill(kFrameHeaderBytes + h.length)) {
    reason_ = "incomplete frame payload";
    return Status::torn;
  }
  p = buf_.data() + (offset_ - buf_file_offset_);
  std::string_view payload(p + kFrameHeaderBytes, h.length);
  if (frame_checksum(h.seq, payload) != h.crc) {
    reason_ = "checksum mismatch";
    return Status::corrupt;
  }
  seq_ = h.seq;
  payload_ = payload;
  offset_ += kFrameHeaderBytes + h.length;
  return Status::frame;
}

}  // namespace touchpoint::core::journal
