#pragma once
// Reading transform options from YAML with positioned errors. Every helper
// here either returns a well-formed value or throws ConfigError at the node
// that is wrong, so the transforms themselves stay free of YAML plumbing.

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.hpp"
#include "transform/field_path.hpp"
#include "transform/transform.hpp"

namespace touchpoint::core::transform {

/// Where a transform accepts envelope paths (@key, @type, @id).
enum class PathScope { data_only, data_or_envelope };

/// The option map of one transform (or of a nested spec such as a require
/// field). Rejects unknown keys on construction.
class Options {
 public:
  /// `node` must be a map; `what` names the owner in messages ("normalize_email");
  /// `anchor` is where errors about the map as a whole point when the map
  /// itself is null (`- hash:` with nothing after it).
  Options(const YAML::Node& node, const YAML::Node& anchor, std::string what,
          std::initializer_list<std::string_view> known, const ConfigSource& source);

  const ConfigSource& source() const noexcept { return source_; }
  const std::string& what() const noexcept { return what_; }

  bool has(std::string_view key) const;
  /// The value node, or an undefined node when absent.
  YAML::Node get(std::string_view key) const;
  /// The value node; throws "missing required option '<key>' for <what>".
  YAML::Node required(std::string_view key) const;
  /// The key node of an option (for errors about the option as a whole).
  YAML::Node key_node(std::string_view key) const;

  std::string string(std::string_view key, std::string_view fallback) const;
  std::string required_string(std::string_view key) const;
  /// One of `choices`, returned as its index; `fallback` when absent.
  std::size_t choice(std::string_view key, std::initializer_list<std::string_view> choices, std::size_t fallback) const;
  std::size_t count(std::string_view key, std::size_t fallback) const;
  FieldPath path(std::string_view key, PathScope scope) const;
  std::vector<FieldPath> paths(std::string_view key, PathScope scope) const;

  [[noreturn]] void fail(std::string_view key, const std::string& message) const;

 private:
  YAML::Node node_;
  YAML::Node anchor_;
  std::string what_;
  const ConfigSource& source_;
};

/// Requires a map node for `what`, pointing errors at `anchor` when `node` is null.
void expect_map(const YAML::Node& node, const YAML::Node& anchor, const std::string& what, const ConfigSource& source);
/// A scalar's raw text; `what` names it in "expected a string for <what>".
std::string scalar_text(const YAML::Node& node, std::string_view what, const ConfigSource& source);
/// A field path from a scalar; `owner` names the transform for envelope errors.
FieldPath parse_path(const YAML::Node& node, PathScope scope, std::string_view owner, const ConfigSource& source);
/// A non-empty list of field paths; `what` is e.g. "remove" or "hash 'fields'".
std::vector<FieldPath> parse_path_list(const YAML::Node& node, const YAML::Node& anchor, PathScope scope,
                                       std::string_view owner, const std::string& what, const ConfigSource& source);
/// The same access for each path, for Transform::fields().
std::vector<FieldUse> uses(const std::vector<FieldPath>& paths, bool reads, bool writes);
/// "a, b, c"
std::string join(std::initializer_list<std::string_view> items);

/// What a normalize step does with a value it cannot normalize
/// (`on_invalid: reject | keep | remove`).
enum class OnInvalid { reject, keep, remove };

/// Applies the policy: keep the record as is, drop the field, or return
/// `rejection` (a reject or too_large result).
StepResult on_invalid_result(OnInvalid policy, const FieldPath& field, Record& record, StepResult rejection);

}  // namespace touchpoint::core::transform
