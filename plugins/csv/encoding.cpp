#include "encoding.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "sdk.hpp"

namespace touchpoint::csv {
namespace {

std::string upper(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return r;
}

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if it is not well-formed.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto u = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = u(i);
  const size_t left = s.size() - i;
  auto cont = [&](size_t k) { return k < s.size() && (u(k) & 0xC0u) == 0x80u; };
  if (c < 0x80u) return 1;
  if (c >= 0xC2u && c <= 0xDFu) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0u && c <= 0xEFu) {
    if (left < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0u && u(i + 1) < 0xA0u) return 0;   // overlong
    if (c == 0xEDu && u(i + 1) >= 0xA0u) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0u && c <= 0xF4u) {
    if (left < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0u && u(i + 1) < 0x90u) return 0;   // overlong
    if (c == 0xF4u && u(i + 1) >= 0x90u) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

bool all_ascii(std::string_view s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if ((w & 0x8080808080808080ull) != 0) return false;
  }
  for (; i < s.size(); ++i)
    if (static_cast<unsigned char>(s[i]) >= 0x80u) return false;
  return true;
}

std::string hex_byte(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(c));
  return buf;
}

}  // namespace

bool valid_utf8(std::string_view s, size_t* bad_offset) {
  size_t i = 0;
  while (i < s.size()) {
    // Fast path over ASCII runs.
    if (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    size_t n = utf8_sequence(s, i);
    if (n == 0) {
      if (bad_offset != nullptr) *bad_offset = i;
      return false;
    }
    i += n;
  }
  return true;
}

std::string escape_invalid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t n = utf8_sequence(s, i);
    if (n == 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(static_cast<unsigned char>(s[i])));
      out += buf;
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

void cut_utf8(std::string& s, size_t max) {
  if (s.size() <= max) return;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0u) == 0x80u) --n;
  s.resize(n);
}

void cut_message(std::string& s, size_t max) {
  if (s.size() <= max) return;
  cut_utf8(s, max - 3);
  s += "...";
}

Decoder::Decoder(std::string_view encoding) {
  const std::string u = upper(encoding);
  if (u.empty()) throw ConfigError("encoding: must not be empty");
  if (u == "UTF-8" || u == "UTF8") {
    name_ = "UTF-8";
    return;
  }
  name_ = (u == "LATIN-1" || u == "LATIN1") ? std::string("ISO-8859-1") : std::string(encoding);
  // Stateful encodings cannot be converted field by field.
  if (u.find("2022") != std::string::npos || u.find("UTF-7") != std::string::npos ||
      u.find("UTF7") != std::string::npos)
    throw ConfigError("encoding: '" + std::string(encoding) + "' is stateful and not supported");
  cd_ = iconv_open("UTF-8", name_.c_str());
  if (cd_ == reinterpret_cast<iconv_t>(static_cast<intptr_t>(-1))) {
    cd_ = nullptr;
    throw ConfigError("encoding: '" + std::string(encoding) + "' is not known to iconv");
  }
  // Delimiters, quotes and line breaks are found before decoding, so every ASCII byte must
  // mean the same character in the source encoding. This rejects UTF-16/32, EBCDIC, HZ, ...
  std::string probe = "\t\n\r";
  for (char c = 0x20; c < 0x7F; ++c) probe.push_back(c);
  std::string converted;
  std::string error;
  bool ok = convert(probe, converted, error);
  if (!ok || converted != probe) {
    iconv_close(cd_);
    cd_ = nullptr;
    throw ConfigError("encoding: '" + std::string(encoding) + "' is not ASCII-compatible and not supported");
  }
}

Decoder::~Decoder() {
  if (cd_ != nullptr) iconv_close(cd_);
}

bool Decoder::to_utf8(std::string_view in, std::string& out, std::string& error) {
  if (cd_ == nullptr) {
    size_t bad = 0;
    if (!valid_utf8(in, &bad)) {
      error = "invalid UTF-8 (byte " + hex_byte(static_cast<unsigned char>(in[bad])) + " at offset " +
              std::to_string(bad) + ")";
      return false;
    }
    out.append(in);
    return true;
  }
  // The constructor verified that ASCII maps to itself.
  if (all_ascii(in)) {
    out.append(in);
    return true;
  }
  return convert(in, out, error);
}

bool Decoder::convert(std::string_view in, std::string& out, std::string& error) {
  iconv(cd_, nullptr, nullptr, nullptr, nullptr);  // reset shift state
  const size_t base = out.size();
  size_t capacity = in.size() * 3 + 16;
  out.resize(base + capacity);
  char* src = const_cast<char*>(in.data());
  size_t src_left = in.size();
  size_t written = 0;
  for (;;) {
    char* dst = out.data() + base + written;
    size_t dst_left = capacity - written;
    size_t rc = iconv(cd_, &src, &src_left, &dst, &dst_left);
    written = capacity - dst_left;
    if (rc != static_cast<size_t>(-1)) break;
    if (errno == E2BIG) {
      capacity *= 2;
      out.resize(base + capacity);
      continue;
    }
    size_t at = in.size() - src_left;
    if (errno == EILSEQ) {
      error = "byte " + hex_byte(static_cast<unsigned char>(in[at])) + " at offset " + std::to_string(at) +
              " is not valid " + name_;
    } else {
      error = "incomplete " + name_ + " sequence at end of field";
    }
    out.resize(base);
    return false;
  }
  out.resize(base + written);
  // glibc reads some spellings of UTF-8 ("UTF-8//IGNORE", "ISO-10646/UTF8/")
  // as UTF-8 to UTF-8 and passes code points above U+10FFFF through: the
  // record JSON must only ever see valid UTF-8, whatever iconv did.
  size_t bad = 0;
  if (!valid_utf8(std::string_view(out).substr(base), &bad)) {
    error =
        "the field does not decode from " + name_ + " to valid UTF-8 (at decoded offset " + std::to_string(bad) + ")";
    out.resize(base);
    return false;
  }
  return true;
}

}  // namespace touchpoint::csv
