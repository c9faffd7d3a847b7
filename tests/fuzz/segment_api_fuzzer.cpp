// Segment tracking API parser (plugins/webhook/segment_parser.*): the body of
// a POST /v1/<call> from analytics.js, analytics-node or a RudderStack SDK.
//
// Input: one option byte (call, limits, event map), then the request body.
// Invariants:
//  - parse() returns an error or a batch, never crashes or throws;
//  - an error has a message and a position inside the body;
//  - every record is one the host accepts (core/plugin/record_validation.cpp
//    at the real limits; the lowered limits respected), its type one of
//    profile, event, group, its data one JSON object, its meta one JSON
//    object holding "segment"; ids are never empty;
//  - a single-message call gives exactly one record; a batch exactly as many
//    as its "batch" array has elements, at most max_records;
//  - unit_bytes is what the host counts;
//  - writeKey comes back exactly when the body is an object with a string
//    writeKey, whenever the body parses;
//  - the result depends neither on the padding bytes after the body nor on
//    what the reused parser parsed before;
//  - segment_event_type() of any text is 1..128 bytes of [a-z0-9_].
#include <simdjson.h>

#include <map>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "parsed_record_check.hpp"
#include "segment_parser.hpp"

using namespace touchpoint::webhook;
using namespace tp_common;

namespace {

simdjson::dom::parser& checker() {
  static simdjson::dom::parser p(1u << 20);
  return p;
}

bool parse_check(std::string_view json, simdjson::dom::element& e) {
  return checker().parse(json.data(), json.size()).get(e) == simdjson::SUCCESS;
}

struct Snapshot {
  bool ok = false;
  std::string error;
  size_t position = 0;
  bool too_large = false;
  std::string write_key;
  std::vector<std::string> fields;
};

Snapshot snapshot(const std::optional<ParseError>& err, const ParsedBatch& batch, const std::string& write_key) {
  Snapshot s;
  s.ok = !err;
  s.write_key = write_key;
  if (err) {
    s.error = err->message;
    s.position = err->position;
    s.too_large = err->too_large;
    return s;
  }
  for (const ParsedRecord& r : batch.records) {
    for (Slice sl : {r.id, r.type, r.key, r.data, r.meta}) s.fields.emplace_back(batch.view(sl));
    s.fields.push_back(std::to_string(r.ts_ms));
  }
  return s;
}

bool same(const Snapshot& a, const Snapshot& b) {
  return a.ok == b.ok && a.error == b.error && a.position == b.position && a.too_large == b.too_large &&
         a.write_key == b.write_key && a.fields == b.fields;
}

void check_event_type(std::string_view text) {
  const std::string t = segment_event_type(text);
  FUZZ_CHECK(!t.empty() && t.size() <= 128, "event type of %zu bytes", t.size());
  for (char c : t) FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_', "byte 0x%02x", c & 0xff);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t opt = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  static constexpr SegmentCall kCalls[] = {SegmentCall::batch, SegmentCall::identify, SegmentCall::track,
                                           SegmentCall::page,  SegmentCall::screen,   SegmentCall::group,
                                           SegmentCall::alias, SegmentCall::batch};
  static const std::map<std::string, std::string, std::less<>> kEventTypes = {{"Order Completed", "purchase"},
                                                                              {"Signed Up", "signup"}};
  static constexpr size_t kDepths[] = {64, 3, 1, 1024};
  SegmentOptions options;
  options.call = kCalls[opt & 7];
  options.max_depth = kDepths[(opt >> 3) & 3];
  options.event_types = (opt & 0x20) != 0 ? &kEventTypes : nullptr;
  options.anonymous_system = (opt & 0x40) != 0 ? "anon" : "web_anonymous";
  options.received_ms = 1'764'590'000'000;
  if ((opt & 0x80) != 0) {  // lowered limits, so small bodies reach them
    options.max_message_bytes = 200;
    options.max_records = 3;
    options.max_record_bytes = 400;
    options.max_unit_bytes = 1200;
  }

