// Request body -> records. A pure, synchronous transformation on top of
// simdjson's DOM parser, independent of HTTP and of the host.
//
// Accepted bodies: one JSON object, a JSON array of objects, or NDJSON (one
// object per line, blank lines ignored). Each object becomes one record:
//  - an object with an object member "data" is an envelope: id, type, key
//    (strings), ts (integer ms or RFC 3339 string), data and meta are taken
//    from it; an envelope without a key (or with an empty one) takes the
//    (string or integer) value of the configured key field of its data;
//  - any other object is the record's data; its id is the (string or integer)
//    value of the configured id field, else Segment's "messageId"; its key the
//    value of the configured key field.
// Record payloads are re-serialized (minified) by simdjson, so each holds
// exactly one JSON object.
//
// A record without an explicit id gets a deterministic one (see
// ParseOptions::idempotency_key), so a retried request yields the same ids.
// Every record is checked against the host's limits (touchpoint/abi.h) while
// the batch is built, so a batch that parses is one the host accepts.
#ifndef TP_COMMON_BODY_PARSER_HPP
#define TP_COMMON_BODY_PARSER_HPP

#include <touchpoint/abi.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tp_common {

/// Readable bytes parse_padded() needs after the end of the body (SIMDJSON_PADDING).
inline constexpr size_t kBodyPadding = 64;

enum class BodyFormat { json, json_array, ndjson };

/// A byte range in ParsedBatch::arena.
struct Slice {
  size_t offset = 0;
  size_t length = 0;
};

struct ParsedRecord {
  Slice id, type, key, data, meta;
  int64_t ts_ms = 0;
};

/// All records of one body. Strings live in one arena so a batch costs a
/// handful of allocations, and a reused batch none at all.
struct ParsedBatch {
  BodyFormat format = BodyFormat::json;
  std::string arena;
  std::vector<ParsedRecord> records;
  /// The unit's size as the host counts it against TP_MAX_UNIT_BYTES: every
  /// record string plus TP_UNIT_RECORD_OVERHEAD per record.
  size_t unit_bytes = 0;

  void clear() noexcept {
    arena.clear();
    records.clear();
    unit_bytes = 0;
  }
  std::string_view view(Slice s) const noexcept { return std::string_view(arena.data() + s.offset, s.length); }
};

struct ParseError {
  std::string message;
  size_t position = 0;     ///< byte offset into the body, or the 1-based line number when `line`
  bool line = false;       ///< true for NDJSON bodies
  bool too_large = false;  ///< a record or the whole unit is over the host's size limit (HTTP 413, else 400)
};

struct ParseOptions {
  std::string_view default_type = "event";
  std::string_view id_field = "id";
  /// Plain objects: the member that gives the key. Envelopes without a
  /// (non-empty) "key": the member of their "data" that gives it. Empty:
  /// only an envelope's own "key" gives one.
  std::string_view key_field;
  size_t max_records = 100000;
  size_t max_depth = 64;  ///< nesting levels of objects/arrays allowed in a document
  /// Ids of records without an explicit id (envelope id, id_field,
  /// messageId) are "<idempotency_key>:<index>", index being the record's
  /// 0-based position in the body. The key is replaced by its SHA-256 (64 hex
  /// digits) when it holds bytes outside printable ASCII or the id would be
  /// longer than max_id_bytes. Empty: "<first 32 hex digits of the body's
  /// SHA-256>:<index>".
  std::string_view idempotency_key;
  /// The host's limits; only tests lower them.
  size_t max_id_bytes = TP_MAX_ID_BYTES;
  size_t max_type_bytes = TP_MAX_TYPE_BYTES;
  size_t max_key_bytes = TP_MAX_KEY_BYTES;
  size_t max_record_bytes = TP_MAX_RECORD_BYTES;  ///< data + meta of one record
  size_t max_unit_bytes = TP_MAX_UNIT_BYTES;      ///< see ParsedBatch::unit_bytes
};

/// True when `type` is 1 to max_bytes bytes of [a-z0-9_.-] (what the host accepts).
bool is_valid_record_type(std::string_view type, size_t max_bytes = TP_MAX_TYPE_BYTES) noexcept;

/// Told about a stream's line that did not become a record.
using BadLine = std::function<void(size_t line_no, std::string_view line, std::string_view reason)>;

/// Holds simdjson's reusable parser state: use one per thread.
class BodyParser {
 public:
  BodyParser();
  ~BodyParser();
  BodyParser(const BodyParser&) = delete;
  BodyParser& operator=(const BodyParser&) = delete;

  /// Parses `body` into `out` (cleared first). The kBodyPadding bytes after
  /// body.end() must be readable (their content does not matter); no copy is
  /// made. Returns the first error, in which case `out` is unspecified.
  std::optional<ParseError> parse_padded(std::string_view body, const ParseOptions& options, ParsedBatch& out);

  /// A stream's lines (NDJSON): every line that is not a usable record goes
  /// to `bad_line` (1-based line number within `lines`, the line, the reason)
  /// and is skipped; the others become records in `out`. Padded like
  /// parse_padded. Blank lines are ignored.
  void parse_stream_padded(std::string_view lines, const ParseOptions& options, ParsedBatch& out,
                           const BadLine& bad_line);
  /// Same for an arbitrary buffer: copies it into a padded one first.
  std::optional<ParseError> parse(std::string_view body, const ParseOptions& options, ParsedBatch& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tp_common

#endif  // TP_COMMON_BODY_PARSER_HPP
