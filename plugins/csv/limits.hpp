// The csv connector's size limits, derived from the host's (abi.h TP_MAX_*), so that every
// unit it emits is one the hub accepts: a row that would break a host limit becomes a reject.
#ifndef TOUCHPOINT_CSV_LIMITS_HPP
#define TOUCHPOINT_CSV_LIMITS_HPP

#include <touchpoint/abi.h>

#include <cstddef>

namespace touchpoint::csv {

/// Largest allowed `max_row_bytes`, and its default: half the host's record limit, so a
/// row at the limit still fits as a record unless its JSON form more than doubles it
/// (each record's built size is checked as well; see FileSource).
inline constexpr size_t kMaxRowBytesLimit = TP_MAX_RECORD_BYTES / 2;
inline constexpr size_t kMinRowBytes = 1024;
inline constexpr size_t kDefaultMaxRowBytes = kMaxRowBytesLimit;

/// Largest `raw` kept in a reject; longer input is cut (at a UTF-8 boundary).
inline constexpr size_t kMaxRejectRaw = size_t{64} << 10;
/// Largest `reason` of a reject (reasons quote column names, which come from the file).
inline constexpr size_t kMaxRejectReason = size_t{4} << 10;
/// Largest `location` of a reject ("<file>:<line>"; file names have at most 255 bytes).
inline constexpr size_t kMaxRejectLocation = 4096;
/// Largest host message quoted in the rejects made from a refused unit.
inline constexpr size_t kMaxHostMessage = size_t{1} << 10;

/// A unit ends once its records and rejects cost this many bytes, counted as the host
/// counts them for TP_MAX_UNIT_BYTES (strings + TP_UNIT_RECORD_OVERHEAD each).
inline constexpr size_t kMaxBatchBytes = size_t{16} << 20;

/// The most one record or one reject can cost in a unit (records are checked against the
/// id, key and record limits and the type against the type limit; rejects are cut).
inline constexpr size_t kMaxItemCost =
    TP_MAX_ID_BYTES + TP_MAX_TYPE_BYTES + TP_MAX_KEY_BYTES + TP_MAX_RECORD_BYTES + TP_UNIT_RECORD_OVERHEAD;
inline constexpr size_t kMaxRejectBytes = kMaxRejectRaw + kMaxRejectReason + kMaxRejectLocation;
static_assert(kMaxRejectBytes <= TP_MAX_REJECT_BYTES);
static_assert(kMaxRejectBytes + TP_UNIT_RECORD_OVERHEAD <= kMaxItemCost);
// A unit stops growing at kMaxBatchBytes, so it holds less than that plus one more item,
// plus its cursor: always within the host's unit limit.
static_assert(kMaxBatchBytes + kMaxItemCost + TP_MAX_CURSOR_BYTES <= TP_MAX_UNIT_BYTES);

}  // namespace touchpoint::csv

#endif  // TOUCHPOINT_CSV_LIMITS_HPP
