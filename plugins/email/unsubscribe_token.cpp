#include "unsubscribe_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace tp_email {

namespace {

constexpr std::size_t kMacHexDigits = 32;

std::string mac_hex(std::string_view secret, std::string_view contact_id) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(contact_id.data()), contact_id.size(), digest, &len) == nullptr)
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

}  // namespace

std::string sign_unsubscribe_token(std::string_view secret, std::string_view contact_id) {
  if (secret.empty()) throw std::invalid_argument("unsubscribe secret is empty");
  if (contact_id.empty()) throw std::invalid_argument("contact id is empty");
  std::string token(contact_id);
  token.push_back('.');
  token += mac_hex(secret, contact_id);
  return token;
}

std::optional<std::string> verify_unsubscribe_token(std::string_view secret, std::string_view token) {
  if (secret.empty() || token.size() > kMaxUnsubscribeTokenBytes) return std::nullopt;
  const std::size_t dot = token.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  const std::string_view contact_id = token.substr(0, dot);
  const std::string_view mac = token.substr(dot + 1);
  if (mac.size() != kMacHexDigits) return std::nullopt;
  const std::string expected = mac_hex(secret, contact_id);
  if (CRYPTO_memcmp(expected.data(), mac.data(), kMacHexDigits) != 0) return std::nullopt;
  return std::string(contact_id);
}

}  // namespace tp_email
