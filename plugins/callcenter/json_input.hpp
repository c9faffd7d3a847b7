// Dispositions in JSON: a webhook body or one line of a JSON-lines file, parsed
// with simdjson under a small nesting limit (a disposition is flat).
#ifndef TOUCHPOINT_CALLCENTER_JSON_INPUT_HPP
#define TOUCHPOINT_CALLCENTER_JSON_INPUT_HPP

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "disposition.hpp"

namespace touchpoint::callcenter {

inline constexpr size_t kMaxJsonDepth = 16;

struct JsonInputError {
  std::string message;
  long index = -1;  ///< the disposition in a list, -1 for the document
};

/// One JSON object -> its fields.
std::variant<Fields, JsonInputError> parse_json_object(std::string_view json);

/// A webhook body: one disposition object, an array of them, or {"dispositions": [...]};
/// at most `max_items`.
std::variant<std::vector<Fields>, JsonInputError> parse_json_body(std::string_view body, size_t max_items);

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_JSON_INPUT_HPP
