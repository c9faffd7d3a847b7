#pragma once
// The ABI's strings and error buffers, as the hub's side of the boundary
// handles them (plugin instances, the process proxy, the plugin host).

#include <touchpoint/abi.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace touchpoint::core {

inline std::string_view view_of(tp_str s) {
  return s.len && s.data ? std::string_view(s.data, s.len) : std::string_view();
}

/// Borrowed: valid while `s` is.
inline tp_str str_of(std::string_view s) { return tp_str{s.data(), s.size()}; }

/// Writes `message` into the caller's buffer, cut at its capacity.
inline void set_error(tp_error* err, std::string_view message) {
  if (err == nullptr || err->message == nullptr || err->capacity == 0) return;
  const size_t n = std::min(message.size(), err->capacity);
  std::memcpy(err->message, message.data(), n);
  err->len = n;
}

}  // namespace touchpoint::core
