#include "config/yaml_util.hpp"

#include <yaml-cpp/depthguard.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace touchpoint::core {

namespace {

constexpr uintmax_t kMaxConfigFileBytes = 16u << 20;
constexpr int kMaxTreeDepth = 1000;
constexpr uint64_t kMaxTreeNodes = 1'000'000;        // counted with aliases expanded
constexpr uint64_t kMaxTreeScalarBytes = 64u << 20;  // likewise

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// [-+]?[0-9]+
bool is_yaml_int(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (!is_digit(s[i])) return false;
  return true;
}

/// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_yaml_float(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  const size_t int_start = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  const bool int_digits = i > int_start;
  bool frac_digits = false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const size_t frac_start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    frac_digits = i > frac_start;
  }
  if (!int_digits && !frac_digits) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const size_t exp_start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == exp_start) return false;
  }
  return i == s.size();
}

/// YAML text must be UTF-8 without control characters (tab, LF and CR aside).
/// Returns the offset of the first offending byte, or npos.
size_t first_invalid_byte(std::string_view s, std::string& why) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "0x%02X", c);
        why = std::string("control character ") + buf + " is not allowed";
        return i;
      }
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points beyond U+10FFFF.
    if (ok)
      ok =
          !(len == 3 && cp < 0x800) && !(len == 4 && cp < 0x10000) && !(cp >= 0xD800 && cp <= 0xDFFF) && cp <= 0x10FFFF;
    if (!ok) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "0x%02X", c);
      why = std::string("invalid UTF-8 byte ") + buf + " (config files must be UTF-8)";
      return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

/// Walks the tree as every consumer will (aliases expanded) and refuses
/// recursive aliases, absurd nesting and alias "bombs" before anyone
/// recurses into them.
void check_tree(const YAML::Node& node, const ConfigSource& src, int depth, uint64_t& nodes, uint64_t& bytes) {
  if (depth > kMaxTreeDepth)
    src.fail(node, "YAML nested deeper than " + std::to_string(kMaxTreeDepth) + " levels (or a recursive alias)");
  if (++nodes > kMaxTreeNodes)
    src.fail(node, "YAML is too large: more than " + std::to_string(kMaxTreeNodes) + " values with aliases expanded");
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      bytes += node.Scalar().size();
      if (bytes > kMaxTreeScalarBytes)
        src.fail(node, "YAML is too large: more than 64 MiB of text with aliases expanded");
      break;
    case YAML::NodeType::Sequence:
      for (const auto& item : node) check_tree(item, src, depth + 1, nodes, bytes);
      break;
    case YAML::NodeType::Map:
      for (const auto& kv : node) {
        check_tree(kv.first, src, depth + 1, nodes, bytes);
        check_tree(kv.second, src, depth + 1, nodes, bytes);
      }
      break;
    default:
      break;
  }
}

}  // namespace

YAML::Node load_yaml_file(const std::filesystem::path& file) {
  const ConfigSource src(file.string());
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw ConfigError(file.string(), 0, 0, "cannot read file");
  const uintmax_t size = std::filesystem::file_size(file, ec);
  if (ec) throw ConfigError(file.string(), 0, 0, "cannot read file");
  if (size > kMaxConfigFileBytes) throw ConfigError(file.string(), 0, 0, "config file is larger than 16 MiB");
  std::string text;
  {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ConfigError(file.string(), 0, 0, "cannot read file");
    std::stringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  }
  if (text.size() > kMaxConfigFileBytes) throw ConfigError(file.string(), 0, 0, "config file is larger than 16 MiB");
  std::string why;
  if (size_t bad = first_invalid_byte(text, why); bad != std::string_view::npos) {
    size_t line_start = 0;
    if (bad > 0) {
      size_t nl = text.rfind('\n', bad - 1);
      line_start = nl == std::string::npos ? 0 : nl + 1;
    }
    int line =
        1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(line_start), '\n'));
    size_t col = bad - line_start + 1;
    if (line == 1 && text.rfind("\xEF\xBB\xBF", 0) == 0) col -= 3;  // the BOM is not a column
    throw ConfigError(file.string(), line, static_cast<int>(col), why);
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for this is "bad file".
    throw ConfigError(file.string(), e.mark.line + 1, e.mark.column + 1,
                      "YAML nested too deeply (maximum depth of the parser exceeded)");
  } catch (const YAML::Exception& e) {
    throw ConfigError(file.string(), e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1,
                      e.msg);
  }
  uint64_t nodes = 0, bytes = 0;
  check_tree(root, src, 0, nodes, bytes);
  return root;
}

void require_map(const YAML::Node& node, const ConfigSource& src, const std::string& what) {
  if (!node.IsMap()) src.fail(node, what + " must be a mapping");
}

