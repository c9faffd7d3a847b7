#include "unsubscribe_token.hpp"

#include <stdexcept>

#include "token_mac.hpp"

namespace tp_email {

using token_detail::kMacHexDigits;

std::string sign_unsubscribe_token(std::string_view secret, std::string_view contact_id) {
  if (secret.empty()) throw std::invalid_argument("unsubscribe secret is empty");
  if (contact_id.empty()) throw std::invalid_argument("contact id is empty");
  std::string token(contact_id);
  token.push_back('.');
  token += token_detail::mac_hex(secret, contact_id);
  return token;
}

TokenResult check_unsubscribe_token(std::string_view secret, std::string_view token) {
  TokenResult r;
  if (token.size() > kMaxUnsubscribeTokenBytes) return r;
  const std::size_t dot = token.find('.');
  if (dot == std::string_view::npos) return r;
  const std::string_view contact_id = token.substr(0, dot);
  const std::string_view mac = token.substr(dot + 1);
  if (!token_detail::is_contact_id(contact_id) || mac.size() != kMacHexDigits || !token_detail::lower_hex(mac))
    return r;
  r.check = TokenCheck::forged;
  if (secret.empty()) return r;
  if (!token_detail::mac_equal(token_detail::mac_hex(secret, contact_id), mac)) return r;
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
