#include "plugin/record_validation.hpp"

#include <simdjson.h>

namespace touchpoint::core {
namespace {

bool is_object(std::string_view json, std::string& problem, const char* what) {
  // One parser per thread: emit() is called from plugin threads concurrently.
  static thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  auto error = parser.parse(json.data(), json.size()).get(doc);
  if (error) {
    problem = std::string(what) + " is not valid JSON: " + simdjson::error_message(error);
    return false;
  }
  if (!doc.is_object()) {
    problem = std::string(what) + " must be a JSON object";
    return false;
  }
  return true;
}

}  // namespace

bool validate_record(const tp_record& r, std::string& problem) {
  if (r.size < offsetof(tp_record, encoding) + sizeof(r.encoding)) {
    problem = "tp_record.size is smaller than the v1.0 record";
    return false;
  }
  if (r.encoding != TP_ENCODING_JSON_UTF8) {
    problem = "unsupported encoding " + std::to_string(r.encoding);
    return false;
  }
  std::string_view id = view_of(r.id), type = view_of(r.type), key = view_of(r.key);
  if (id.size() > kMaxIdBytes || type.size() > 64 || key.size() > 1024) {
    problem = "id, type or key too long (limits 256, 64, 1024 bytes)";
    return false;
  }
  for (std::string_view s : {id, type, key})
    if (!simdjson::validate_utf8(s.data(), s.size())) {
      problem = "id, type or key is not valid UTF-8";
      return false;
    }
  for (char c : type)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) {
      problem = "type must use a-z, 0-9, '_', '-', '.'";
      return false;
    }
  std::string_view data = view_of(r.data), meta = view_of(r.meta);
  if (data.size() + meta.size() > kMaxRecordBytes) {
    problem = "record larger than 16 MiB";
    return false;
  }
  if (!is_object(data, problem, "data")) return false;
  if (!meta.empty() && !is_object(meta, problem, "meta")) return false;
  return true;
}

}  // namespace touchpoint::core
