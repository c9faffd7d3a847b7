#pragma once
// Checks a record a plugin hands to the host before it is journaled: the
// journal must only ever hold records the applier can process.

#include <touchpoint/abi.h>

#include <string>
#include <string_view>

namespace touchpoint::core {

inline std::string_view view_of(tp_str s) {
  return s.len && s.data ? std::string_view(s.data, s.len) : std::string_view();
}

inline constexpr size_t kMaxIdBytes = 256;
inline constexpr size_t kMaxRecordBytes = 16u << 20;

/// data: one JSON object (valid UTF-8, depth-limited); meta: empty or a JSON
/// object; id/type/key: bounded, valid UTF-8; encoding: JSON. Thread-safe.
bool validate_record(const tp_record& r, std::string& problem);

}  // namespace touchpoint::core
