// CSV encodings (plugins/csv/encoding.*): UTF-8 validation, escaping and
// iconv decoding.
//
// Input: one mode byte, then the bytes (in name mode: a NUL-terminated
// encoding name first).
// Invariants:
//  - valid_utf8 agrees with an independent validator (Unicode 15, table 3-7)
//    and with simdjson, and its bad_offset is the first offending byte;
//  - escape_invalid_utf8 always returns valid UTF-8, and returns its input
//    unchanged exactly when that is valid;
//  - Decoder("utf-8") accepts exactly the valid inputs and copies them;
//    latin-1 accepts everything and converts back losslessly; every decoder
//    (windows-1252, or any name iconv knows, from the input) either refuses
//    with a message or appends valid UTF-8 to what `out` already held, and
//    ASCII maps to itself;
//  - the Decoder constructor fails only with ConfigError.
#include <iconv.h>
#include <simdjson.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "encoding.hpp"
#include "fuzz_util.hpp"
#include "sdk.hpp"

using namespace touchpoint::csv;

namespace {

// Reference: offset of the first byte that is not part of a well-formed
// sequence, or npos.
size_t reference_first_invalid(std::string_view s) {
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  while (i < s.size()) {
    unsigned char c = at(i);
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c <= 0x7F) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3, lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      len = 3;
    } else if (c == 0xED) {
      len = 3, hi = 0x9F;
    } else if (c == 0xF0) {
      len = 4, lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4, hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    if (at(i + 1) < lo || at(i + 1) > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if (at(i + k) < 0x80 || at(i + k) > 0xBF) return i;
    i += len;
  }
  return std::string_view::npos;
}

bool reference_valid(std::string_view s) { return reference_first_invalid(s) == std::string_view::npos; }

std::string latin1_from_utf8(const std::string& utf8) {
  iconv_t cd = iconv_open("ISO-8859-1", "UTF-8");
  FUZZ_CHECK(cd != reinterpret_cast<iconv_t>(-1), "iconv_open latin-1");
  std::string out(utf8.size(), '\0');
  char* src = const_cast<char*>(utf8.data());
  size_t src_left = utf8.size();
  char* dst = out.data();
  size_t dst_left = out.size();
  size_t rc = iconv(cd, &src, &src_left, &dst, &dst_left);
  iconv_close(cd);
  FUZZ_CHECK(rc != static_cast<size_t>(-1), "latin-1 text does not convert back");
  out.resize(out.size() - dst_left);
  return out;
}

void check_decoder(Decoder& dec, std::string_view in, bool must_accept) {
  std::string out = "prefix:";
  std::string error;
  bool ok = dec.to_utf8(in, out, error);
  if (must_accept) FUZZ_CHECK(ok, "%s refused input: %s", dec.name().c_str(), error.c_str());
  if (!ok) {
    FUZZ_CHECK(!error.empty(), "%s refused without a message", dec.name().c_str());
    return;
  }
  FUZZ_CHECK(out.compare(0, 7, "prefix:") == 0, "%s overwrote what out held", dec.name().c_str());
  const std::string converted = out.substr(7);
  FUZZ_CHECK_KNOWN("csv-iconv-utf8-alias", reference_valid(converted), "%s produced invalid UTF-8", dec.name().c_str());
  if (dec.is_utf8()) FUZZ_CHECK(converted == in, "utf-8 decoder changed the bytes");
  bool ascii = true;
  for (char c : in) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) FUZZ_CHECK(converted == in, "%s changed ASCII text", dec.name().c_str());
}

Decoder* named_decoder(const std::string& name) {
  // iconv descriptors are cached per name, as the connector keeps one per instance.
  static std::map<std::string, std::unique_ptr<Decoder>> cache;
  if (auto it = cache.find(name); it != cache.end()) return it->second.get();
  std::unique_ptr<Decoder> dec;
  try {
    dec = std::make_unique<Decoder>(name);
  } catch (const touchpoint::ConfigError&) {
  }
  // Any other exception escapes and is reported.
  if (cache.size() > 256) cache.clear();
  return (cache[name] = std::move(dec)).get();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  if ((mode & 0x80) != 0) {
    // An encoding name from the input.
    size_t nul = in.find('\0');
    if (nul == std::string_view::npos || nul > 40) return 0;
    Decoder* dec = named_decoder(std::string(in.substr(0, nul)));
    if (dec != nullptr) check_decoder(*dec, in.substr(nul + 1), false);
    return 0;
  }

  size_t bad = 12345;
  const bool valid = valid_utf8(in, &bad);
  const size_t ref_bad = reference_first_invalid(in);
  FUZZ_CHECK(valid == (ref_bad == std::string_view::npos), "valid_utf8 says %d, the reference %d", valid, !valid);
  FUZZ_CHECK(valid == simdjson::validate_utf8(in.data(), in.size()), "valid_utf8 and simdjson disagree");
  if (!valid) FUZZ_CHECK(bad == ref_bad, "bad_offset %zu, the first invalid byte is at %zu", bad, ref_bad);
  FUZZ_CHECK(valid_utf8(in) == valid, "valid_utf8 without bad_offset differs");

  const std::string escaped = escape_invalid_utf8(in);
  FUZZ_CHECK(reference_valid(escaped), "escape_invalid_utf8 output is not valid UTF-8");
  FUZZ_CHECK((escaped == in) == valid, "escape_invalid_utf8 changed valid input or kept invalid input");

  static Decoder utf8("utf-8"), latin1("latin-1"), cp1252("windows-1252"), latin9("ISO-8859-15");
  {
    std::string out, error;
    FUZZ_CHECK(utf8.to_utf8(in, out, error) == valid, "utf-8 decoder and valid_utf8 disagree");
  }
  check_decoder(utf8, in, valid);
  check_decoder(latin1, in, true);
  {
    std::string out, error;
    FUZZ_CHECK(latin1.to_utf8(in, out, error), "latin-1 refused");
    size_t high = 0;
    for (char c : in) high += static_cast<unsigned char>(c) >= 0x80;
    FUZZ_CHECK(out.size() == in.size() + high, "latin-1 output size");
    FUZZ_CHECK(latin1_from_utf8(out) == in, "latin-1 does not round-trip");
  }
  check_decoder(cp1252, in, false);
  check_decoder(latin9, in, true);
  return 0;
}
