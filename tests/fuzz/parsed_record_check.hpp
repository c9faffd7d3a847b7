// What the harnesses of the webhook plugin's parsers (body, Segment API)
// check for every record they put into a ParsedBatch: its slices lie inside
// the arena, and the host's own validate_record (core/plugin/
// record_validation.cpp) accepts it at the real limits.
#ifndef TOUCHPOINT_FUZZ_PARSED_RECORD_CHECK_HPP
#define TOUCHPOINT_FUZZ_PARSED_RECORD_CHECK_HPP

#include <string>

#include "fuzz_util.hpp"
#include "plugin/record_validation.hpp"
#include "tp_common/body_parser.hpp"

/// Aborts on a broken record; returns the bytes the host counts for it in a unit.
inline size_t check_parsed_record(const tp_common::ParsedBatch& batch, const tp_common::ParsedRecord& r, size_t index) {
  using tp_common::Slice;
  for (Slice s : {r.id, r.type, r.key, r.data, r.meta})
    FUZZ_CHECK(s.offset <= batch.arena.size() && s.length <= batch.arena.size() - s.offset,
               "record %zu: slice outside the arena", index);
  tp_record rec{};
  rec.size = sizeof(tp_record);
  auto str = [&](Slice s) { return tp_str{batch.arena.data() + s.offset, s.length}; };
  rec.id = str(r.id);
  rec.type = str(r.type);
  rec.key = str(r.key);
  rec.ts_ms = r.ts_ms;
  rec.data = str(r.data);
  rec.meta = str(r.meta);
  rec.encoding = TP_ENCODING_JSON_UTF8;
  std::string problem;
  FUZZ_CHECK(touchpoint::core::validate_record(rec, problem), "the host refuses record %zu: %s", index,
             problem.c_str());
  return r.id.length + r.type.length + r.key.length + r.data.length + r.meta.length + TP_UNIT_RECORD_OVERHEAD;
}

#endif  // TOUCHPOINT_FUZZ_PARSED_RECORD_CHECK_HPP
