#include "transform/yaml_value.hpp"

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace touchpoint::core::transform {
namespace {

constexpr std::string_view kTagStr = "tag:yaml.org,2002:str";
constexpr std::string_view kTagInt = "tag:yaml.org,2002:int";
constexpr std::string_view kTagFloat = "tag:yaml.org,2002:float";
constexpr std::string_view kTagBool = "tag:yaml.org,2002:bool";
constexpr std::string_view kTagNull = "tag:yaml.org,2002:null";

bool is_digit(char c, int base) {
  if (c >= '0' && c <= '9') return c - '0' < base;
  if (base == 16) return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  return false;
}

bool all_digits(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_digit(c, base)) return false;
  }
  return true;
}

/// Core schema int: [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+
bool parse_int(std::string_view s, Json& out) {
  int base = 10;
  bool negative = false;
  std::string_view digits = s;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
    base = s[1] == 'o' ? 8 : 16;
    digits = s.substr(2);
  } else if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    digits = s.substr(1);
  }
  if (!all_digits(digits, base)) return false;
  std::uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec == std::errc() && end == digits.data() + digits.size()) {
    constexpr auto kMaxPositive = static_cast<std::uint64_t>(INT64_MAX);
    if (!negative && magnitude <= kMaxPositive) {
      out = static_cast<std::int64_t>(magnitude);
      return true;
    }
    if (!negative) {
      out = magnitude;
      return true;
    }
    if (magnitude <= kMaxPositive + 1) {
      out = magnitude == kMaxPositive + 1 ? INT64_MIN : -static_cast<std::int64_t>(magnitude);
      return true;
    }
  }
  // Too big for 64 bits: keep the approximate value rather than failing.
  out = std::strtod(std::string(s).c_str(), nullptr);
  return true;
}

/// Core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool looks_like_float(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t int_digits = 0;
  while (i < s.size() && is_digit(s[i], 10)) ++i, ++int_digits;
  std::size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i], 10)) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (!all_digits(s.substr(i), 10)) return false;
    i = s.size();
  }
  return i == s.size();
}

bool is_non_finite(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  return s == ".inf" || s == ".Inf" || s == ".INF" || s == ".nan" || s == ".NaN" || s == ".NAN";
}

bool is_null_text(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

bool parse_bool(std::string_view s, Json& out) {
  if (s == "true" || s == "True" || s == "TRUE") {
    out = true;
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    out = false;
    return true;
  }
  return false;
}

Json scalar_to_json(const YAML::Node& node, const ConfigSource& source) {
  const std::string& tag = node.Tag();
  const std::string& text = node.Scalar();
  if (tag == "!" || tag == kTagStr) return text;
  if (is_non_finite(text) && (tag == "?" || tag == kTagFloat)) {
    source.fail(node, "non-finite number '" + text + "' has no JSON representation");
  }
  Json out;
  if (tag == "?") {
    if (is_null_text(text)) return nullptr;
    if (parse_bool(text, out)) return out;
    if (parse_int(text, out)) return out;
    if (looks_like_float(text)) return std::strtod(text.c_str(), nullptr);
    return text;
  }
  if (tag == kTagInt) {
    if (parse_int(text, out)) return out;
    source.fail(node, "'" + text + "' is not a valid !!int");
  }
  if (tag == kTagFloat) {
    if (parse_int(text, out)) return out.get<double>();
    if (looks_like_float(text)) return std::strtod(text.c_str(), nullptr);
    source.fail(node, "'" + text + "' is not a valid !!float");
  }
  if (tag == kTagBool) {
    if (parse_bool(text, out)) return out;
    source.fail(node, "'" + text + "' is not a valid !!bool");
  }
  if (tag == kTagNull) {
    if (is_null_text(text)) return nullptr;
    source.fail(node, "'" + text + "' is not a valid !!null");
  }
  source.fail(node, "unsupported YAML tag '" + tag + "'");
}

}  // namespace

Json yaml_to_json(const YAML::Node& node, const ConfigSource& source) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return scalar_to_json(node, source);
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const YAML::Node& item : node) out.push_back(yaml_to_json(item, source));
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) source.fail(entry.first, "map keys must be strings");
        out[entry.first.Scalar()] = yaml_to_json(entry.second, source);
      }
      return out;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return nullptr;
}

}  // namespace touchpoint::core::transform
