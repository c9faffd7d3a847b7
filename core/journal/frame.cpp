#include "journal/frame.hpp"

#include <zlib.h>

#include <cstring>

namespace touchpoint::core::journal {
namespace {

void put32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  out.append(b, 4);
}
void put64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  out.append(b, 8);
}
uint32_t get32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
uint64_t get64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

uint32_t frame_checksum(uint64_t seq, std::string_view payload) {
  unsigned char seq_bytes[8];
  for (int i = 0; i < 8; ++i) seq_bytes[i] = static_cast<unsigned char>((seq >> (8 * i)) & 0xFF);
  uLong crc = crc32_z(0L, seq_bytes, sizeof(seq_bytes));
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(payload.data()), payload.size());
  return static_cast<uint32_t>(crc);
}

void append_frame(std::string& out, uint64_t seq, std::string_view payload) {
  put32(out, kFrameMagic);
  put32(out, static_cast<uint32_t>(payload.size()));
  put64(out, seq);
  put32(out, frame_checksum(seq, payload));
  out.append(payload);
}

FrameHeader decode_header(const char* bytes) {
  FrameHeader h;
  h.magic = get32(bytes);
  h.length = get32(bytes + 4);
  h.seq = get64(bytes + 8);
  h.crc = get32(bytes + 16);
  return h;
}

bool header_plausible(const FrameHeader& h) { return h.magic == kFrameMagic && h.length <= kMaxPayloadBytes; }

}  // namespace touchpoint::core::journal
