#pragma once
// The text form of a JSON value for transforms that work on strings (hash,
// mask, writes into envelope fields): strings as they are, numbers as JSON
// prints them ("42", "3.5"). Anything else has no text form.

#include <string>

#include "record/record.hpp"

namespace touchpoint::core::transform {

/// Returns the value's own string, or `scratch` filled with a number's text,
/// or nullptr for null, booleans, objects and arrays. Never copies strings.
inline const std::string* text_form(const Json& value, std::string& scratch) {
  if (value.is_string()) return &value.get_ref<const std::string&>();
  if (value.is_number()) {
    scratch = value.dump();
    return &scratch;
  }
  return nullptr;
}

}  // namespace touchpoint::core::transform
