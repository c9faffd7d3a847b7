#include "jsonl_config.hpp"

#include <nlohmann/json.hpp>
#include <touchpoint/plugin.hpp>

namespace jsonl {
namespace {

using touchpoint::ConfigError;

std::string get_string(const nlohmann::json& v, const std::string& key, bool allow_empty) {
  if (!v.is_string()) throw ConfigError(key + ": must be a string");
  std::string s = v.get<std::string>();
  if (s.empty() && !allow_empty) throw ConfigError(key + ": must not be empty");
  return s;
}

bool valid_type(std::string_view t) {
  if (t.empty() || t.size() > 64) return false;
  for (char c : t)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

}  // namespace

Config parse_config(std::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw ConfigError("config is not valid JSON");
  if (!doc.is_object()) throw ConfigError("config must be a JSON object");

  Config c;
  for (const auto& [key, value] : doc.items()) {
    if (value.is_null()) continue;  // an explicit null keeps the default
    if (key == "path") {
      c.path = get_string(value, key, false);
    } else if (key == "type") {
      c.type = get_string(value, key, false);
      if (!valid_type(c.type)) throw ConfigError("type: use 1-64 characters of a-z, 0-9, '_', '-', '.'");
    } else if (key == "id_field") {
      c.id_field = get_string(value, key, true);
    } else if (key == "key_field") {
      c.key_field = get_string(value, key, true);
    } else if (key == "batch_lines") {
      if (!value.is_number_integer() || value.get<long long>() < 1 || value.get<long long>() > 100000)
        throw ConfigError("batch_lines: must be an integer between 1 and 100000");
      c.batch_lines = value.get<std::size_t>();
    } else if (key == "fsync") {
      if (!value.is_boolean()) throw ConfigError("fsync: must be true or false");
      c.fsync = value.get<bool>();
    } else {
      throw ConfigError("unknown config key '" + key + "'");
    }
  }
  if (c.path.empty()) throw ConfigError("path: is required");
  return c;
}

}  // namespace jsonl
