#include "tp_common/record_emitter.hpp"

namespace tp_common {

tp_status emit_batch(const touchpoint::Host& host, const ParsedBatch& batch, std::vector<tp_record>& scratch,
                     tp_emit_done_fn done, void* user, std::string& error, std::span<const tp_reject> rejects) {
  auto slice = [&](Slice s) { return tp_str{s.length ? batch.arena.data() + s.offset : nullptr, s.length}; };
  scratch.clear();
  scratch.reserve(batch.records.size());
  for (const ParsedRecord& r : batch.records) {
    tp_record c{};
    c.size = sizeof(tp_record);
    c.id = slice(r.id);
    c.type = slice(r.type);
    c.key = slice(r.key);
    c.ts_ms = r.ts_ms;
    c.data = slice(r.data);
    c.meta = slice(r.meta);
    c.encoding = TP_ENCODING_JSON_UTF8;
    scratch.push_back(c);
  }
  tp_emit unit{};
  unit.size = sizeof(tp_emit);
  unit.records = scratch.data();
  unit.count = scratch.size();
  unit.rejects = rejects.data();
  unit.reject_count = rejects.size();
  unit.cursor = tp_str{nullptr, 0};

  char buffer[512];
  tp_error err{sizeof(tp_error), buffer, sizeof(buffer), 0};
  const tp_host_api* api = host.api();
  tp_status status = api->emit(host.ctx(), &unit, done, user, &err);
  if (status != TP_OK) error.assign(buffer, err.len < sizeof(buffer) ? err.len : sizeof(buffer));
  return status;
}

}  // namespace tp_common
