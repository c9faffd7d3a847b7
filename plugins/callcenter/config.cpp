#include "config.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <touchpoint/plugin.hpp>

#include "outcomes.hpp"

namespace touchpoint::callcenter {

namespace {

namespace dom = simdjson::dom;

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw ConfigError("callcenter config: '" + key + "' " + what);
}

// Walks one JSON object, refusing keys the caller did not ask for.
class Section {
 public:
  Section(dom::element e, std::string path) : path_(std::move(path)) {
    if (e.type() != dom::element_type::OBJECT) fail(path_.empty() ? "(root)" : path_, "must be an object");
    obj_ = dom::object(e);
  }
  void allow(std::initializer_list<std::string_view> keys) const {
    for (auto field : obj_) {
      if (std::find(keys.begin(), keys.end(), field.key) == keys.end())
        fail(name(field.key), "is not a known key (allowed: " + join(keys) + ")");
    }
  }
  std::optional<dom::element> get(std::string_view key) const {
    dom::element e;
    if (obj_.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    return e;
  }
  bool has(std::string_view key) const { return get(key).has_value(); }
  std::string name(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  std::optional<std::string> string(std::string_view key, bool non_empty = true) const {
    auto e = get(key);
    if (!e) return std::nullopt;
    std::string_view s;
    if (e->get_string().get(s) != simdjson::SUCCESS) fail(name(key), "must be a string");
    if (non_empty && s.empty()) fail(name(key), "must not be empty");
    return std::string(s);
  }
  std::optional<bool> boolean(std::string_view key) const {
    auto e = get(key);
    if (!e) return std::nullopt;
    bool b = false;
    if (e->get_bool().get(b) != simdjson::SUCCESS) fail(name(key), "must be true or false");
    return b;
  }
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max) const {
    auto e = get(key);
    if (!e) return std::nullopt;
    int64_t v = 0;
    if (e->get_int64().get(v) != simdjson::SUCCESS) fail(name(key), "must be an integer");
    if (v < min || v > max) fail(name(key), "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return v;
  }
  Section section(std::string_view key) const { return Section(*get(key), name(key)); }
  dom::object object() const { return obj_; }

 private:
  static std::string join(std::initializer_list<std::string_view> keys) {
    std::string out;
    for (auto k : keys) {
      if (!out.empty()) out += ", ";
      out += k;
    }
    return out;
  }
  dom::object obj_;
  std::string path_;
};

Encoding parse_encoding(const Section& s) {
  auto v = s.string("encoding");
  if (!v || *v == "utf-8") return Encoding::utf8;
  if (*v == "latin-1") return Encoding::latin1;
  fail(s.name("encoding"), "must be \"utf-8\" or \"latin-1\"");
}

char parse_delimiter(const Section& s) {
  auto v = s.string("delimiter");
  if (!v) return ',';
  if (v->size() != 1 || (*v)[0] == '"' || (*v)[0] == '\r' || (*v)[0] == '\n' ||
      static_cast<unsigned char>((*v)[0]) >= 0x80u)
    fail(s.name("delimiter"), "must be one ASCII character other than a quote or a line break");
  return (*v)[0];
}

bool safe_file_part(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                              c == '_' || c == '.';
                     }) &&
         s[0] != '.';
}

DirTarget parse_dir_target(const Section& t) {
  t.allow({"dir", "format", "prefix", "columns", "delimiter", "header", "encoding"});
  DirTarget d;
  d.dir = *t.string("dir");
  if (auto f = t.string("format")) {
    if (*f == "csv") {
      d.format = FileFormat::csv;
    } else if (*f == "jsonl") {
      d.format = FileFormat::jsonl;
    } else {
      fail(t.name("format"), "must be \"csv\" or \"jsonl\"");
    }
  }
  if (auto p = t.string("prefix")) {
    if (!safe_file_part(*p)) fail(t.name("prefix"), "must be 1-64 characters of A-Z a-z 0-9 - _ . (not leading '.')");
    d.prefix = *p;
  }
  if (auto cols = t.get("columns")) {
    dom::array arr;
    if (cols->get_array().get(arr) != simdjson::SUCCESS) fail(t.name("columns"), "must be an array of column names");
    std::set<std::string> seen;
    for (dom::element c : arr) {
      std::string_view name;
      if (c.get_string().get(name) != simdjson::SUCCESS) fail(t.name("columns"), "must hold strings");
      const auto& known = known_columns();
      if (std::find(known.begin(), known.end(), name) == known.end())
        fail(t.name("columns"), "has an unknown column '" + std::string(name) + "'");
      if (!seen.insert(std::string(name)).second) fail(t.name("columns"), "names '" + std::string(name) + "' twice");
      d.columns.emplace_back(name);
    }
    if (d.columns.empty()) fail(t.name("columns"), "must not be empty");
  } else {
    d.columns = known_columns();
  }
  d.delimiter = parse_delimiter(t);
  d.header = t.boolean("header").value_or(true);
  d.encoding = parse_encoding(t);
  if (d.format == FileFormat::jsonl && d.encoding != Encoding::utf8)
    fail(t.name("encoding"), "must be utf-8 for format jsonl (JSON is UTF-8)");
  return d;
}

HttpTarget parse_http_target(const Section& t) {
  t.allow({"url", "auth_header", "timeout_ms"});
  HttpTarget h;
  h.url = *t.string("url");
  if (h.url.rfind("http://", 0) != 0 && h.url.rfind("https://", 0) != 0)
    fail(t.name("url"), "must start with http:// or https://");
  if (auto a = t.string("auth_header")) {
    const size_t colon = a->find(':');
    if (colon == 0 || colon == std::string::npos || a->find_first_of("\r\n") != std::string::npos)
      fail(t.name("auth_header"), "must be one header line \"Name: value\" (e.g. \"Authorization: Bearer ...\")");
    h.auth_header = *a;
  }
  h.timeout_ms = t.integer("timeout_ms", 1, 600000).value_or(10000);
  return h;
}

DispositionDir parse_dispositions(const Section& s) {
  s.allow({"dir", "done_dir", "format", "delimiter", "encoding", "max_file_bytes"});
  DispositionDir d;
  d.dir = *s.string("dir");
  d.done_dir = s.string("done_dir").value_or(d.dir + "/done");
  if (auto f = s.string("format")) {
    if (*f == "csv") {
      d.format = FileFormat::csv;
    } else if (*f == "jsonl") {
      d.format = FileFormat::jsonl;
    } else if (*f != "auto") {
      fail(s.name("format"), "must be \"auto\", \"csv\" or \"jsonl\"");
    }
  }
  d.delimiter = parse_delimiter(s);
  d.encoding = parse_encoding(s);
  d.max_file_bytes =
      static_cast<uint64_t>(s.integer("max_file_bytes", 1, int64_t{1} << 30).value_or(int64_t{64} * 1024 * 1024));
  return d;
}

bool has_bad_path_char(std::string_view p) {
  return std::any_of(p.begin(), p.end(), [](char c) { return c < 0x21 || c > 0x7E || c == '?' || c == '#'; });
}

Webhook parse_webhook(const Section& s) {
  s.allow({"listen", "path", "secret", "tolerance_seconds", "max_body_bytes", "max_connections", "replay_cache_size",
           "timeout_seconds"});
  Webhook w;
  const std::string listen = *s.string("listen");
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) fail(s.name("listen"), "must be \"ADDRESS:PORT\"");
  w.host = listen.substr(0, colon);
  if (w.host.size() > 2 && w.host.front() == '[' && w.host.back() == ']') w.host = w.host.substr(1, w.host.size() - 2);
  const std::string port = listen.substr(colon + 1);
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value > 65535)
    fail(s.name("listen"), "has an invalid port (0-65535; 0 picks a free one)");
  w.port = static_cast<uint16_t>(value);
  if (auto p = s.string("path")) {
    if ((*p)[0] != '/' || has_bad_path_char(*p)) fail(s.name("path"), "must start with '/' and be printable ASCII");
    w.path = *p;
  }
  auto secret = s.string("secret");
  if (!secret) fail(s.name("secret"), "is required: dispositions change consent, so they must be signed");
  w.secret = *secret;
  w.tolerance_seconds = s.integer("tolerance_seconds", 1, 86400).value_or(300);
  w.max_body_bytes = static_cast<uint64_t>(s.integer("max_body_bytes", 1024, 16 * 1024 * 1024).value_or(1024 * 1024));
  w.max_connections = static_cast<size_t>(s.integer("max_connections", 1, 10000).value_or(64));
  w.replay_cache_size = static_cast<size_t>(s.integer("replay_cache_size", 0, 10000000).value_or(100000));
  w.timeout_seconds = s.integer("timeout_seconds", 1, 3600).value_or(30);
  return w;
}

}  // namespace

