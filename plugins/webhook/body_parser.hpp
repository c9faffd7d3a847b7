// Request body -> records. A pure, synchronous transformation on top of
// simdjson's DOM parser, independent of HTTP and of the host.
//
// Accepted bodies: one JSON object, a JSON array of objects, or NDJSON (one
// object per line, blank lines ignored). Each object becomes one record:
//  - an object with an object member "data" is an envelope: id, type, key
//    (strings), ts (integer ms or RFC 3339 string), data and meta are taken
//    from it;
//  - any other object is the record's data; its id is the (string or integer)
//    value of the configured id field, else Segment's "messageId"; its key the
//    value of the configured key field.
// Record payloads are re-serialized (minified) by simdjson, so each holds
// exactly one JSON object.
#ifndef TOUCHPOINT_WEBHOOK_BODY_PARSER_HPP
#define TOUCHPOINT_WEBHOOK_BODY_PARSER_HPP

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace touchpoint::webhook {

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

  void clear() noexcept {
    arena.clear();
    records.clear();
  }
  std::string_view view(Slice s) const noexcept { return std::string_view(arena.data() + s.offset, s.length); }
};

struct ParseError {
  std::string message;
  size_t position = 0;  ///< byte offset into the body, or the 1-based line number when `line`
  bool line = false;    ///< true for NDJSON bodies
};

struct ParseOptions {
  std::string_view default_type = "event";
  std::string_view id_field = "id";
  std::string_view key_field;  ///< empty: records get no key (unless an envelope says so)
  size_t max_records = 100000;
  size_t max_depth = 64;  ///< nesting levels of objects/arrays allowed in a document
};

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

  /// Same for an arbitrary buffer: copies it into a padded one first.
  std::optional<ParseError> parse(std::string_view body, const ParseOptions& options, ParsedBatch& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace touchpoint::webhook

#endif  // TOUCHPOINT_WEBHOOK_BODY_PARSER_HPP
