#include "encoding.hpp"

#include <iconv.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace touchpoint::callcenter {

namespace {

std::string convert(std::string_view in, const char* to, const char* from) {
  iconv_t cd = iconv_open(to, from);
  if (cd == reinterpret_cast<iconv_t>(-1))
    throw std::runtime_error(std::string("iconv_open ") + from + " -> " + to + ": " + std::strerror(errno));
  std::string out;
  out.resize(in.size() * 2 + 16);
  char* src = const_cast<char*>(in.data());  // iconv's API is not const-correct; it does not write
  size_t src_left = in.size();
  size_t done = 0;
  for (;;) {
    char* dst = out.data() + done;
    size_t dst_left = out.size() - done;
    const size_t rc = iconv(cd, src_left ? &src : nullptr, &src_left, &dst, &dst_left);
    done = out.size() - dst_left;
    if (rc != static_cast<size_t>(-1)) {
      if (src_left == 0) break;
      continue;
    }
    if (errno == E2BIG) {
      out.resize(out.size() * 2);
      continue;
    }
    if (errno == EILSEQ && src_left > 0) {
      // An untransliterable character: one '?' for its bytes.
      const auto lead = static_cast<unsigned char>(*src);
      size_t skip = lead >= 0xF0u ? 4 : lead >= 0xE0u ? 3 : lead >= 0xC0u ? 2 : 1;
      if (skip > src_left) skip = src_left;
      src += skip;
      src_left -= skip;
      if (done == out.size()) out.resize(out.size() * 2);
      out[done++] = '?';
      continue;
    }
    const int err = errno;
    iconv_close(cd);
    throw std::runtime_error(std::string("iconv ") + from + " -> " + to + ": " + std::strerror(err));
  }
  iconv_close(cd);
  out.resize(done);
  return out;
}

}  // namespace

std::string utf8_to_latin1(std::string_view utf8) { return convert(utf8, "ISO-8859-1//TRANSLIT", "UTF-8"); }

std::string latin1_to_utf8(std::string_view latin1) { return convert(latin1, "UTF-8", "ISO-8859-1"); }

}  // namespace touchpoint::callcenter