const std::vector<std::string>& known_columns() {
  static const std::vector<std::string> kColumns = {"contact_id",  "phone",     "name",    "first_name",
                                                    "last_name",   "campaign",  "script",  "priority",
                                                    "window_from", "window_to", "timezone"};
  return kColumns;
}

Config parse_config(std::string_view json) {
  dom::parser parser;
  dom::element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root); err)
    throw ConfigError(std::string("callcenter config: not valid JSON: ") + simdjson::error_message(err));
  Section s(root, "");
  s.allow({"target", "dispositions", "webhook", "outcome_map"});
  Config c;
  if (s.has("target")) {
    Section t = s.section("target");
    t.allow({"dir", "http", "format", "prefix", "columns", "delimiter", "header", "encoding"});
    if (t.has("http")) {
      if (t.has("dir")) fail("target", "must have either 'dir' or 'http', not both");
      for (const char* k : {"format", "prefix", "columns", "delimiter", "header", "encoding"})
        if (t.has(k)) fail(t.name(k), "applies to target.dir only");
      c.http_target = parse_http_target(t.section("http"));
    } else if (t.has("dir")) {
      c.dir_target = parse_dir_target(t);
    } else {
      fail("target", "must have 'dir' or 'http'");
    }
  }
  if (s.has("dispositions")) c.dispositions = parse_dispositions(s.section("dispositions"));
  if (s.has("webhook")) c.webhook = parse_webhook(s.section("webhook"));
  if (s.has("outcome_map")) {
    Section m = s.section("outcome_map");
    for (auto field : m.object()) {
      std::string_view to;
      const std::string key = m.name(field.key);
      if (field.value.get_string().get(to) != simdjson::SUCCESS) fail(key, "must be a string");
      if (!is_outcome(to)) fail(key, "maps to '" + std::string(to) + "', which is not a call outcome");
      if (field.key.empty() || field.key.size() > 256) fail(key, "must be 1-256 bytes");
      c.outcome_map.emplace(std::string(field.key), std::string(to));
    }
  }
  if (!c.dir_target && !c.http_target && !c.dispositions && !c.webhook)
    throw ConfigError("callcenter config: give at least one of 'target', 'dispositions' or 'webhook'");
  return c;
}

}  // namespace touchpoint::callcenter
