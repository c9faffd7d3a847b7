#include "write_keys.hpp"

#include <openssl/crypto.h>

#include "tp_common/base64.hpp"

namespace touchpoint::webhook {

std::optional<std::string> basic_auth_user(std::string_view header) {
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) header.remove_suffix(1);
  constexpr std::string_view kScheme = "basic ";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    const char c = header[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) return std::nullopt;
  }
  std::string_view credentials = header.substr(kScheme.size());
  while (!credentials.empty() && credentials.front() == ' ') credentials.remove_prefix(1);
  std::optional<std::string> decoded = tp_common::base64_decode(credentials);
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  // RFC 7617 needs the colon; some clients send the bare key, which is taken as the user.
  if (colon != std::string::npos) decoded->resize(colon);
  return decoded;
}

bool is_write_key(const std::vector<std::string>& keys, std::string_view key) noexcept {
  bool found = false;
  for (const std::string& k : keys)
    if (k.size() == key.size() && CRYPTO_memcmp(k.data(), key.data(), key.size()) == 0) found = true;
  return found;
}

}  // namespace touchpoint::webhook
