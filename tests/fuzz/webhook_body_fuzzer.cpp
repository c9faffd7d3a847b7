// Webhook body parser (plugins/common/tp_common/body_parser.*, with json_diagnostics.*
// on the error path and rfc3339.* for envelope timestamps).
//
// Input: two option bytes, then the request body.
// Invariants:
//  - parse() returns an error or a batch, never crashes or throws;
//  - an error has a message and a position inside the body (a line number
//    within the body's lines for NDJSON);
//  - every record's data is exactly one JSON object, its meta empty or one
//    JSON object, its slices inside the arena, its id and type never empty;
//    there are at most max_records, and exactly as many as the body has
//    objects (1, the array's length, or the non-blank NDJSON lines);
//  - "a batch that parses is one the host accepts": every record respects
//    the (sometimes lowered) limits, unit_bytes is what the host counts, and
//    the host's own validate_record (core/plugin/record_validation.cpp)
//    accepts every record at the real limits;
//  - the result does not depend on the padding bytes after the body, nor on
//    what the reused parser parsed before (same result twice in a row);
//  - parse_rfc3339_ms is noexcept and round-trips its own canonical form.
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "parsed_record_check.hpp"
#include "tp_common/body_parser.hpp"
#include "tp_common/rfc3339.hpp"

using namespace tp_common;
using tp_common::parse_rfc3339_ms;

namespace {

simdjson::dom::parser& checker() {
  static simdjson::dom::parser p(1u << 20);  // simdjson's default depth: deeper than any option here
  return p;
}

bool one_object(std::string_view json) {
  simdjson::dom::element e;
  if (checker().parse(json.data(), json.size()).get(e) != simdjson::SUCCESS) return false;
  return e.is_object();
}

struct Snapshot {
  bool ok = false;
  ParseError error;
  BodyFormat format = BodyFormat::json;
  std::vector<std::string> fields;  // id, type, key, data, meta, ts per record
};

Snapshot snapshot(const std::optional<ParseError>& err, const ParsedBatch& batch) {
  Snapshot s;
  s.ok = !err;
  if (err) {
    s.error = *err;
    return s;
  }
  s.format = batch.format;
  for (const ParsedRecord& r : batch.records) {
    for (Slice sl : {r.id, r.type, r.key, r.data, r.meta}) s.fields.emplace_back(batch.view(sl));
    s.fields.push_back(std::to_string(r.ts_ms));
  }
  return s;
}

bool same(const Snapshot& a, const Snapshot& b) {
  if (a.ok != b.ok) return false;
  if (!a.ok)
    return a.error.message == b.error.message && a.error.position == b.error.position && a.error.line == b.error.line &&
           a.error.too_large == b.error.too_large;
  return a.format == b.format && a.fields == b.fields;
}

size_t count_lines(std::string_view body) {
  return static_cast<size_t>(std::count(body.begin(), body.end(), '\n')) + 1;
}

size_t nonblank_lines(std::string_view body) {
  size_t n = 0, pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    if (line.find_first_not_of(" \t\r\n") != std::string_view::npos) ++n;
    pos = end + 1;
  }
  return n;
}

// Days since 1970-01-01 -> civil date (Howard Hinnant's civil_from_days).
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

