#include "tryton_config.hpp"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <touchpoint/plugin.hpp>

namespace touchpoint::tryton {
namespace {

using Json = nlohmann::json;

[[noreturn]] void fail(const std::string& key, const std::string& what) { throw ConfigError(key + ": " + what); }

std::string name_of(const std::string& where, const char* key) { return where.empty() ? key : where + "." + key; }

void only_keys(const Json& obj, const std::string& where, std::initializer_list<std::string_view> allowed) {
  for (const auto& item : obj.items())
    if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end())
      fail(where.empty() ? item.key() : where + "." + item.key(), "unknown key");
}

std::string text(const Json& obj, const char* key, const std::string& where, const std::string* dflt) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (dflt == nullptr) fail(name_of(where, key), "is required");
    return *dflt;
  }
  if (!it->is_string()) fail(name_of(where, key), "must be a string");
  return it->get<std::string>();
}

// Integers also as digit strings: ${env:...} references always give strings.
int64_t integer(const Json& obj, const char* key, const std::string& where, int64_t dflt, int64_t lo, int64_t hi) {
  auto it = obj.find(key);
  if (it == obj.end()) return dflt;
  const std::string name = name_of(where, key);
  int64_t n = 0;
  if (it->is_number_integer()) {
    n = it->get<int64_t>();
  } else if (const std::string* s = it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
             s != nullptr && !s->empty() && s->size() < 19 &&
             std::all_of(s->begin(), s->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    n = std::stoll(*s);
  } else {
    fail(name, "must be an integer");
  }
  if (n < lo || n > hi) fail(name, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return n;
}

bool boolean(const Json& obj, const char* key, const std::string& where, bool dflt) {
  auto it = obj.find(key);
  if (it == obj.end()) return dflt;
  if (!it->is_boolean()) fail(name_of(where, key), "must be true or false");
  return it->get<bool>();
}

bool valid_system(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

WriteBackConfig parse_write_back(const Json& j) {
  const std::string where = "write_back";
  if (!j.is_object()) fail(where, "must be an object");
  only_keys(j, where, {"invalid", "notes", "consent_categories", "category_prefix", "opportunities", "company"});
  WriteBackConfig w;
  const std::string deactivate = "deactivate";
  const std::string invalid = text(j, "invalid", where, &deactivate);
  if (invalid == "comment")
    w.invalid = WriteBackConfig::Invalid::comment;
  else if (invalid != "deactivate")
    fail(where + ".invalid", "must be deactivate or comment, not '" + invalid.substr(0, 64) + "'");
  if (auto it = j.find("notes"); it != j.end()) {
    if (!it->is_array()) fail(where + ".notes", "must be a list of response kinds");
    w.notes.clear();
    for (const Json& k : *it) {
      if (!k.is_string() || k.get<std::string>().empty() || k.get<std::string>().size() > 64)
        fail(where + ".notes", "must be a list of response kinds (strings)");
      w.notes.insert(k.get<std::string>());
    }
  }
  w.consent_categories = boolean(j, "consent_categories", where, true);
  w.category_prefix = text(j, "category_prefix", where, &w.category_prefix);
  if (w.category_prefix.size() > 64) fail(where + ".category_prefix", "must be at most 64 bytes");
  const std::string automatic = "auto";
  const std::string opp = text(j, "opportunities", where, &automatic);
  if (opp == "on")
    w.opportunities = WriteBackConfig::Opportunities::on;
  else if (opp == "off")
    w.opportunities = WriteBackConfig::Opportunities::off;
  else if (opp != "auto")
    fail(where + ".opportunities", "must be auto, on or off, not '" + opp.substr(0, 64) + "'");
  w.company = integer(j, "company", where, 0, 0, INT32_MAX);
  return w;
}

}  // namespace

Config parse_config(std::string_view json) {
  Json j = Json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw ConfigError("the config must be a JSON object");
  only_keys(j, "",
            {"url", "database", "user", "password", "system", "page_size", "overlap_seconds", "timeout_ms",
             "verify_tls", "max_backoff_ms", "default_region", "write_back"});
  Config c;
  c.url = text(j, "url", "", nullptr);
  if (c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0)
    fail("url", "must start with http:// or https://");
  while (!c.url.empty() && c.url.back() == '/') c.url.pop_back();
  if (c.url.find_first_of(" \t\r\n?#") != std::string::npos) fail("url", "must not contain spaces, '?' or '#'");
  c.database = text(j, "database", "", nullptr);
  if (c.database.empty() || c.database.size() > 64 || c.database.find_first_of("/?#% \t\r\n") != std::string::npos)
    fail("database", "must be a database name (1-64 bytes, no '/', '?', '#', '%' or spaces)");
  c.user = text(j, "user", "", nullptr);
  if (c.user.empty() || c.user.find(':') != std::string::npos) fail("user", "must be a Tryton login without ':'");
  c.password = text(j, "password", "", nullptr);
  c.system = text(j, "system", "", &c.system);
  if (!valid_system(c.system)) fail("system", "must be 1-64 of a-z 0-9 _ - (the identity is ext:<system>)");
  c.default_region = text(j, "default_region", "", &c.default_region);
  if (c.default_region.size() != 2 || !std::isupper(static_cast<unsigned char>(c.default_region[0])) ||
      !std::isupper(static_cast<unsigned char>(c.default_region[1])))
    fail("default_region", "must be a two-letter region code in upper case (DE, AT, CH, ...)");
  c.page_size = integer(j, "page_size", "", c.page_size, 1, 10'000);
  c.overlap_seconds = integer(j, "overlap_seconds", "", c.overlap_seconds, 0, 86'400);
  c.timeout_ms = integer(j, "timeout_ms", "", c.timeout_ms, 100, 600'000);
  c.verify_tls = boolean(j, "verify_tls", "", true);
  c.max_backoff_ms = integer(j, "max_backoff_ms", "", c.max_backoff_ms, 100, 3'600'000);
  if (auto it = j.find("write_back"); it != j.end()) c.write_back = parse_write_back(*it);
  return c;
}

}  // namespace touchpoint::tryton
