// Error positions for JSON that simdjson rejected. simdjson says *what* is
// wrong but not *where*; this strict single-pass checker runs only on the
// error path and finds the byte offset of the first problem.
#ifndef TP_COMMON_JSON_DIAGNOSTICS_HPP
#define TP_COMMON_JSON_DIAGNOSTICS_HPP

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tp_common {

struct JsonProblem {
  size_t offset = 0;   ///< byte offset of the first offending byte (input size when truncated)
  std::string reason;  ///< e.g. "invalid UTF-8", "unexpected end of JSON (truncated)"
};

/// Returns the first problem of `text` as one JSON document, or nullopt when
/// the document is valid. Containers nested more than `max_depth` levels are
/// a problem; empty containers do not count as a level (as in simdjson).
std::optional<JsonProblem> find_json_problem(std::string_view text, size_t max_depth);

/// Byte offset of element `index` of the (valid) JSON array that starts at
/// `array_offset` in `text`, or npos.
size_t array_element_offset(std::string_view text, size_t array_offset, size_t index) noexcept;

}  // namespace tp_common

#endif  // TP_COMMON_JSON_DIAGNOSTICS_HPP
