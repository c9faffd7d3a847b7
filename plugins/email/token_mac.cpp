#include "token_mac.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace tp_email::token_detail {

namespace {
constexpr std::string_view kContactPrefix = "c-";
constexpr std::size_t kContactHexDigits = 24;
}  // namespace

std::string mac_hex(std::string_view secret, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &len) == nullptr)
    throw std::runtime_error("HMAC-SHA256 failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(kMacHexDigits);
  for (unsigned int i = 0; i < len && out.size() < kMacHexDigits; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0f]);
  }
  return out;
}

bool mac_equal(std::string_view expected, std::string_view given) noexcept {
  return expected.size() == given.size() && CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

bool lower_hex(std::string_view s) noexcept {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool is_contact_id(std::string_view s) noexcept {
  return s.size() == kContactPrefix.size() + kContactHexDigits &&
         s.substr(0, kContactPrefix.size()) == kContactPrefix && lower_hex(s.substr(kContactPrefix.size()));
}

}  // namespace tp_email::token_detail
