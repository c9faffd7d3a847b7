#pragma once
// Checks what a plugin hands to the host before it is journaled: the journal
// must only ever hold units the applier can process, and every limit is
// enforced here, before the source is acknowledged, never after.

#include <touchpoint/abi.h>

#include <string>
#include <string_view>

#include "plugin/abi_strings.hpp"

namespace touchpoint::core {

inline constexpr size_t kMaxIdBytes = TP_MAX_ID_BYTES;
inline constexpr size_t kMaxRecordBytes = TP_MAX_RECORD_BYTES;

/// data: one JSON object (valid UTF-8, depth-limited); meta: empty or a JSON
/// object; id/type/key: bounded, valid UTF-8; encoding: JSON. Thread-safe.
bool validate_record(const tp_record& r, std::string& problem);

/// The shape of an emit() call: a unit large enough to hold a cursor, a
/// done callback, arrays where the counts say there are elements, counts
/// that fit the journal's u32. Checked before anything else is read.
bool validate_emit_shape(const tp_emit* unit, tp_emit_done_fn done, std::string& problem);

/// validate_emit_shape, then validate_unit_size: what the host checks before
/// it reads a single record of an emit() call.
bool validate_emit(const tp_emit* unit, tp_emit_done_fn done, std::string& problem);

/// The size limits of a whole unit (TP_MAX_UNIT_BYTES, TP_MAX_REJECT_BYTES,
/// TP_MAX_CURSOR_BYTES), checked before any record is parsed. `records` and
/// `rejects` must be valid for their counts.
bool validate_unit_size(const tp_emit& unit, std::string& problem);

/// Replaces invalid UTF-8 sequences by U+FFFD. Rejects carry bad input by
/// definition; they are kept (lossy where needed), never refused for it.
std::string sanitize_utf8(std::string_view s);

}  // namespace touchpoint::core
