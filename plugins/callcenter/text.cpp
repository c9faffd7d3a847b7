#include "text.hpp"

namespace touchpoint::callcenter {

namespace {

// Length of the well-formed UTF-8 sequence at s[i], 0 when there is none.
size_t sequence_length(std::string_view s, size_t i) noexcept {
  auto u = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (u(k) & 0xC0u) == 0x80u; };
  const unsigned char c = u(i);
  if (c < 0x80u) return 1;
  if (c >= 0xC2u && c <= 0xDFu) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0u && c <= 0xEFu) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0u && u(i + 1) < 0xA0u) return 0;
    if (c == 0xEDu && u(i + 1) >= 0xA0u) return 0;
    return 3;
  }
  if (c >= 0xF0u && c <= 0xF4u) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0u && u(i + 1) < 0x90u) return 0;
    if (c == 0xF4u && u(i + 1) >= 0x90u) return 0;
    return 4;
  }
  return 0;
}

}  // namespace

size_t invalid_utf8_at(std::string_view s) noexcept {
  for (size_t i = 0; i < s.size();) {
    const size_t n = sequence_length(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

bool valid_utf8(std::string_view s) noexcept { return invalid_utf8_at(s) == std::string_view::npos; }

bool has_control(std::string_view s, bool allow_whitespace) noexcept {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20u && c != 0x7Fu) continue;
    if (allow_whitespace && (c == '\t' || c == '\n' || c == '\r')) continue;
    return true;
  }
  return false;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20u) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xFu]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

std::string excerpt(std::string_view s, size_t max) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t n = sequence_length(s, i);
    if (out.size() + (n == 0 ? 1 : n) > max) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (n == 0 || c < 0x20u || c == 0x7Fu) {
      out.push_back('?');
      i += n == 0 ? 1 : n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  if (i < s.size()) out.append("...");
  return out;
}

std::string escape_invalid_utf8(std::string_view s, size_t max) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  size_t i = 0;
  while (i < s.size() && i < max) {
    const size_t n = sequence_length(s, i);
    if (n == 0) {
      const auto c = static_cast<unsigned char>(s[i]);
      out.append("\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xFu]);
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  if (i < s.size()) out.append("...");
  return out;
}

std::string mask_phone(std::string_view phone) {
  for (char c : phone)
    if (c < 0x21 || c > 0x7E) return "(unprintable)";
  if (phone.size() <= 5) return std::string(phone.size(), '*');
  std::string out(phone.substr(0, 3));
  out.append(phone.size() - 5, '*');
  out.append(phone.substr(phone.size() - 2));
  return out;
}

}  // namespace touchpoint::callcenter
