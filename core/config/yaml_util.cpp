#include "config/yaml_util.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

namespace touchpoint::core {

YAML::Node load_yaml_file(const std::filesystem::path& file) {
  try {
    return YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    throw ConfigError(file.string(), 0, 0, "cannot read file");
  } catch (const YAML::Exception& e) {
    throw ConfigError(file.string(), e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1,
                      e.msg);
  }
}

void require_map(const YAML::Node& node, const ConfigSource& src, const std::string& what) {
  if (!node.IsMap()) src.fail(node, what + " must be a mapping");
}

void require_keys_known(const YAML::Node& map, std::initializer_list<const char*> allowed, const ConfigSource& src,
                        const std::string& what) {
  require_map(map, src, what);
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
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
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KiB") mult = 1ull << 10;
  else if (unit == "MiB") mult = 1ull << 20;
  else if (unit == "GiB") mult = 1ull << 30;
  else src.fail(node, what + ": unknown unit '" + unit + "' (use B, KiB, MiB or GiB)");
  return v * mult;
}

Json typed_scalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;  // quoted: always a string
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex int_re("[-+]?[0-9]+");
  static const std::regex float_re("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  if (std::regex_match(s, int_re)) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data() + (s[0] == '+' ? 1 : 0), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
  }
  if (std::regex_match(s, float_re)) return std::strtod(s.c_str(), nullptr);
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
      if (node.Scalar().find("${") != std::string::npos) return expand_references(node.Scalar(), node, src, base_dir, data_dir);
      return typed_scalar(node);
    }
    case YAML::NodeType::Sequence: {
      Json a = Json::array();
      for (const auto& item : node) a.push_back(yaml_to_json(item, src, base_dir, data_dir));
      return a;
    }
    case YAML::NodeType::Map: {
      Json o = Json::object();
      for (const auto& kv : node) o[kv.first.Scalar()] = yaml_to_json(kv.second, src, base_dir, data_dir);
      return o;
    }
  }
  return nullptr;
}

}  // namespace touchpoint::core
