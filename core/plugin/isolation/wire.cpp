#include "plugin/isolation/wire.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace touchpoint::core::isolation {
namespace {

bool write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool read_all(int fd, char* data, size_t n) {
  while (n > 0) {
    const ssize_t r = ::read(fd, data, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    data += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t get_le(std::string_view in, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(in[static_cast<size_t>(i)])) << (8 * i);
  return v;
}

}  // namespace

Writer& Writer::u8(uint8_t v) {
  out_.push_back(static_cast<char>(v));
  return *this;
}
Writer& Writer::u32(uint32_t v) {
  put_le(out_, v, 4);
  return *this;
}
Writer& Writer::u64(uint64_t v) {
  put_le(out_, v, 8);
  return *this;
}
Writer& Writer::f64(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return u64(bits);
}
Writer& Writer::str(std::string_view s) {
  if (s.size() > kMaxFrameBytes)
    throw WireError("string of " + std::to_string(s.size()) + " bytes is over the frame limit");
  u32(static_cast<uint32_t>(s.size()));
  out_.append(s);
  return *this;
}

std::string_view Reader::take(size_t n) {
  if (in_.size() - pos_ < n) throw WireError("message ends early");
  std::string_view v = in_.substr(pos_, n);
  pos_ += n;
  return v;
}
uint8_t Reader::u8() { return static_cast<uint8_t>(take(1)[0]); }
uint32_t Reader::u32() { return static_cast<uint32_t>(get_le(take(4), 4)); }
uint64_t Reader::u64() { return get_le(take(8), 8); }
double Reader::f64() {
  const uint64_t bits = u64();
  double v = 0;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}
std::string_view Reader::str() { return take(u32()); }

ReplyView parse_reply(std::string_view payload) {
  Reader in(payload);
  ReplyView r;
  r.status = in.i32();
  r.error = in.str();
  r.rest = payload.substr(8 + r.error.size());
  return r;
}

bool send_frame(int fd, Kind kind, uint64_t id, std::string_view payload) {
  if (payload.size() > kMaxFrameBytes - 9) return false;
  std::string head;
  put_le(head, payload.size() + 9, 4);
  head.push_back(static_cast<char>(kind));
  put_le(head, id, 8);
  // Small frames in one send (one wake-up on the other side); big ones
  // without copying the payload.
  if (payload.size() < 64 * 1024) {
    head.append(payload);
    return write_all(fd, head.data(), head.size());
  }
  return write_all(fd, head.data(), head.size()) && write_all(fd, payload.data(), payload.size());
}

std::optional<Frame> recv_frame(int fd) {
  char head[13];
  if (!read_all(fd, head, 4)) return std::nullopt;
  const auto len = static_cast<uint32_t>(get_le(std::string_view(head, 4), 4));
  if (len < 9) throw WireError("frame of " + std::to_string(len) + " bytes is too short");
  if (len > kMaxFrameBytes) throw WireError("frame of " + std::to_string(len) + " bytes is over the limit");
  if (!read_all(fd, head + 4, 9)) return std::nullopt;
  Frame f;
  f.kind = static_cast<Kind>(head[4]);
  f.id = get_le(std::string_view(head + 5, 8), 8);
  f.payload.resize(len - 9);
  if (!read_all(fd, f.payload.data(), f.payload.size())) return std::nullopt;
  return f;
}

}  // namespace touchpoint::core::isolation