  static SegmentParser parser;
  static ParsedBatch batch;
  std::string write_key;
  std::optional<ParseError> err = parser.parse(body, options, batch, write_key);
  const Snapshot first = snapshot(err, batch, write_key);

  simdjson::dom::element root;
  const bool valid_json = parse_check(body, root);
  if (err) {
    FUZZ_CHECK(!err->message.empty(), "error without a message");
    FUZZ_CHECK(err->position <= body.size(), "error position %zu beyond the body (%zu)", err->position, body.size());
  } else {
    FUZZ_CHECK(valid_json && root.is_object(), "accepted a body that is not a JSON object");
    FUZZ_CHECK(batch.records.size() <= options.max_records, "%zu records > max_records", batch.records.size());
    size_t unit_bytes = 0;
    for (size_t i = 0; i < batch.records.size(); ++i) {
      const ParsedRecord& r = batch.records[i];
      const std::string_view type = batch.view(r.type);
      FUZZ_CHECK(type == "profile" || type == "event" || type == "group", "record %zu type '%.*s'", i,
                 static_cast<int>(type.size()), type.data());
      FUZZ_CHECK(r.id.length > 0, "record %zu has an empty id", i);
      FUZZ_CHECK(r.data.length + r.meta.length <= options.max_record_bytes, "record %zu: %zu bytes", i,
                 r.data.length + r.meta.length);
      unit_bytes += check_parsed_record(batch, r, i);
      simdjson::dom::element e;
      FUZZ_CHECK(parse_check(batch.view(r.data), e) && e.is_object(), "record %zu data is not one JSON object", i);
      FUZZ_CHECK(parse_check(batch.view(r.meta), e) && e.is_object() && e["segment"].is_object(),
                 "record %zu meta has no segment object", i);
    }
    FUZZ_CHECK(batch.unit_bytes == unit_bytes && unit_bytes <= options.max_unit_bytes, "unit_bytes %zu, counted %zu",
               batch.unit_bytes, unit_bytes);
    if (options.call != SegmentCall::batch) {
      FUZZ_CHECK(batch.records.size() == 1, "a single-message call gave %zu records", batch.records.size());
    } else {
      parse_check(body, root);
      simdjson::dom::array messages;
      FUZZ_CHECK(root["batch"].get_array().get(messages) == simdjson::SUCCESS, "accepted a batch without an array");
      FUZZ_CHECK(batch.records.size() == messages.size(), "%zu records for %zu messages", batch.records.size(),
                 messages.size());
    }
  }
  if (!valid_json || !parse_check(body, root) || !root.is_object()) {
    FUZZ_CHECK(write_key.empty(), "a writeKey from a body that is no JSON object");
  } else if (!err) {
    std::string_view key;
    if (root["writeKey"].get_string().get(key) != simdjson::SUCCESS) key = {};
    FUZZ_CHECK(write_key == key, "writeKey '%s' came back as '%s'", std::string(key).c_str(), write_key.c_str());
  }

  // Same parser again: nothing carried over from the previous call.
  err = parser.parse(body, options, batch, write_key);
  FUZZ_CHECK(same(first, snapshot(err, batch, write_key)), "second parse of the same body differs");

  // parse_padded with junk in the padding: its content must not matter.
  {
    static SegmentParser padded_parser;
    static ParsedBatch padded_batch;
    std::string buf(body);
    buf.append(kBodyPadding, "\"{}[]\\,:\n0 "[opt % 11]);
    std::string padded_key;
    err = padded_parser.parse_padded(std::string_view(buf.data(), body.size()), options, padded_batch, padded_key);
    FUZZ_CHECK(same(first, snapshot(err, padded_batch, padded_key)), "result depends on the padding bytes");
  }

  check_event_type(body.substr(0, 300));
  return 0;
}
