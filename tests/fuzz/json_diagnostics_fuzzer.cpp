// JSON diagnostics (plugins/common/tp_common/json_diagnostics.*): the strict checker
// that locates what simdjson refused, and array_element_offset.
//
// Input: one byte picking max_depth, then the JSON text.
// Invariants:
//  - find_json_problem never crashes; a problem has a reason and an offset
//    within the text (== size only for "truncated"/empty documents);
//  - it agrees with simdjson (parsed with max_depth + 1, as BodyParser
//    allocates it) on whether the text is one valid JSON document: the body
//    parser reports the checker's reason and position for what simdjson
//    refuses, so every disagreement is a wrong or position-less 4xx message;
//  - for a valid array, array_element_offset(i) is the offset of element i
//    (a byte that starts a value of the element's type) for every i, in
//    increasing order, and npos past the end.
#include <simdjson.h>

#include <string>

#include "fuzz_util.hpp"
#include "tp_common/json_diagnostics.hpp"

using namespace tp_common;

namespace {

bool starts_value_of_type(char c, simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY:
      return c == '[';
    case T::OBJECT:
      return c == '{';
    case T::STRING:
      return c == '"';
    case T::BOOL:
      return c == 't' || c == 'f';
    case T::NULL_VALUE:
      return c == 'n';
    case T::INT64:
    case T::UINT64:
    case T::DOUBLE:
      return c == '-' || (c >= '0' && c <= '9');
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr size_t kDepths[] = {64, 1, 2, 3, 0, 16, 64, 1024};
  const size_t max_depth = kDepths[data[0] & 7];
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::optional<JsonProblem> problem = find_json_problem(text, max_depth);
  if (problem) {
    FUZZ_CHECK(!problem->reason.empty(), "problem without a reason");
    FUZZ_CHECK(problem->offset <= text.size(), "offset %zu > size %zu", problem->offset, text.size());
    if (problem->offset == text.size() && !text.empty())
      FUZZ_CHECK(
          problem->reason.find("truncated") != std::string::npos || problem->reason.find("empty") != std::string::npos,
          "problem at the end that is not truncation: %s", problem->reason.c_str());
  }

  static simdjson::dom::parser parsers[8];
  simdjson::dom::parser& parser = parsers[data[0] & 7];
  if (parser.max_depth() != max_depth + 1) {
    FUZZ_CHECK(parser.allocate(64 * 1024, max_depth + 1) == simdjson::SUCCESS, "simdjson allocate");
  }
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  const simdjson::error_code err = parser.parse(padded).get(root);
  if (err == simdjson::CAPACITY || err == simdjson::MEMALLOC) return 0;  // not a property of the text

  if (err == simdjson::SUCCESS) {
    FUZZ_CHECK(!problem, "simdjson accepts the document, the checker reports '%s' at %zu", problem->reason.c_str(),
               problem->offset);
  } else {
    FUZZ_CHECK(problem.has_value(), "simdjson refuses the document (%s), the checker finds no problem",
               simdjson::error_message(err));
  }

  if (err == simdjson::SUCCESS && root.is_array()) {
    const size_t first = text.find_first_not_of(" \t\r\n");
    size_t index = 0, last = 0;
    simdjson::dom::array array = root.get_array().value_unsafe();
    for (simdjson::dom::element item : array) {
      if (index == 64) break;  // each call scans from the start: keep it linear-ish
      const size_t at = array_element_offset(text, first, index);
      FUZZ_CHECK(at != std::string_view::npos && at < text.size(), "element %zu has no offset", index);
      FUZZ_CHECK(index == 0 || at > last, "element %zu at %zu, not after %zu", index, at, last);
      FUZZ_CHECK(starts_value_of_type(text[at], item.type()), "element %zu: offset %zu ('%c') is not its start", index,
                 at, text[at]);
      last = at;
      ++index;
    }
    if (index == array.size())
      FUZZ_CHECK(array_element_offset(text, first, index) == std::string_view::npos, "offset for element %zu of %zu",
                 index, index);
  }
  return 0;
}
