#pragma once
// On-disk frame of one journal entry:
//   u32 magic 'TPJ1' | u32 payload length | u64 sequence | u32 crc32(seq, payload) | payload
// Little-endian. The checksum covers the sequence number too, so a frame
// copied to the wrong place is detected as well as flipped bits.

#include <cstdint>
#include <string>
#include <string_view>

namespace touchpoint::core::journal {

inline constexpr uint32_t kFrameMagic = 0x314A5054u;  // "TPJ1"
inline constexpr size_t kFrameHeaderBytes = 20;
inline constexpr uint32_t kMaxPayloadBytes = 256u << 20;

struct FrameHeader {
  uint32_t magic = 0;
  uint32_t length = 0;
  uint64_t seq = 0;
  uint32_t crc = 0;
};

uint32_t frame_checksum(uint64_t seq, std::string_view payload);

/// Appends a complete frame for (seq, payload) to out.
void append_frame(std::string& out, uint64_t seq, std::string_view payload);

/// Decodes a header from kFrameHeaderBytes bytes.
FrameHeader decode_header(const char* bytes);

/// True when the header is plausible (magic, length bound).
bool header_plausible(const FrameHeader& h);

}  // namespace touchpoint::core::journal
