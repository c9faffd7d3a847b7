#include "csv_config.hpp"

#include <simdjson.h>

#include <cstdint>
#include <set>

#include "encoding.hpp"
#include "sdk.hpp"

namespace touchpoint::csv {
namespace {

[[noreturn]] void fail(std::string_view key, std::string_view message) {
  throw ConfigError(std::string(key) + ": " + std::string(message));
}

std::string get_string(simdjson::dom::element v, std::string_view key, bool allow_empty = false) {
  std::string_view s;
  if (v.get_string().get(s)) fail(key, "must be a string");
  if (s.empty() && !allow_empty) fail(key, "must not be empty");
  return std::string(s);
}

bool get_bool(simdjson::dom::element v, std::string_view key) {
  bool b = false;
  if (v.get_bool().get(b)) fail(key, "must be true or false");
  return b;
}

int64_t get_int(simdjson::dom::element v, std::string_view key, int64_t min, int64_t max) {
  int64_t i = 0;
  if (v.get_int64().get(i)) fail(key, "must be an integer");
  if (i < min || i > max) fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  return i;
}

bool is_prefix(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.size() > b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

std::string join(const std::vector<std::string>& path) {
  std::string s;
  for (const auto& p : path) {
    if (!s.empty()) s += '.';
    s += p;
  }
  return s;
}

}  // namespace

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t dot = path.find('.', start);
    std::string_view seg = path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (seg.empty()) return {};
    out.emplace_back(seg);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

Config parse_config(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto e = parser.parse(json.data(), json.size()).get(doc); e)
    throw ConfigError(std::string("config is not valid JSON: ") + simdjson::error_message(e));
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) throw ConfigError("config must be a JSON object");

  Config c;
  std::set<std::string_view> seen;
  bool have_done_dir = false;
  for (auto [key, value] : obj) {
    if (!seen.insert(key).second) fail(key, "given twice");
    if (key == "inbox") {
      c.inbox = get_string(value, key);
    } else if (key == "done_dir") {
      c.done_dir = get_string(value, key);
      have_done_dir = true;
    } else if (key == "pattern") {
      c.pattern = get_string(value, key);
    } else if (key == "delimiter") {
      std::string d = get_string(value, key);
      if (d == "auto") {
        c.delimiter = 0;
      } else if (d == ";" || d == "," || d == "\t") {
        c.delimiter = d[0];
      } else {
        fail(key, "must be \";\", \",\", \"\\t\" or \"auto\"");
      }
    } else if (key == "encoding") {
      c.encoding = get_string(value, key);
    } else if (key == "header") {
      c.header = get_bool(value, key);
    } else if (key == "columns") {
      simdjson::dom::object cols;
      if (value.get_object().get(cols)) fail(key, "must be an object mapping header names to field paths");
      std::set<std::string_view> names;
      for (auto [column, path] : cols) {
        const std::string where = "columns." + std::string(column);
        if (!names.insert(column).second) fail(where, "given twice");
        std::string p = get_string(path, where);
        ColumnMapping m{std::string(column), split_path(p)};
        if (m.path.empty()) fail(where, "'" + p + "' is not a valid field path (empty segment)");
        c.columns.push_back(std::move(m));
      }
    } else if (key == "only_mapped") {
      c.only_mapped = get_bool(value, key);
    } else if (key == "type") {
      c.type = get_string(value, key);
      // The hub refuses a whole unit for one record with another type: check it once here.
      bool ok = c.type.size() <= TP_MAX_TYPE_BYTES;
      for (char ch : c.type)
        ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.');
      if (!ok)
        fail(key, "must be at most " + std::to_string(TP_MAX_TYPE_BYTES) +
                      " characters of a-z, 0-9, '_', '-', '.' (the hub refuses other record types)");
    } else if (key == "key_column") {
      c.key_column = get_string(value, key);
    } else if (key == "id_column") {
      c.id_column = get_string(value, key);
    } else if (key == "batch_rows") {
      c.batch_rows = static_cast<size_t>(get_int(value, key, 1, 1000000));
    } else if (key == "settle_ms") {
      c.settle_ms = get_int(value, key, 0, int64_t{24} * 3600 * 1000);
    } else if (key == "trim") {
      c.trim = get_bool(value, key);
    } else if (key == "max_row_bytes") {
      // Larger rows could not become records within the hub's TP_MAX_RECORD_BYTES.
      const int64_t n = get_int(value, key, INT64_MIN, INT64_MAX);
      if (n < static_cast<int64_t>(kMinRowBytes) || n > static_cast<int64_t>(kMaxRowBytesLimit))
        fail(key, "must be between " + std::to_string(kMinRowBytes) + " and " + std::to_string(kMaxRowBytesLimit) +
                      " (8 MiB, half the hub's record limit TP_MAX_RECORD_BYTES of " +
                      std::to_string(TP_MAX_RECORD_BYTES) + " bytes: a row must still fit once it is JSON)");
      c.max_row_bytes = static_cast<size_t>(n);
    } else {
      throw ConfigError("unknown config key '" + std::string(key) + "'");
    }
  }

  if (c.inbox.empty()) throw ConfigError("inbox: is required");
  if (!have_done_dir) c.done_dir = c.inbox / "done";
  auto norm = [](const std::filesystem::path& p) {
    std::filesystem::path n = std::filesystem::absolute(p).lexically_normal();
    return n.has_filename() ? n : n.parent_path();
  };
  if (norm(c.done_dir) == norm(c.inbox)) fail("done_dir", "must differ from inbox");
  if (c.only_mapped && c.columns.empty()) fail("only_mapped", "requires columns");
  for (size_t i = 0; i < c.columns.size(); ++i) {
    for (size_t j = i + 1; j < c.columns.size(); ++j) {
      const auto& a = c.columns[i].path;
      const auto& b = c.columns[j].path;
      if (is_prefix(a, b) || is_prefix(b, a))
        fail("columns", "'" + c.columns[i].column + "' -> '" + join(a) + "' conflicts with '" + c.columns[j].column +
                            "' -> '" + join(b) + "'");
    }
  }
  Decoder probe(c.encoding);  // throws ConfigError for unknown or unsupported encodings
  return c;
}

}  // namespace touchpoint::csv
