#include <string_view>

#include "catalog/interface_doc.hpp"

namespace touchpoint::core::catalog {
namespace {

bool names_credential(std::string_view key) {
  for (std::string_view s : {"secret", "password", "passwd", "token", "api_key", "apikey", "private_key", "credential"})
    if (key.find(s) != std::string_view::npos) return true;
  return false;
}

void redact(Json& value) {
  if (value.is_object()) {
    for (auto& [key, v] : value.items()) {
      if (names_credential(key) && !v.is_boolean() && !v.is_null()) {
        v = "(secret)";
      } else {
        redact(v);
      }
    }
  } else if (value.is_array()) {
    for (Json& v : value) redact(v);
  }
}

}  // namespace

Json redacted_config(const PluginUse& use) {
  Json out = use.config;
  if (!out.is_object()) return out;
  for (const std::string& key : use.secret_refs)
    if (out.contains(key)) out[key] = "(secret)";
  redact(out);
  return out;
}

}  // namespace touchpoint::core::catalog
