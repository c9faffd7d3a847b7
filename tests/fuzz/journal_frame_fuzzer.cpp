// Journal frame codec (core/journal/frame.*).
//
// Invariants:
//  - decode_header of any 20 bytes never reads past them, and header_plausible
//    is exactly "magic matches and length <= kMaxPayloadBytes";
//  - append_frame appends exactly 20 + |payload| bytes and leaves what was in
//    the buffer alone; decode_header gives back (magic, |payload|, seq, crc)
//    and the crc is frame_checksum(seq, payload), which equals one CRC-32 over
//    the little-endian seq followed by the payload;
//  - the frame verifies as written, and no longer verifies after one flipped
//    bit anywhere in it, nor after any error burst of up to 32 bits in the
//    checksummed bytes (CRC-32 detects all of those).
#include <fuzzer/FuzzedDataProvider.h>
#include <zlib.h>

#include <cstring>
#include <string>

#include "fuzz_util.hpp"
#include "journal/frame.hpp"

using namespace touchpoint::core::journal;

namespace {

// What SegmentScanner accepts: a plausible header whose length matches the
// bytes that follow and whose checksum matches.
bool verifies(const std::string& frame) {
  if (frame.size() < kFrameHeaderBytes) return false;
  FrameHeader h = decode_header(frame.data());
  if (!header_plausible(h)) return false;
  if (frame.size() - kFrameHeaderBytes != h.length) return false;
  return frame_checksum(h.seq, std::string_view(frame).substr(kFrameHeaderBytes)) == h.crc;
}

uint32_t le32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // 1. Arbitrary header bytes.
  if (size >= kFrameHeaderBytes) {
    const char* p = reinterpret_cast<const char*>(data);
    FrameHeader h = decode_header(p);
    FUZZ_CHECK(h.magic == le32(p) && h.length == le32(p + 4) && h.crc == le32(p + 16), "decode_header fields");
    uint64_t seq = static_cast<uint64_t>(le32(p + 8)) | (static_cast<uint64_t>(le32(p + 12)) << 32);
    FUZZ_CHECK(h.seq == seq, "decode_header seq");
    FUZZ_CHECK(header_plausible(h) == (h.magic == kFrameMagic && h.length <= kMaxPayloadBytes), "header_plausible");
  }

  // 2. Encode (seq, payload) after an existing prefix, decode, verify, corrupt.
  FuzzedDataProvider fdp(data, size);
  const uint64_t seq = fdp.ConsumeIntegral<uint64_t>();
  const size_t prefix_len = fdp.ConsumeIntegralInRange<size_t>(0, 40);
  const uint32_t flip_at = fdp.ConsumeIntegral<uint32_t>();
  const uint32_t burst_at = fdp.ConsumeIntegral<uint32_t>();
  uint32_t burst = fdp.ConsumeIntegral<uint32_t>();
  const std::string payload = fdp.ConsumeRemainingBytesAsString();

  std::string out(prefix_len, '\x5A');
  append_frame(out, seq, payload);
  FUZZ_CHECK(out.size() == prefix_len + kFrameHeaderBytes + payload.size(), "frame size %zu", out.size());
  FUZZ_CHECK(out.compare(0, prefix_len, std::string(prefix_len, '\x5A')) == 0, "append_frame changed the prefix");
  std::string frame = out.substr(prefix_len);
  FrameHeader h = decode_header(frame.data());
  FUZZ_CHECK(h.magic == kFrameMagic, "magic");
  FUZZ_CHECK(h.length == payload.size(), "length %u != %zu", h.length, payload.size());
  FUZZ_CHECK(h.seq == seq, "seq");
  FUZZ_CHECK(header_plausible(h), "own header not plausible");
  FUZZ_CHECK(frame.compare(kFrameHeaderBytes, std::string::npos, payload) == 0, "payload bytes differ");
  FUZZ_CHECK(h.crc == frame_checksum(seq, payload), "crc field != frame_checksum");

  unsigned char seq_le[8];
  for (int i = 0; i < 8; ++i) seq_le[i] = static_cast<unsigned char>(seq >> (8 * i));
  std::string message(reinterpret_cast<const char*>(seq_le), 8);
  message += payload;
  uint32_t one_pass =
      static_cast<uint32_t>(crc32_z(0L, reinterpret_cast<const Bytef*>(message.data()), message.size()));
  FUZZ_CHECK(one_pass == h.crc, "checksum is not CRC-32(seq_le || payload)");
  FUZZ_CHECK(verifies(frame), "frame as written does not verify");

  // One flipped bit anywhere in the frame (magic, length, seq, crc or payload).
  {
    std::string bad = frame;
    size_t bit = flip_at % (bad.size() * 8);
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1u << (bit % 8)));
    FUZZ_CHECK(!verifies(bad), "frame with bit %zu flipped still verifies", bit);
  }
  // A burst of up to 32 bits in seq || payload (the checksummed bytes).
  if (burst == 0) burst = 1;
  {
    std::string bad = frame;
    // Message index r is seq byte r (frame offset 8 + r) or payload byte r - 8 (offset 20 + r - 8).
    const size_t region = 8 + payload.size();
    const size_t start = burst_at % region;
    for (size_t k = 0; k < 4 && start + k < region; ++k) {
      size_t r = start + k;
      size_t at = r < 8 ? 8 + r : kFrameHeaderBytes + (r - 8);
      bad[at] = static_cast<char>(bad[at] ^ static_cast<char>(burst >> (8 * k)));
    }
    if (bad != frame) FUZZ_CHECK(!verifies(bad), "frame with a burst at %zu still verifies", start);
  }
  return 0;
}
