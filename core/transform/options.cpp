#include "transform/options.hpp"

#include <stdexcept>

namespace touchpoint::core::transform {
namespace {

const YAML::Node& position(const YAML::Node& node, const YAML::Node& anchor) {
  // Null values (`- hash:` with nothing after it) carry the mark of the
  // following token, which would point the admin at the wrong line.
  return node.IsDefined() && !node.IsNull() ? node : anchor;
}

}  // namespace

std::string join(std::initializer_list<std::string_view> items) {
  std::string out;
  for (std::string_view item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

void expect_map(const YAML::Node& node, const YAML::Node& anchor, const std::string& what, const ConfigSource& source) {
  if (!node.IsMap()) source.fail(position(node, anchor), "options for " + what + " must be a map");
}

std::string scalar_text(const YAML::Node& node, std::string_view what, const ConfigSource& source) {
  if (!node.IsScalar()) source.fail(node, "expected a string for " + std::string(what));
  return node.Scalar();
}

FieldPath parse_path(const YAML::Node& node, PathScope scope, std::string_view owner, const ConfigSource& source) {
  std::string text = scalar_text(node, "a field path", source);
  FieldPath path;
  try {
    path = FieldPath::parse(text);
  } catch (const std::invalid_argument& e) {
    source.fail(node, e.what());
  }
  if (path.is_envelope() && scope == PathScope::data_only) {
    source.fail(node, std::string(owner) + " works on data fields only, not '" + text + "'");
  }
  return path;
}

std::vector<FieldPath> parse_path_list(const YAML::Node& node, const YAML::Node& anchor, PathScope scope,
                                       std::string_view owner, const std::string& what, const ConfigSource& source) {
  if (!node.IsSequence()) source.fail(position(node, anchor), "expected a list of field paths for " + what);
  if (node.size() == 0) source.fail(node, "empty field list for " + what);
  std::vector<FieldPath> out;
  out.reserve(node.size());
  for (const YAML::Node& item : node) out.push_back(parse_path(item, scope, owner, source));
  return out;
}

Options::Options(const YAML::Node& node, const YAML::Node& anchor, std::string what,
                 std::initializer_list<std::string_view> known, const ConfigSource& source)
    : node_(node), anchor_(anchor), what_(std::move(what)), source_(source) {
  expect_map(node_, anchor_, what_, source_);
  for (const auto& entry : node_) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) source_.fail(key, "option names must be strings");
    bool found = false;
    for (std::string_view k : known) found = found || key.Scalar() == k;
    if (!found) source_.fail(key, "unknown option '" + key.Scalar() + "' for " + what_);
  }
}

bool Options::has(std::string_view key) const { return node_[std::string(key)].IsDefined(); }

YAML::Node Options::get(std::string_view key) const { return node_[std::string(key)]; }

YAML::Node Options::required(std::string_view key) const {
  YAML::Node value = get(key);
  if (!value.IsDefined()) source_.fail(node_, "missing required option '" + std::string(key) + "' for " + what_);
  return value;
}

YAML::Node Options::key_node(std::string_view key) const {
  for (const auto& entry : node_) {
    if (entry.first.Scalar() == key) return entry.first;
  }
  return node_;
}

void Options::fail(std::string_view key, const std::string& message) const {
  YAML::Node value = get(key);
  source_.fail(value.IsDefined() ? position(value, key_node(key)) : node_, message);
}

std::string Options::required_string(std::string_view key) const {
  YAML::Node value = required(key);
  if (!value.IsScalar()) fail(key, "'" + std::string(key) + "' for " + what_ + " must be a string");
  return value.Scalar();
}

std::string Options::string(std::string_view key, std::string_view fallback) const {
  return has(key) ? required_string(key) : std::string(fallback);
}

std::size_t Options::choice(std::string_view key, std::initializer_list<std::string_view> choices,
                            std::size_t fallback) const {
  if (!has(key)) return fallback;
  std::string value = required_string(key);
  std::size_t index = 0;
  for (std::string_view c : choices) {
    if (value == c) return index;
    ++index;
  }
  fail(key, "invalid value '" + value + "' for '" + std::string(key) + "' (expected one of: " + join(choices) + ")");
}

std::size_t Options::count(std::string_view key, std::size_t fallback) const {
  if (!has(key)) return fallback;
  YAML::Node value = get(key);
  std::string text = value.IsScalar() ? value.Scalar() : std::string();
  bool digits = !text.empty() && text.size() <= 9;
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  if (!digits) fail(key, "'" + std::string(key) + "' for " + what_ + " must be a non-negative integer");
  return std::stoul(text);
}

FieldPath Options::path(std::string_view key, PathScope scope) const {
  YAML::Node value = required(key);
  if (!value.IsScalar()) fail(key, "'" + std::string(key) + "' for " + what_ + " must be a field path");
  return parse_path(value, scope, what_, source_);
}

std::vector<FieldPath> Options::paths(std::string_view key, PathScope scope) const {
  return parse_path_list(required(key), key_node(key), scope, what_, what_ + " '" + std::string(key) + "'", source_);
}

StepResult on_invalid_result(OnInvalid policy, const FieldPath& field, Record& record, StepResult rejection) {
  switch (policy) {
    case OnInvalid::keep:
      return StepResult::keep();
    case OnInvalid::remove:
      field.erase(record.data);
      return StepResult::keep();
    case OnInvalid::reject:
      break;
  }
  return rejection;
}

std::vector<FieldUse> uses(const std::vector<FieldPath>& paths, bool reads, bool writes) {
  std::vector<FieldUse> out;
  out.reserve(paths.size());
  for (const FieldPath& p : paths) out.push_back({p.text(), reads, writes});
  return out;
}

}  // namespace touchpoint::core::transform
