#pragma once
// Compact JSON text of a Json value, byte for byte what
// `dump(-1, ' ', false, Json::error_handler_t::replace)` writes, appended to
// a buffer. The store writes every record and every changed profile as text;
// nlohmann's serializer decodes UTF-8 one byte at a time, and that was the
// largest single cost of the store thread (bench/README.md, "Where the time
// goes"). Strings that need no escaping and are valid UTF-8 (checked by
// simdjson) are copied whole; anything else goes to nlohmann's serializer, so
// the two cannot disagree on odd input.

#include <string>
#include <string_view>

#include "record/record.hpp"

namespace touchpoint::core {

/// Appends `v` as compact JSON (invalid UTF-8 becomes U+FFFD, as with replace).
void append_json(std::string& out, const Json& v);
/// Appends a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s);
/// The compact text of `v`.
std::string json_text(const Json& v);

}  // namespace touchpoint::core
