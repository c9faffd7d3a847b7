#include "envelope.hpp"

#include <cstdio>

namespace tp_email {

std::string xtext_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= '!' && c <= '~' && c != '+' && c != '=') {
      out.push_back(ch);
    } else {
      out.push_back('+');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

std::string verp_address(std::string_view return_path, std::string_view contact_id) {
  const std::size_t at = return_path.rfind('@');
  std::string out(return_path.substr(0, at));
  out.push_back('+');
  out += contact_id;
  if (at != std::string_view::npos) out += return_path.substr(at);
  return out;
}

bool valid_mailbox(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  const std::size_t at = a.find('@');
  if (at == 0 || at == std::string_view::npos || at > 64 || at + 1 >= a.size()) return false;
  if (a.find('@', at + 1) != std::string_view::npos) return false;
  for (const char ch : a) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return false;
    switch (c) {
      case '<':
      case '>':
      case '"':
      case '(':
      case ')':
      case ',':
      case ';':
      case ':':
      case '\\':
      case '[':
      case ']':
        return false;
      default:
        break;
    }
  }
  const std::string_view domain = a.substr(at + 1);
  return domain.front() != '.' && domain.back() != '.' && domain.find("..") == std::string_view::npos;
}

bool valid_contact_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string mask_address(std::string_view address) {
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0) return "***";
  std::string out(1, address.front());
  out += "***";
  out += address.substr(at);
  return out;
}

}  // namespace tp_email
