#pragma once
// The payload of one journal entry: one emit unit of one source instance.
// Encoding (little-endian, strings as u32 length + bytes):
//   u8 version(1) | str source | str cursor | i64 received_ms
//   u32 n | n x (str id | str type | str key | i64 ts_ms | str data | str meta)
//   u32 m | m x (str raw | str reason | str location)
// Decoding returns views into the payload, so the applier copies nothing it
// does not keep.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace touchpoint::core::journal {

struct RecordView {
  std::string_view id, type, key;
  int64_t ts_ms = 0;
  std::string_view data, meta;
};

struct RejectView {
  std::string_view raw, reason, location;
};

struct UnitView {
  std::string_view source;
  std::string_view cursor;
  int64_t received_ms = 0;
  std::vector<RecordView> records;
  std::vector<RejectView> rejects;
};

/// Incremental encoder: the host writes a unit without intermediate copies.
class UnitEncoder {
 public:
  UnitEncoder(std::string_view source, std::string_view cursor, int64_t received_ms, uint32_t record_count);
  void add_record(std::string_view id, std::string_view type, std::string_view key, int64_t ts_ms,
                  std::string_view data, std::string_view meta);
  void begin_rejects(uint32_t count);
  void add_reject(std::string_view raw, std::string_view reason, std::string_view location);
  /// Finishes (writes an empty reject list if begin_rejects was not called).
  std::string finish();

 private:
  std::string out_;
  bool rejects_started_ = false;
};

/// Throws std::runtime_error on a malformed payload.
UnitView decode_unit(std::string_view payload);

struct UnitHeader {
  std::string_view source;
  std::string_view cursor;
};
/// Only the source and cursor (cheap: used for every frame at start-up).
UnitHeader decode_unit_header(std::string_view payload);

}  // namespace touchpoint::core::journal
