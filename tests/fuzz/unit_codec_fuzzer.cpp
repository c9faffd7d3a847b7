// Journal unit codec (core/journal/unit_codec.*).
//
// Invariants:
//  - decode_unit_header reads the same source and cursor as decode_unit
//    whenever decode_unit succeeds, and only throws std::runtime_error;
//  - decode_unit of arbitrary bytes either succeeds or throws
//    std::runtime_error (nothing else: the applier only catches that), and
//    every view it returns lies inside the payload;
//  - the encoding is canonical: whatever decodes re-encodes to the very same
//    bytes (decode -> encode is the identity);
//  - encode -> decode is the identity for a unit built from the input, and
//    that encoding cut short anywhere, or with any byte appended, is refused.
#include <fuzzer/FuzzedDataProvider.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "journal/unit_codec.hpp"

using namespace touchpoint::core::journal;

namespace {

struct Rec {
  std::string id, type, key, data, meta;
  int64_t ts = 0;
};
struct Rej {
  std::string raw, reason, location;
};

bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

std::string encode(std::string_view source, std::string_view cursor, int64_t received, const std::vector<Rec>& recs,
                   const std::vector<Rej>& rejs, bool explicit_rejects) {
  UnitEncoder enc(source, cursor, received, static_cast<uint32_t>(recs.size()));
  for (const Rec& r : recs) enc.add_record(r.id, r.type, r.key, r.ts, r.data, r.meta);
  if (explicit_rejects || !rejs.empty()) {
    enc.begin_rejects(static_cast<uint32_t>(rejs.size()));
    for (const Rej& x : rejs) enc.add_reject(x.raw, x.reason, x.location);
  }
  return enc.finish();
}

enum class Decoded { ok, refused };

Decoded try_decode(std::string_view payload, UnitView& out) {
  try {
    out = decode_unit(payload);
    return Decoded::ok;
  } catch (const std::runtime_error&) {
    return Decoded::refused;
  }
  // Any other exception type escapes and is reported by libFuzzer.
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);

  // 1. Arbitrary bytes; canonical re-encoding of what decodes.
  UnitView u;
  UnitHeader header;
  bool header_ok = false;
  try {
    header = decode_unit_header(raw);
    header_ok = true;
  } catch (const std::runtime_error&) {
  }
  if (try_decode(raw, u) == Decoded::ok) {
    FUZZ_CHECK(header_ok && header.source == u.source && header.cursor == u.cursor,
               "decode_unit_header disagrees with decode_unit");
    FUZZ_CHECK(inside(u.source, raw) && inside(u.cursor, raw), "source/cursor view outside the payload");
    std::vector<Rec> recs;
    for (const RecordView& r : u.records) {
      for (std::string_view s : {r.id, r.type, r.key, r.data, r.meta})
        FUZZ_CHECK(inside(s, raw), "record view outside the payload");
      recs.push_back({std::string(r.id), std::string(r.type), std::string(r.key), std::string(r.data),
                      std::string(r.meta), r.ts_ms});
    }
    std::vector<Rej> rejs;
    for (const RejectView& x : u.rejects) {
      for (std::string_view s : {x.raw, x.reason, x.location}) FUZZ_CHECK(inside(s, raw), "reject view outside");
      rejs.push_back({std::string(x.raw), std::string(x.reason), std::string(x.location)});
    }
    std::string again = encode(u.source, u.cursor, u.received_ms, recs, rejs, true);
    FUZZ_CHECK(again == raw, "decode -> encode is not the identity (%zu vs %zu bytes)", again.size(), raw.size());
  }

  // 2. A unit built from the input: encode -> decode round trip.
  FuzzedDataProvider fdp(data, size);
  const bool explicit_rejects = fdp.ConsumeBool();
  const std::string source = fdp.ConsumeRandomLengthString(64);
  const std::string cursor = fdp.ConsumeRandomLengthString(256);
  const int64_t received = fdp.ConsumeIntegral<int64_t>();
  const size_t nrec = fdp.ConsumeIntegralInRange<size_t>(0, 8);
  const size_t nrej = fdp.ConsumeIntegralInRange<size_t>(0, 4);
  const size_t cut = fdp.ConsumeIntegral<uint32_t>();
  const uint8_t extra = fdp.ConsumeIntegral<uint8_t>();
  std::vector<Rec> recs(nrec);
  for (Rec& r : recs) {
    r.id = fdp.ConsumeRandomLengthString(64);
    r.type = fdp.ConsumeRandomLengthString(16);
    r.key = fdp.ConsumeRandomLengthString(64);
    r.ts = fdp.ConsumeIntegral<int64_t>();
    r.data = fdp.ConsumeRandomLengthString(512);
    r.meta = fdp.ConsumeRandomLengthString(128);
  }
  std::vector<Rej> rejs(nrej);
  for (Rej& x : rejs) {
    x.raw = fdp.ConsumeRandomLengthString(256);
    x.reason = fdp.ConsumeRandomLengthString(64);
    x.location = fdp.ConsumeRandomLengthString(32);
  }
  const std::string enc = encode(source, cursor, received, recs, rejs, explicit_rejects);

  UnitView d;
  FUZZ_CHECK(try_decode(enc, d) == Decoded::ok, "own encoding refused");
  FUZZ_CHECK(d.source == source && d.cursor == cursor && d.received_ms == received, "unit header differs");
  FUZZ_CHECK(d.records.size() == recs.size() && d.rejects.size() == rejs.size(), "counts differ");
  for (size_t i = 0; i < recs.size(); ++i) {
    const RecordView& a = d.records[i];
    const Rec& b = recs[i];
    FUZZ_CHECK(
        a.id == b.id && a.type == b.type && a.key == b.key && a.ts_ms == b.ts && a.data == b.data && a.meta == b.meta,
        "record %zu differs after the round trip", i);
  }
  for (size_t i = 0; i < rejs.size(); ++i) {
    const RejectView& a = d.rejects[i];
    FUZZ_CHECK(a.raw == rejs[i].raw && a.reason == rejs[i].reason && a.location == rejs[i].location,
               "reject %zu differs after the round trip", i);
  }

  UnitView ignored;
  const size_t short_len = cut % enc.size();  // enc is never empty
  FUZZ_CHECK(try_decode(std::string_view(enc).substr(0, short_len), ignored) == Decoded::refused,
             "encoding cut to %zu of %zu bytes was accepted", short_len, enc.size());
  std::string longer = enc;
  longer.push_back(static_cast<char>(extra));
  FUZZ_CHECK(try_decode(longer, ignored) == Decoded::refused, "encoding with a trailing byte was accepted");
  return 0;
}