void check_rfc3339(std::string_view text) {
  std::optional<int64_t> ms = parse_rfc3339_ms(text);
  if (!ms) return;
  int64_t v = *ms;
  int64_t days = (v >= 0 ? v : v - 86'399'999) / 86'400'000;
  int64_t rem = v - days * 86'400'000;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  if (y < 0 || y > 9999) return;  // the offset moved it out of four digits
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(y), m, d,
                static_cast<long long>(rem / 3'600'000), static_cast<long long>(rem / 60'000 % 60),
                static_cast<long long>(rem / 1000 % 60), static_cast<long long>(rem % 1000));
  std::optional<int64_t> again = parse_rfc3339_ms(buf);
  FUZZ_CHECK(again && *again == v, "'%.*s' -> %lld -> '%s' -> %lld", static_cast<int>(text.size()), text.data(),
             static_cast<long long>(v), buf, again ? static_cast<long long>(*again) : -1LL);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t opt = data[0], opt2 = data[1];
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);

  static constexpr std::string_view kIdFields[] = {"id", "customer_id", "messageId", ""};
  static constexpr std::string_view kKeyFields[] = {"", "customer_id", "key", "email"};
  static constexpr size_t kDepths[] = {64, 2, 1, 0, 8, 64, 1024, 64};
  static constexpr size_t kMaxRecords[] = {100000, 1, 3, 100000};
  ParseOptions options;
  options.id_field = kIdFields[opt & 3];
  options.key_field = kKeyFields[(opt >> 2) & 3];
  options.max_depth = kDepths[(opt >> 4) & 7];
  options.max_records = kMaxRecords[((opt >> 7) & 1) | ((opt & 1) << 1)];
  options.default_type = (opt & 0x40) != 0 ? "profile" : "event";
  static constexpr std::string_view kKeys[] = {"", "req-42", "a much longer idempotency key from a header value",
                                               "\x01bin\xff"};
  options.idempotency_key = kKeys[opt2 & 3];
  if ((opt2 & 4) != 0) {  // lowered limits, as the tests use them, so small bodies reach them
    options.max_id_bytes = 24;
    options.max_type_bytes = 8;
    options.max_key_bytes = 16;
    options.max_record_bytes = 96;
    options.max_unit_bytes = 400;
  }

  static BodyParser parser;
  static ParsedBatch batch;
  std::optional<ParseError> err = parser.parse(body, options, batch);
  const Snapshot first = snapshot(err, batch);

  if (err) {
    FUZZ_CHECK(!err->message.empty(), "error without a message");
    if (err->line)
      FUZZ_CHECK(err->position >= 1 && err->position <= count_lines(body), "line %zu of %zu", err->position,
                 count_lines(body));
    else
      FUZZ_CHECK(err->position <= body.size(), "error position %zu beyond the body (%zu)", err->position, body.size());
  } else {
    FUZZ_CHECK(batch.records.size() <= options.max_records, "%zu records > max_records", batch.records.size());
    size_t unit_bytes = 0;
    for (size_t i = 0; i < batch.records.size(); ++i) {
      const ParsedRecord& r = batch.records[i];
      FUZZ_CHECK(r.type.length > 0 && r.id.length > 0, "record %zu has an empty type or id", i);
      FUZZ_CHECK(is_valid_record_type(batch.view(r.type), options.max_type_bytes), "record %zu type '%.*s'", i,
                 static_cast<int>(r.type.length), batch.view(r.type).data());
      FUZZ_CHECK(r.id.length <= options.max_id_bytes && r.key.length <= options.max_key_bytes &&
                     r.data.length + r.meta.length <= options.max_record_bytes,
                 "record %zu over a limit: id %zu, key %zu, data+meta %zu", i, r.id.length, r.key.length,
                 r.data.length + r.meta.length);
      unit_bytes += check_parsed_record(batch, r, i);
      FUZZ_CHECK(one_object(batch.view(r.data)), "record %zu data is not one JSON object: %.*s", i,
                 static_cast<int>(std::min<size_t>(r.data.length, 200)), batch.view(r.data).data());
      FUZZ_CHECK(r.meta.length == 0 || one_object(batch.view(r.meta)), "record %zu meta is not a JSON object", i);
    }
    size_t expected = 0;
    if (batch.format == BodyFormat::json) {
      expected = 1;
    } else if (batch.format == BodyFormat::ndjson) {
      expected = nonblank_lines(body);
    } else {
      simdjson::dom::element root;
      simdjson::padded_string padded(body);
      FUZZ_CHECK(checker().parse(padded).get(root) == simdjson::SUCCESS && root.is_array(),
                 "accepted json_array body is not an array");
      expected = root.get_array().value_unsafe().size();
    }
    FUZZ_CHECK(batch.records.size() == expected, "%zu records, the body has %zu objects (format %d)",
               batch.records.size(), expected, static_cast<int>(batch.format));
    FUZZ_CHECK(batch.unit_bytes == unit_bytes && unit_bytes <= options.max_unit_bytes, "unit_bytes %zu, counted %zu",
               batch.unit_bytes, unit_bytes);
  }

  // Same parser again: no state carried over from the previous call.
  err = parser.parse(body, options, batch);
  FUZZ_CHECK(same(first, snapshot(err, batch)), "second parse of the same body differs");

  // parse_padded with junk in the padding: the padding content must not matter.
  {
    static BodyParser padded_parser;
    static ParsedBatch padded_batch;
    std::string buf(body);
    const char junk = "\"{}[]\\,:\n0 "[opt % 11];
    buf.append(kBodyPadding, junk);
    err = padded_parser.parse_padded(std::string_view(buf.data(), body.size()), options, padded_batch);
    FUZZ_CHECK(same(first, snapshot(err, padded_batch)), "result depends on the padding bytes ('%c')", junk);
  }

  check_rfc3339(body.substr(0, 40));
  return 0;
}
