#include "post_config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "letter.hpp"
#include "sdk.hpp"

namespace touchpoint::post {
namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void fail(const std::string& key, const std::string& what) { throw ConfigError(key + ": " + what); }

void only_keys(const Json& obj, const std::string& where, std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : obj.items()) {
    (void)v;
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      fail(where.empty() ? k : where + "." + k, "unknown key");
  }
}

const Json* find(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string get_string(const Json& obj, const char* key, const std::string& where, std::optional<std::string> dflt) {
  const Json* v = find(obj, key);
  const std::string name = where.empty() ? key : where + "." + key;
  if (v == nullptr) {
    if (!dflt) fail(name, "is required");
    return *dflt;
  }
  if (!v->is_string()) fail(name, "must be a string");
  return v->get<std::string>();
}

bool get_bool(const Json& obj, const char* key, const std::string& where, bool dflt) {
  const Json* v = find(obj, key);
  if (v == nullptr) return dflt;
  if (!v->is_boolean()) fail(where.empty() ? key : where + "." + key, "must be a boolean");
  return v->get<bool>();
}

int64_t get_int(const Json& obj, const char* key, const std::string& where, int64_t dflt, int64_t lo, int64_t hi) {
  const Json* v = find(obj, key);
  if (v == nullptr) return dflt;
  const std::string name = where.empty() ? key : where + "." + key;
  if (!v->is_number_integer()) fail(name, "must be an integer");
  const int64_t n = v->get<int64_t>();
  if (n < lo || n > hi) fail(name, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return n;
}

char get_delimiter(const Json& obj, const std::string& where) {
  const std::string d = get_string(obj, "delimiter", where, std::string(","));
  if (d == "," || d == ";" || d == "|") return d[0];
  if (d == "\t" || d == "\\t") return '\t';
  fail(where.empty() ? "delimiter" : where + ".delimiter", "must be \",\", \";\", \"|\" or \"\\t\"");
}

Encoding get_encoding(const Json& obj, const std::string& where) {
  std::string e = get_string(obj, "encoding", where, std::string("utf-8"));
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (e == "utf-8" || e == "utf8") return Encoding::utf8;
  if (e == "latin-1" || e == "latin1" || e == "iso-8859-1") return Encoding::latin1;
  fail(where.empty() ? "encoding" : where + ".encoding", "must be \"utf-8\" or \"latin-1\"");
}

SftpConfig parse_sftp(const Json& j, const std::string& where) {
  if (!j.is_object()) fail(where, "must be an object");
  only_keys(j, where,
            {"url", "username", "private_key_file", "public_key_file", "passphrase", "known_hosts", "timeout_ms",
             "max_send_bytes_per_s"});
  SftpConfig c;
  c.url = get_string(j, "url", where, std::nullopt);
  constexpr std::string_view kScheme = "sftp://";
  if (c.url.rfind(kScheme, 0) != 0) fail(where + ".url", "must start with sftp://");
  const size_t slash = c.url.find('/', kScheme.size());
  if (slash == std::string::npos || slash == kScheme.size()) fail(where + ".url", "must name a host and a directory");
  c.host = c.url.substr(0, slash);
  c.path = c.url.substr(slash);
  if (c.path.back() != '/') fail(where + ".url", "must end with '/' (it names a directory)");
  if (c.host.find('@') != std::string::npos) fail(where + ".url", "give the user in username, not in the URL");
  for (char ch : c.path)
    if (ch == '%' || ch == '"' || ch == '\\' || ch == '~' || static_cast<unsigned char>(ch) < 0x21)
      fail(where + ".url", "the path may not contain '%', '\"', '\\', '~', blanks or control characters");
  if (c.path.find("/../") != std::string::npos || c.path.find("/./") != std::string::npos)
    fail(where + ".url", "the path may not contain . or .. segments");
  c.username = get_string(j, "username", where, std::nullopt);
  if (c.username.empty()) fail(where + ".username", "must not be empty");
  c.private_key_file = get_string(j, "private_key_file", where, std::nullopt);
  c.public_key_file = get_string(j, "public_key_file", where, std::string());
  c.passphrase = get_string(j, "passphrase", where, std::string());
  c.known_hosts = get_string(j, "known_hosts", where, std::nullopt);
  if (c.known_hosts.empty()) fail(where + ".known_hosts", "must not be empty: the host key is always checked");
  c.timeout_ms = get_int(j, "timeout_ms", where, 30000, 100, 3600000);
  c.max_send_bytes_per_s = get_int(j, "max_send_bytes_per_s", where, 0, 0, int64_t{1} << 40);
  return c;
}

Location parse_location(const Json& j, const std::string& where, bool allow_extra) {
  if (!j.is_object()) fail(where, "must be an object with \"dir\" or \"sftp\"");
  if (!allow_extra) only_keys(j, where, {"dir", "sftp"});
  const Json* dir = find(j, "dir");
  const Json* sftp = find(j, "sftp");
  if ((dir == nullptr) == (sftp == nullptr)) fail(where, "needs exactly one of \"dir\" and \"sftp\"");
  Location l;
  if (dir != nullptr) {
    if (!dir->is_string() || dir->get<std::string>().empty()) fail(where + ".dir", "must be a non-empty string");
    l.dir = dir->get<std::string>();
  } else {
    l.sftp = parse_sftp(*sftp, where + ".sftp");
  }
  return l;
}

ExportConfig parse_export(const Json& j) {
  ExportConfig c;
  const std::string format = get_string(j, "format", "", std::string("csv"));
  if (format == "csv") {
    c.format = Format::csv;
  } else if (format == "jsonl") {
    c.format = Format::jsonl;
  } else {
    fail("format", "must be \"csv\" or \"jsonl\"");
  }
  c.prefix = get_string(j, "prefix", "", std::string("letters"));
  if (c.prefix.empty() || c.prefix.size() > 64 || c.prefix[0] == '.' ||
      !std::all_of(c.prefix.begin(), c.prefix.end(),
                   [](unsigned char ch) { return std::isalnum(ch) != 0 || ch == '-' || ch == '_' || ch == '.'; }))
    fail("prefix", "must be 1 to 64 characters of A-Z, a-z, 0-9, '-', '_', '.' and not start with '.'");
  c.delimiter = get_delimiter(j, "");
  c.header = get_bool(j, "header", "", true);
  c.encoding = get_encoding(j, "");
  if (c.format == Format::jsonl && c.encoding != Encoding::utf8) fail("encoding", "jsonl files are always utf-8");
  const std::string le = get_string(j, "line_ending", "", std::string("crlf"));
  if (le == "crlf") {
    c.line_ending = "\r\n";
  } else if (le == "lf") {
    c.line_ending = "\n";
  } else {
    fail("line_ending", "must be \"crlf\" or \"lf\"");
  }
  c.fsync = get_bool(j, "fsync", "", true);
  if (const Json* cols = find(j, "columns")) {
    if (!cols->is_array() || cols->empty()) fail("columns", "must be a non-empty list");
    for (size_t i = 0; i < cols->size(); ++i) {
      const Json& e = (*cols)[i];
      const std::string where = "columns[" + std::to_string(i) + "]";
      Column col;
      if (e.is_string()) {
        col.name = col.field = e.get<std::string>();
      } else if (e.is_object()) {
        only_keys(e, where, {"column", "field"});
        col.field = get_string(e, "field", where, std::nullopt);
        col.name = get_string(e, "column", where, col.field);
      } else {
        fail(where, "must be a field name or {column, field}");
      }
      if (!is_export_field(col.field)) fail(where, "unknown field \"" + col.field + "\"");
      if (col.name.empty()) fail(where, "the column name must not be empty");
      for (const Column& other : c.columns)
        if (other.name == col.name) fail(where, "column \"" + col.name + "\" is given twice");
      c.columns.push_back(std::move(col));
    }
  } else {
    for (const char* f : {"contact_id", "salutation", "first_name", "last_name", "street", "zip", "city", "country",
                          "campaign", "offer", "template"})
      c.columns.push_back(Column{f, f});
  }
  c.target = parse_location(*find(j, "target"), "target", false);
  return c;
}

ReturnsConfig parse_returns(const Json& j) {
  const std::string w = "returns";
  if (!j.is_object()) fail(w, "must be an object");
  only_keys(j, w,
            {"dir", "sftp", "pattern", "delimiter", "encoding", "columns", "reason_map", "max_file_bytes",
             "max_field_bytes", "batch_rows"});
  ReturnsConfig c;
  c.from = parse_location(j, w, true);
  c.pattern = get_string(j, "pattern", w, std::string("*.csv"));
  if (c.pattern.empty()) fail(w + ".pattern", "must not be empty");
  c.delimiter = get_delimiter(j, w);
  c.encoding = get_encoding(j, w);
  if (const Json* cols = find(j, "columns")) {
    if (!cols->is_object() || cols->empty()) fail(w + ".columns", "must be a non-empty object {header: field}");
    for (const auto& [header, field] : cols->items()) {
      if (!field.is_string()) fail(w + ".columns." + header, "must be a string");
      auto f = return_field(field.get<std::string>());
      if (!f) fail(w + ".columns." + header, "unknown field \"" + field.get<std::string>() + "\"");
      for (const auto& [h, other] : c.columns)
        if (other == *f) fail(w + ".columns." + header, "field \"" + field.get<std::string>() + "\" is mapped twice");
      c.columns[header] = *f;
    }
    bool has_id = false, has_reason = false;
    for (const auto& [h, f] : c.columns) {
      has_id = has_id || f == ReturnField::contact_id;
      has_reason = has_reason || f == ReturnField::reason;
    }
    if (!has_id || !has_reason) fail(w + ".columns", "must map a column to contact_id and one to reason");
  }
  if (const Json* map = find(j, "reason_map")) {
    if (!map->is_object()) fail(w + ".reason_map", "must be an object {code: reason}");
    for (const auto& [code, reason] : map->items()) {
      if (!reason.is_string() || !is_return_reason(reason.get<std::string>()))
        fail(w + ".reason_map." + code, "must be one of moved, unknown, deceased, refused, insufficient_address");
      std::string folded = code;
      std::transform(folded.begin(), folded.end(), folded.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      c.reason_map[folded] = reason.get<std::string>();
    }
  }
  c.max_file_bytes = static_cast<uint64_t>(get_int(j, "max_file_bytes", w, 64 << 20, 1024, int64_t{1} << 30));
  c.max_field_bytes = static_cast<uint64_t>(get_int(j, "max_field_bytes", w, 64 << 10, 16, 1 << 20));
  c.batch_rows = static_cast<size_t>(get_int(j, "batch_rows", w, 500, 1, 10000));
  return c;
}

}  // namespace

bool is_return_reason(std::string_view r) {
  return r == "moved" || r == "unknown" || r == "deceased" || r == "refused" || r == "insufficient_address";
}

static constexpr std::array<std::pair<std::string_view, ReturnField>, 7> kReturnFields{{
    {"contact_id", ReturnField::contact_id},
    {"reason", ReturnField::reason},
    {"new_street", ReturnField::new_street},
    {"new_zip", ReturnField::new_zip},
    {"new_city", ReturnField::new_city},
    {"new_country", ReturnField::new_country},
    {"date", ReturnField::date},
}};

std::optional<ReturnField> return_field(std::string_view name) {
  for (const auto& [n, f] : kReturnFields)
    if (n == name) return f;
  return std::nullopt;
}

std::string_view return_field_name(ReturnField f) {
  for (const auto& [n, x] : kReturnFields)
    if (x == f) return n;
  return "?";
}

Config parse_config(std::string_view text) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("config is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw ConfigError("config must be a JSON object");
  only_keys(
      j, "",
      {"format", "prefix", "columns", "delimiter", "header", "encoding", "line_ending", "fsync", "target", "returns"});
  Config c;
  if (find(j, "target") != nullptr) {
    c.exporter = parse_export(j);
  } else {
    for (const char* k : {"format", "prefix", "columns", "delimiter", "header", "encoding", "line_ending", "fsync"})
      if (find(j, k) != nullptr) fail(k, "is an export setting and needs \"target\"");
  }
  if (const Json* r = find(j, "returns")) c.returns = parse_returns(*r);
  if (!c.exporter && !c.returns) throw ConfigError("config needs \"target\" (export), \"returns\" (source) or both");
  return c;
}

}  // namespace touchpoint::post
