#include "journal/unit_codec.hpp"

#include <stdexcept>

namespace touchpoint::core::journal {
namespace {

constexpr uint8_t kVersion = 1;

void put_u32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  out.append(b, 4);
}
void put_i64(std::string& out, int64_t s) {
  auto v = static_cast<uint64_t>(s);
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  out.append(b, 8);
}
void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

class Cursor {
 public:
  explicit Cursor(std::string_view in) : in_(in) {}
  uint8_t u8() {
    need(1);
    return static_cast<uint8_t>(in_[pos_++]);
  }
  uint32_t u32() {
    need(4);
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in_[pos_ + static_cast<size_t>(i)]);
    pos_ += 4;
    return v;
  }
  int64_t i64() {
    need(8);
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in_[pos_ + static_cast<size_t>(i)]);
    pos_ += 8;
    return static_cast<int64_t>(v);
  }
  std::string_view str() {
    uint32_t n = u32();
    need(n);
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  /// A count that cannot possibly fit in the remaining bytes is corruption.
  uint32_t count(size_t min_item_bytes) {
    uint32_t n = u32();
    if (static_cast<uint64_t>(n) * min_item_bytes > in_.size() - pos_)
      throw std::runtime_error("journal unit: count exceeds payload");
    return n;
  }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  void need(size_t n) const {
    if (in_.size() - pos_ < n) throw std::runtime_error("journal unit: truncated payload");
  }
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

UnitEncoder::UnitEncoder(std::string_view source, std::string_view cursor, int64_t received_ms, uint32_t record_count) {
  out_.push_back(static_cast<char>(kVersion));
  put_str(out_, source);
  put_str(out_, cursor);
  put_i64(out_, received_ms);
  put_u32(out_, record_count);
}

void UnitEncoder::add_record(std::string_view id, std::string_view type, std::string_view key, int64_t ts_ms,
                             std::string_view data, std::string_view meta) {
  put_str(out_, id);
  put_str(out_, type);
  put_str(out_, key);
  put_i64(out_, ts_ms);
  put_str(out_, data);
  put_str(out_, meta);
}

void UnitEncoder::begin_rejects(uint32_t count) {
  rejects_started_ = true;
  put_u32(out_, count);
}

void UnitEncoder::add_reject(std::string_view raw, std::string_view reason, std::string_view location) {
  put_str(out_, raw);
  put_str(out_, reason);
  put_str(out_, location);
}

std::string UnitEncoder::finish() {
  if (!rejects_started_) put_u32(out_, 0);
  return std::move(out_);
}

UnitHeader decode_unit_header(std::string_view payload) {
  Cursor c(payload);
  if (c.u8() != kVersion) throw std::runtime_error("journal unit: unknown version");
  UnitHeader h;
  h.source = c.str();
  h.cursor = c.str();
  return h;
}

UnitView decode_unit(std::string_view payload) {
  Cursor c(payload);
  if (c.u8() != kVersion) throw std::runtime_error("journal unit: unknown version");
  UnitView u;
  u.source = c.str();
  u.cursor = c.str();
  u.received_ms = c.i64();
  uint32_t n = c.count(5 * 4 + 8);
  u.records.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    RecordView r;
    r.id = c.str();
    r.type = c.str();
    r.key = c.str();
    r.ts_ms = c.i64();
    r.data = c.str();
    r.meta = c.str();
    u.records.push_back(r);
  }
  uint32_t m = c.count(3 * 4);
  u.rejects.reserve(m);
  for (uint32_t i = 0; i < m; ++i) {
    RejectView r;
    r.raw = c.str();
    r.reason = c.str();
    r.location = c.str();
    u.rejects.push_back(r);
  }
  if (!c.at_end()) throw std::runtime_error("journal unit: trailing bytes");
  return u;
}

}  // namespace touchpoint::core::journal
