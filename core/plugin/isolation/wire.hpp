#pragma once
// The framing between the hub and a plugin process (touchpoint-plugin-host),
// over one stream socketpair. Every message is one frame:
//   u32 length of the rest | u8 kind | u64 id | payload
// little-endian; strings are u32 length + bytes. Units a source emits travel
// in the journal's own unit encoding (journal/unit_codec.hpp), so the bytes
// that cross the process boundary are the bytes the hub journals.
//
// Calls from the hub carry an id; the host answers each with one `reply`
// frame of the same id (i32 status, str error, then what the verb returns).
// Requests from the plugin side (emit, config_get) are answered the same way
// in the other direction. log/counter/gauge/emit_done are one-way.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace touchpoint::core::isolation {

enum class Kind : uint8_t {
  // hub -> plugin host
  validate = 1,
  open = 2,
  read = 3,
  write = 4,
  check = 5,
  discover = 6,
  commit = 7,
  erase = 8,
  close = 9,
  emit_result = 10,   // answer to emit: i32 status, str error
  emit_done = 11,     // the unit with this id is durable or refused: i32 status, str message
  config_value = 12,  // answer to config_get: i32 status, str value
  // plugin host -> hub
  hello = 32,  // after loading: str name, version, description, u32 abi, u64 caps, u32 verbs
  reply = 33,
  emit = 34,  // str unit (journal unit encoding)
  log = 35,   // i32 level, str message
  counter = 36,
  gauge = 37,  // str name, str labels, f64 value
  config_get = 38,
  load_failed = 39,  // str reason; the host exits after sending it
};

/// Which optional verbs the plugin implements (hello's verbs bit set).
enum VerbBit : uint32_t {
  kHasValidate = 1,
  kHasCheck = 2,
  kHasDiscover = 4,
  kHasRead = 8,
  kHasWrite = 16,
  kHasCommit = 32,
  kHasErase = 64,
};

/// A frame may carry a whole unit (TP_MAX_UNIT_BYTES) plus its framing.
inline constexpr uint32_t kMaxFrameBytes = 80u * 1024u * 1024u;

class WireError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Frame {
  Kind kind{};
  uint64_t id = 0;
  std::string payload;
};

class Writer {
 public:
  Writer& u8(uint8_t v);
  Writer& u32(uint32_t v);
  Writer& u64(uint64_t v);
  Writer& i32(int32_t v) { return u32(static_cast<uint32_t>(v)); }
  Writer& i64(int64_t v) { return u64(static_cast<uint64_t>(v)); }
  Writer& f64(double v);
  Writer& str(std::string_view s);
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

/// Reads a payload; throws WireError when it ends early.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint8_t u8();
  uint32_t u32();
  uint64_t u64();
  int32_t i32() { return static_cast<int32_t>(u32()); }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  double f64();
  std::string_view str();
  bool done() const noexcept { return pos_ == in_.size(); }

 private:
  std::string_view take(size_t n);
  std::string_view in_;
  size_t pos_ = 0;
};

/// A reply's payload: i32 status, str error, then what the verb returns.
struct ReplyView {
  int32_t status = 0;
  std::string_view error, rest;
};
/// Views into `payload`; throws WireError when it is too short.
ReplyView parse_reply(std::string_view payload);

/// Writes one whole frame (blocking, EINTR-safe, no SIGPIPE). False when the
/// peer is gone.
bool send_frame(int fd, Kind kind, uint64_t id, std::string_view payload);
/// Reads one whole frame. nullopt on a clean end of stream or a broken peer;
/// throws WireError on a frame over kMaxFrameBytes.
std::optional<Frame> recv_frame(int fd);

}  // namespace touchpoint::core::isolation
