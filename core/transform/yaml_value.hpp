#pragma once
// Turns YAML values from pipeline files into JSON values for record data.
//
// yaml-cpp leaves scalars untyped, so plain (unquoted) scalars are resolved
// with the YAML 1.2 core schema: null/Null/NULL/~/empty -> null,
// true/false (also True/TRUE/...) -> boolean, integers (decimal, 0o octal,
// 0x hex) -> integer, floats -> number. Quoted scalars and !!str stay strings,
// so `"1"` is the string "1" while `1` is the number 1.

#include "config/config_error.hpp"
#include "record/record.hpp"

namespace touchpoint::core::transform {

/// Converts a scalar, map or sequence; throws ConfigError at the offending
/// node (non-finite numbers such as .inf have no JSON form, unknown tags).
Json yaml_to_json(const YAML::Node& node, const ConfigSource& source);

}  // namespace touchpoint::core::transform
