#include "unsubscribe_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace tp_email {

namespace {

constexpr std::size_t kMacHexDigits = 32;
constexpr std::string_view kContactPrefix = "c-";
constexpr std::size_t kContactHexDigits = 24;

bool lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool is_contact_id(std::string_view s) {
  return s.size() == kContactPrefix.size() + kContactHexDigits &&
         s.substr(0, kContactPrefix.size()) == kContactPrefix && lower_hex(s.substr(kContactPrefix.size()));
}

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

TokenResult check_unsubscribe_token(std::string_view secret, std::string_view token) {
  TokenResult r;
  if (token.size() > kMaxUnsubscribeTokenBytes) return r;
  const std::size_t dot = token.find('.');
  if (dot == std::string_view::npos) return r;
  const std::string_view contact_id = token.substr(0, dot);
  const std::string_view mac = token.substr(dot + 1);
  if (!is_contact_id(contact_id) || mac.size() != kMacHexDigits || !lower_hex(mac)) return r;
  r.check = TokenCheck::forged;
  if (secret.empty()) return r;
  const std::string expected = mac_hex(secret, contact_id);
  if (CRYPTO_memcmp(expected.data(), mac.data(), kMacHexDigits) != 0) return r;
  r.check = TokenCheck::ok;
  r.contact_id = std::string(contact_id);
  return r;
}

std::optional<std::string> verify_unsubscribe_token(std::string_view secret, std::string_view token) {
  TokenResult r = check_unsubscribe_token(secret, token);
  if (r.check != TokenCheck::ok) return std::nullopt;
  return std::move(r.contact_id);
}

}  // namespace tp_email
