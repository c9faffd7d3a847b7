// Segment's tracking API (the wire format of analytics.js, analytics-node
// and RudderStack's SDKs) -> records. Pure and synchronous, like BodyParser,
// and it fills the same ParsedBatch, so the server emits both alike.
//
// Each message becomes one record (the mapping is documented in README.md):
//   identify -> `profile`: traits are the attributes, userId the key
//   track    -> `event`: event_type from the event name, properties kept
//   page     -> `event` with event_type web_visit (screen likewise)
//   group    -> `group`, alias -> `profile` linking previousId to userId
// An anonymousId becomes data.external_ids.<anonymous_system>, so the store
// links (and merges) the anonymous visitor with the customer who identifies.
// context, integrations and the message's times are kept in meta.segment.
//
// A request is all or nothing: the first bad message answers the request
// with an error that names it (batch[3].userId ...), and nothing is emitted.
#ifndef TOUCHPOINT_WEBHOOK_SEGMENT_PARSER_HPP
#define TOUCHPOINT_WEBHOOK_SEGMENT_PARSER_HPP

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tp_common/body_parser.hpp"

namespace touchpoint::webhook {

// The body parser and its parts are shared with the tcp source (plugins/common).
using namespace tp_common;

/// The endpoint a request was sent to: one message of a type, or a batch.
enum class SegmentCall { identify, track, page, screen, group, alias, batch };

/// "identify" or its one-letter form "i" (analytics.js), ..., "batch",
/// "import" and "b" -> the call; nullopt for anything else.
std::optional<SegmentCall> segment_call_of(std::string_view endpoint) noexcept;

/// Every endpoint name segment_call_of() accepts, for registering the paths.
inline constexpr std::string_view kSegmentEndpoints[] = {
    "identify", "track", "page", "screen", "group", "alias", "batch", "import", "i", "t", "p", "s", "g", "a", "b"};

struct SegmentOptions {
  SegmentCall call = SegmentCall::batch;
  /// Event names with an explicit event_type ("Order Completed" -> purchase);
  /// other names are snake-cased ("Signed Up" -> signed_up).
  const std::map<std::string, std::string, std::less<>>* event_types = nullptr;
  std::string_view anonymous_system = "web_anonymous";
  size_t max_message_bytes = 32 * 1024;  ///< one message, minified (Segment's own limit)
  size_t max_records = 100000;
  size_t max_depth = 64;
  int64_t received_ms = 0;  ///< when the request arrived (the default record time)
  /// The host's limits; only tests lower them.
  size_t max_record_bytes = TP_MAX_RECORD_BYTES;
  size_t max_unit_bytes = TP_MAX_UNIT_BYTES;
};

/// "Signed Up" -> "signed_up": ASCII letters lower-cased, digits kept, every
/// run of anything else one '_', at most 128 bytes; "track" when nothing is left.
std::string segment_event_type(std::string_view event_name);

/// Holds simdjson's reusable parser state: use one per thread.
class SegmentParser {
 public:
  SegmentParser();
  ~SegmentParser();
  SegmentParser(const SegmentParser&) = delete;
  SegmentParser& operator=(const SegmentParser&) = delete;

  /// Parses `body` into `out` (cleared first); the kBodyPadding bytes after
  /// it must be readable. `write_key` receives the body's "writeKey" (empty
  /// when it has none), for clients that send no Authorization header.
  std::optional<ParseError> parse_padded(std::string_view body, const SegmentOptions& options, ParsedBatch& out,
                                         std::string& write_key);
  /// Same for an arbitrary buffer (copied into a padded one first).
  std::optional<ParseError> parse(std::string_view body, const SegmentOptions& options, ParsedBatch& out,
                                  std::string& write_key);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace touchpoint::webhook

#endif  // TOUCHPOINT_WEBHOOK_SEGMENT_PARSER_HPP
