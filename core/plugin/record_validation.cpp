#include "plugin/record_validation.hpp"

#include <simdjson.h>

#include <cstddef>
#include <cstdint>

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
  if (id.size() > TP_MAX_ID_BYTES || type.size() > TP_MAX_TYPE_BYTES || key.size() > TP_MAX_KEY_BYTES) {
    problem = "id, type or key too long (limits " + std::to_string(TP_MAX_ID_BYTES) + ", " +
              std::to_string(TP_MAX_TYPE_BYTES) + ", " + std::to_string(TP_MAX_KEY_BYTES) + " bytes)";
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
  if (data.size() + meta.size() > TP_MAX_RECORD_BYTES) {
    problem = "data + meta of " + std::to_string(data.size() + meta.size()) + " bytes exceed TP_MAX_RECORD_BYTES (" +
              std::to_string(TP_MAX_RECORD_BYTES) + ")";
    return false;
  }
  if (!is_object(data, problem, "data")) return false;
  if (!meta.empty() && !is_object(meta, problem, "meta")) return false;
  return true;
}

bool validate_emit_shape(const tp_emit* unit, tp_emit_done_fn done, std::string& problem) {
  if (unit == nullptr || done == nullptr || unit->size < offsetof(tp_emit, cursor) + sizeof(tp_str)) {
    problem = "emit(): unit or done callback missing, or unit too small";
    return false;
  }
  if ((unit->count > 0 && unit->records == nullptr) || (unit->reject_count > 0 && unit->rejects == nullptr)) {
    problem = "emit(): count > 0 with a NULL array";
    return false;
  }
  if (unit->count > UINT32_MAX / 2 || unit->reject_count > UINT32_MAX / 2) {
    problem = "emit(): too many records in one unit";
    return false;
  }
  return true;
}

bool validate_emit(const tp_emit* unit, tp_emit_done_fn done, std::string& problem) {
  if (!validate_emit_shape(unit, done, problem)) return false;
  if (validate_unit_size(*unit, problem)) return true;
  problem = "emit(): " + problem;
  return false;
}

bool validate_unit_size(const tp_emit& unit, std::string& problem) {
  const std::string_view cursor = view_of(unit.cursor);
  if (cursor.size() > TP_MAX_CURSOR_BYTES) {
    problem = "cursor of " + std::to_string(cursor.size()) + " bytes exceeds TP_MAX_CURSOR_BYTES (" +
              std::to_string(TP_MAX_CURSOR_BYTES) + ")";
    return false;
  }
  // Sums stay far below 2^64: every count was checked against UINT32_MAX/2
  // and every string against the record or reject limit first.
  uint64_t total = cursor.size();
  for (size_t i = 0; i < unit.count; ++i) {
    const tp_record& r = unit.records[i];
    if (r.size < offsetof(tp_record, encoding) + sizeof(r.encoding)) {
      problem = "record " + std::to_string(i) + ": tp_record.size is smaller than the v1.0 record";
      return false;
    }
    uint64_t fields = uint64_t{r.id.len} + r.type.len + r.key.len;
    uint64_t body = uint64_t{r.data.len} + r.meta.len;
    if (fields > TP_MAX_ID_BYTES + TP_MAX_TYPE_BYTES + TP_MAX_KEY_BYTES || body > TP_MAX_RECORD_BYTES) {
      problem = "record " + std::to_string(i) + ": larger than the record limits (data + meta " + std::to_string(body) +
                " bytes, TP_MAX_RECORD_BYTES " + std::to_string(TP_MAX_RECORD_BYTES) + ")";
      return false;
    }
    total += fields + body + TP_UNIT_RECORD_OVERHEAD;
  }
  for (size_t i = 0; i < unit.reject_count; ++i) {
    const tp_reject& x = unit.rejects[i];
    uint64_t n = uint64_t{x.raw.len} + x.reason.len + x.location.len;
    if (n > TP_MAX_REJECT_BYTES) {
      problem = "reject " + std::to_string(i) + ": raw + reason + location of " + std::to_string(n) +
                " bytes exceed TP_MAX_REJECT_BYTES (" + std::to_string(TP_MAX_REJECT_BYTES) + "); cut the raw input";
      return false;
    }
    total += n + TP_UNIT_RECORD_OVERHEAD;
  }
  if (total > TP_MAX_UNIT_BYTES) {
    problem = "unit of about " + std::to_string(total) + " bytes exceeds TP_MAX_UNIT_BYTES (" +
              std::to_string(TP_MAX_UNIT_BYTES) + "); split it into smaller units";
    return false;
  }
  return true;
}

std::string sanitize_utf8(std::string_view s) {
  if (simdjson::validate_utf8(s.data(), s.size())) return std::string(s);
  // Keep every maximal valid prefix, replace each offending byte.
  std::string out;
  out.reserve(s.size() + 16);
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len != 0 && i + len <= s.size() && simdjson::validate_utf8(s.data() + i, len)) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

}  // namespace touchpoint::core
