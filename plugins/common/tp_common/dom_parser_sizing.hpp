// How the body parsers size their per-thread simdjson parser: one initial
// allocation, grown by simdjson for larger bodies, and given back after a rare
// huge body instead of being kept per thread forever.
#ifndef TP_COMMON_DOM_PARSER_SIZING_HPP
#define TP_COMMON_DOM_PARSER_SIZING_HPP

#include <simdjson.h>

#include <cstddef>
#include <new>

namespace tp_common {

/// (Re)allocates `parser` when `max_depth` changed (tracked in `depth`) or it
/// grew past what is worth keeping. Throws std::bad_alloc.
inline void size_dom_parser(simdjson::dom::parser& parser, size_t& depth, size_t max_depth) {
  constexpr size_t kInitialCapacity = 64 * 1024;
  constexpr size_t kRetainedCapacity = 4 * 1024 * 1024;
  if (depth == max_depth && parser.capacity() <= kRetainedCapacity) return;
  // simdjson counts one more level than we do for objects (see json_diagnostics.hpp).
  if (parser.allocate(kInitialCapacity, max_depth + 1) != simdjson::SUCCESS) throw std::bad_alloc();
  depth = max_depth;
}

}  // namespace tp_common

#endif  // TP_COMMON_DOM_PARSER_SIZING_HPP
