// core/record/json_text.*: the store's JSON writer must write exactly what
// nlohmann's dump(-1, ' ', false, replace) writes, for any value, since
// stored rows are compared and hashed as text.
//
// Input: arbitrary bytes, used three ways:
//  - as one string (any bytes: invalid UTF-8, control characters, quotes),
//    as a string value and as an object key;
//  - split at the first NUL into a key and a value of a small object;
//  - parsed as JSON text (numbers, nesting, escapes) when nlohmann accepts it.
// Invariant: append_json / append_json_string == dump, byte for byte.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "record/json_text.hpp"

namespace {

using touchpoint::core::Json;

std::string reference(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); }

void expect_same(const Json& v) {
  const std::string ours = touchpoint::core::json_text(v);
  const std::string theirs = reference(v);
  if (ours != theirs) {
    std::fprintf(stderr, "json_text differs from dump:\n ours:   %s\n theirs: %s\n", ours.c_str(), theirs.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);

  std::string literal;
  touchpoint::core::append_json_string(literal, bytes);
  if (literal != reference(Json(bytes))) {
    std::fprintf(stderr, "append_json_string differs from dump\n");
    std::abort();
  }
  expect_same(Json(bytes));
  expect_same(Json::object({{bytes, bytes}}));

  const size_t nul = bytes.find('\0');
  if (nul != std::string::npos)
    expect_same(Json::object({{bytes.substr(0, nul), Json::array({bytes.substr(nul + 1), 1, -2, 0.5, nullptr})}}));

  const Json parsed = Json::parse(bytes, nullptr, false);
  if (!parsed.is_discarded()) expect_same(parsed);
  return 0;
}
