#include "record/record.hpp"

#include <limits>
#include <stdexcept>

namespace touchpoint::core {
namespace {

std::string string_field(const Json& j, const char* name, const char* fallback) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw std::runtime_error(std::string("record ") + name + " must be a string");
  return it->get<std::string>();
}

}  // namespace

Json to_json(const Record& r) {
  return Json{{"id", r.id},    {"type", r.type}, {"source", r.source}, {"key", r.key},
              {"ts", r.ts_ms}, {"data", r.data}, {"meta", r.meta}};
}

Record record_from_json(const Json& j) {
  // Every malformed envelope is a std::runtime_error (never nlohmann's
  // type_error), so callers can tell "bad input" from bugs.
  if (!j.is_object()) throw std::runtime_error("record envelope must be a JSON object");
  Record r;
  r.id = string_field(j, "id", "");
  r.type = string_field(j, "type", "event");
  r.source = string_field(j, "source", "");
  r.key = string_field(j, "key", "");
  if (auto it = j.find("ts"); it != j.end() && !it->is_null()) {
    if (it->is_number_unsigned()) {
      if (it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        throw std::runtime_error("record ts is out of range");
      r.ts_ms = static_cast<int64_t>(it->get<uint64_t>());
    } else if (it->is_number_integer()) {
      r.ts_ms = it->get<int64_t>();
    } else {
      throw std::runtime_error("record ts must be an integer (Unix epoch milliseconds)");
    }
  }
  if (auto it = j.find("data"); it != j.end()) r.data = *it;
  if (auto it = j.find("meta"); it != j.end() && !it->is_null()) r.meta = *it;
  if (!r.data.is_object()) throw std::runtime_error("record data must be a JSON object");
  if (!r.meta.is_object()) throw std::runtime_error("record meta must be a JSON object");
  if (r.id.empty()) throw std::runtime_error("record id is empty");
  return r;
}

}  // namespace touchpoint::core
