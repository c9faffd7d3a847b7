#include "record/record.hpp"

#include <stdexcept>

namespace touchpoint::core {

Json to_json(const Record& r) {
  return Json{{"id", r.id}, {"type", r.type}, {"source", r.source}, {"key", r.key},
              {"ts", r.ts_ms},   {"data", r.data}, {"meta", r.meta}};
}

Record record_from_json(const Json& j) {
  if (!j.is_object()) throw std::runtime_error("record envelope must be a JSON object");
  Record r;
  r.id = j.value("id", "");
  r.type = j.value("type", "event");
  r.source = j.value("source", "");
  r.key = j.value("key", "");
  r.ts_ms = j.value("ts", int64_t{0});
  if (auto it = j.find("data"); it != j.end()) r.data = *it;
  if (auto it = j.find("meta"); it != j.end()) r.meta = *it;
  if (!r.data.is_object()) throw std::runtime_error("record data must be a JSON object");
  if (r.id.empty()) throw std::runtime_error("record id is empty");
  return r;
}

}  // namespace touchpoint::core
