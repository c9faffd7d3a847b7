#include "transcode.hpp"

#include <cerrno>
#include <cstdio>
#include <stdexcept>

namespace touchpoint::post {

bool valid_utf8(std::string_view s) {
  auto u = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (u(k) & 0xC0u) == 0x80u; };
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = u(i);
    if (c < 0x80u) {
      ++i;
    } else if (c >= 0xC2u && c <= 0xDFu && cont(i + 1)) {
      i += 2;
    } else if (c >= 0xE0u && c <= 0xEFu && cont(i + 1) && cont(i + 2)) {
      if ((c == 0xE0u && u(i + 1) < 0xA0u) || (c == 0xEDu && u(i + 1) >= 0xA0u)) return false;
      i += 3;
    } else if (c >= 0xF0u && c <= 0xF4u && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
      if ((c == 0xF0u && u(i + 1) < 0x90u) || (c == 0xF4u && u(i + 1) >= 0x90u)) return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

Transcoder::Transcoder(const char* to, const char* from) : cd_(iconv_open(to, from)), from_(from), to_(to) {
  if (cd_ == reinterpret_cast<iconv_t>(-1)) throw std::runtime_error("iconv_open " + from_ + " -> " + to_ + " failed");
}

Transcoder::~Transcoder() { iconv_close(cd_); }

bool Transcoder::convert(std::string_view in, std::string& out, std::string& error) {
  bool ascii = true;
  for (unsigned char c : in) ascii = ascii && c < 0x80u;
  if (ascii) {  // both encodings are ASCII-compatible
    out.append(in);
    return true;
  }
  iconv(cd_, nullptr, nullptr, nullptr, nullptr);
  char* src = const_cast<char*>(in.data());  // iconv's prototype is not const-correct
  size_t left = in.size();
  char buf[512];
  while (left > 0) {
    char* dst = buf;
    size_t room = sizeof(buf);
    const size_t r = iconv(cd_, &src, &left, &dst, &room);
    out.append(buf, static_cast<size_t>(dst - buf));
    if (r == static_cast<size_t>(-1) && errno != E2BIG) {
      const size_t at = in.size() - left;
      if (errno == EILSEQ && from_ == "UTF-8") {
        // Name the character: the letter shop's encoding cannot hold it.
        size_t n = 1;
        while (at + n < in.size() && (static_cast<unsigned char>(in[at + n]) & 0xC0u) == 0x80u) ++n;
        error = "character \"" + std::string(in.substr(at, n)) + "\" at byte " + std::to_string(at) +
                " cannot be encoded in " + to_;
      } else {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "0x%02X", static_cast<unsigned char>(in[at]));
        error = "invalid " + from_ + " at byte " + std::to_string(at) + " (" + hex + ")";
      }
      return false;
    }
  }
  return true;
}

}  // namespace touchpoint::post
