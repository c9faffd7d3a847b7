#include "cursor.hpp"

#include <simdjson.h>

#include "json_util.hpp"

namespace touchpoint::csv {

std::string to_json(const Cursor& c) {
  std::string out = "{\"file\":";
  append_json_string(out, c.file);
  out += ",\"size\":" + std::to_string(c.size);
  out += ",\"mtime\":" + std::to_string(c.mtime);
  out += ",\"offset\":" + std::to_string(c.offset);
  out += ",\"line\":" + std::to_string(c.line);
  out += c.eof ? ",\"eof\":true}" : ",\"eof\":false}";
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
  if (obj["file"].get_string().get(file) || file.empty()) return fail("cursor has no \"file\"");
  if (file.find('/') != std::string_view::npos || file == "." || file == "..")
    return fail("cursor file is not a plain name");
  c.file = std::string(file);
  if (obj["size"].get_uint64().get(c.size)) return fail("cursor has no \"size\"");
  if (obj["mtime"].get_int64().get(c.mtime)) return fail("cursor has no \"mtime\"");
  if (obj["offset"].get_uint64().get(c.offset)) return fail("cursor has no \"offset\"");
  if (obj["line"].get_uint64().get(c.line) || c.line == 0) return fail("cursor has no \"line\"");
  if (obj["eof"].get_bool().get(c.eof)) return fail("cursor has no \"eof\"");
  return c;
}

}  // namespace touchpoint::csv
