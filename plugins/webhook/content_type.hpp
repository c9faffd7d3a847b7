// Which request Content-Types the webhook reads as JSON / NDJSON.
#ifndef TOUCHPOINT_WEBHOOK_CONTENT_TYPE_HPP
#define TOUCHPOINT_WEBHOOK_CONTENT_TYPE_HPP

#include <string_view>

namespace touchpoint::webhook {

/// True for a missing (empty) header and for application/json, text/json,
/// application/<anything>+json, application/x-ndjson, application/ndjson,
/// application/jsonl, application/x-jsonlines and text/plain, in any case and
/// with any parameters (charset=...). Everything else (forms, multipart,
/// HTML, XML, octet-stream, ...) is answered with 415.
bool is_accepted_content_type(std::string_view value) noexcept;

}  // namespace touchpoint::webhook

#endif  // TOUCHPOINT_WEBHOOK_CONTENT_TYPE_HPP
