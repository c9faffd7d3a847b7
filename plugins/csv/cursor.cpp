#include "cursor.hpp"

#include <simdjson.h>

#include "encoding.hpp"
#include "json_util.hpp"

namespace touchpoint::csv {

namespace {

std::string to_hex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xFu]);
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view s) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (s.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2) {
    const int hi = digit(s[i]), lo = digit(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

}  // namespace

std::string to_json(const Cursor& c) {
  std::string out;
  if (valid_utf8(c.file)) {
    out = "{\"file\":";
    append_json_string(out, c.file);
  } else {  // JSON cannot carry the bytes of a name that is not UTF-8
    out = "{\"file_hex\":\"" + to_hex(c.file) + "\"";
  }
  out += ",\"size\":" + std::to_string(c.size);
  out += ",\"mtime\":" + std::to_string(c.mtime);
  out += ",\"offset\":" + std::to_string(c.offset);
  out += ",\"line\":" + std::to_string(c.line);
  out += c.eof ? ",\"eof\":true" : ",\"eof\":false";
  if (c.horizon != 0) {
    out += ",\"horizon\":" + std::to_string(c.horizon);
    out += c.strict ? ",\"strict\":true" : ",\"strict\":false";
  }
  out += '}';
  return out;
}

std::optional<Cursor> parse_cursor(std::string_view json, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<Cursor> {
    if (error != nullptr) *error = std::move(message);
    return std::nullopt;
  };
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto e = parser.parse(json.data(), json.size()).get(doc); e) return fail(simdjson::error_message(e));
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) return fail("cursor is not a JSON object");
  Cursor c;
  std::string_view file;
  if (!obj["file"].get_string().get(file)) {
    c.file = std::string(file);
  } else if (std::string_view hex; !obj["file_hex"].get_string().get(hex)) {
    std::optional<std::string> bytes = from_hex(hex);
    if (!bytes) return fail("cursor \"file_hex\" is not hex");
    c.file = std::move(*bytes);
  }
  if (c.file.empty()) return fail("cursor has no \"file\"");
  if (c.file.find('/') != std::string::npos || c.file.find('\0') != std::string::npos || c.file == "." ||
      c.file == "..")
    return fail("cursor file is not a plain name");
  if (obj["size"].get_uint64().get(c.size)) return fail("cursor has no \"size\"");
  if (obj["mtime"].get_int64().get(c.mtime)) return fail("cursor has no \"mtime\"");
  if (obj["offset"].get_uint64().get(c.offset)) return fail("cursor has no \"offset\"");
  if (obj["line"].get_uint64().get(c.line) || c.line == 0) return fail("cursor has no \"line\"");
  if (obj["eof"].get_bool().get(c.eof)) return fail("cursor has no \"eof\"");
  // Optional (absent in cursors without recovery state, and in those of earlier versions).
  if (auto h = obj["horizon"]; h.error() != simdjson::NO_SUCH_FIELD) {
    if (h.get_uint64().get(c.horizon)) return fail("cursor \"horizon\" is not a number");
    if (auto st = obj["strict"]; st.error() != simdjson::NO_SUCH_FIELD && st.get_bool().get(c.strict))
      return fail("cursor \"strict\" is not a boolean");
  }
  return c;
}

}  // namespace touchpoint::csv