void require_keys_known(const YAML::Node& map, std::initializer_list<const char*> allowed, const ConfigSource& src,
                        const std::string& what) {
  require_map(map, src, what);
  std::set<std::string> seen;
  for (const auto& kv : map) {
    if (!kv.first.IsScalar()) src.fail(kv.first, "keys in " + what + " must be plain strings");
    const std::string key = kv.first.Scalar();
    if (!seen.insert(key).second) src.fail(kv.first, "duplicate key '" + key + "' in " + what);
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      src.fail(kv.first, "unknown key '" + key + "' in " + what + " (allowed: " + list + ")");
    }
  }
}

std::string get_string(const YAML::Node& node, const ConfigSource& src, const std::string& what) {
  if (!node.IsScalar()) src.fail(node, what + " must be a string");
  return node.Scalar();
}

int64_t get_int(const YAML::Node& node, const ConfigSource& src, const std::string& what, int64_t min, int64_t max) {
  if (!node.IsScalar()) src.fail(node, what + " must be an integer");
  const std::string& s = node.Scalar();
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) src.fail(node, what + " must be an integer, got '" + s + "'");
  if (v < min || v > max)
    src.fail(node, what + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  return v;
}

bool get_bool(const YAML::Node& node, const ConfigSource& src, const std::string& what) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  src.fail(node, what + " must be true or false");
}

uint64_t get_size(const YAML::Node& node, const ConfigSource& src, const std::string& what) {
  if (!node.IsScalar()) src.fail(node, what + " must be a size");
  const std::string& s = node.Scalar();
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data()) src.fail(node, what + " must be a size like 64MiB, got '" + s + "'");
  std::string unit(p, s.data() + s.size());
  uint64_t mult = 1;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "KiB")
    mult = 1ull << 10;
  else if (unit == "MiB")
    mult = 1ull << 20;
  else if (unit == "GiB")
    mult = 1ull << 30;
  else
    src.fail(node, what + ": unknown unit '" + unit + "' (use B, KiB, MiB or GiB)");
  if (v > UINT64_MAX / mult) src.fail(node, what + " is too large");
  return v * mult;
}

Json typed_scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;  // quoted: always a string
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  // Hand-written scanners, not std::regex: libstdc++'s regex recurses per
  // character, and a long digit string in a config file overflowed the stack.
  if (is_yaml_int(s)) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data() + (s[0] == '+' ? 1 : 0), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
  }
  if (is_yaml_float(s)) {
    const double d = std::strtod(s.c_str(), nullptr);
    // Out of range (an integer beyond int64 too): kept as the text it is,
    // never turned into infinity, which JSON cannot carry.
    if (std::isfinite(d)) return d;
  }
  return s;
}

namespace {

std::string expand_references(const std::string& s, const YAML::Node& node, const ConfigSource& src,
                              const std::filesystem::path& base_dir, const std::filesystem::path& data_dir) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t start = s.find("${", pos);
    if (start == std::string::npos) break;
    size_t end = s.find('}', start);
    if (end == std::string::npos) src.fail(node, "unterminated '${' in '" + s + "'");
    out.append(s, pos, start - pos);
    std::string ref = s.substr(start + 2, end - start - 2);
    if (ref == "data_dir" && !data_dir.empty()) {
      out += data_dir.string();
    } else if (ref.rfind("env:", 0) == 0) {
      std::string name = ref.substr(4);
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) src.fail(node, "environment variable '" + name + "' is not set");
      out += v;
    } else if (ref.rfind("file:", 0) == 0) {
      std::filesystem::path p = ref.substr(5);
      if (p.is_relative()) p = base_dir / p;
      std::ifstream in(p, std::ios::binary);
      if (!in) src.fail(node, "cannot read secret file '" + p.string() + "'");
      std::stringstream buf;
      buf << in.rdbuf();
      std::string v = buf.str();
      while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
      out += v;
    } else {
      src.fail(node, "unknown reference '${" + ref + "}' (use ${env:NAME}, ${file:/path} or ${data_dir})");
    }
    pos = end + 1;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

}  // namespace

Json yaml_to_json(const YAML::Node& node, const ConfigSource& src, const std::filesystem::path& base_dir,
                  const std::filesystem::path& data_dir) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar: {
      if (node.Scalar().find("${") != std::string::npos)
        return expand_references(node.Scalar(), node, src, base_dir, data_dir);
      return typed_scalar(node);
    }
    case YAML::NodeType::Sequence: {
      Json a = Json::array();
      for (const auto& item : node) a.push_back(yaml_to_json(item, src, base_dir, data_dir));
      return a;
    }
    case YAML::NodeType::Map: {
      Json o = Json::object();
      for (const auto& kv : node) {
        const std::string& key = kv.first.Scalar();
        if (o.contains(key)) src.fail(kv.first, "duplicate key '" + key + "'");
        o[key] = yaml_to_json(kv.second, src, base_dir, data_dir);
      }
      return o;
    }
  }
  return nullptr;
}

}  // namespace touchpoint::core
