#include "unsubscribe_token.hpp"

#include "correlate.hpp"
#include "hash.hpp"
#include "intake.hpp"

namespace tp_email::intake {

namespace {
constexpr std::size_t kMacHex = 32;
bool lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}
}  // namespace

TokenResult verify_unsubscribe_token(std::string_view token, std::string_view secret) {
  TokenResult r;
  const std::size_t dot = token.find('.');
  if (dot == std::string_view::npos) return r;
  const std::string_view id = token.substr(0, dot);
  const std::string_view mac = token.substr(dot + 1);
  if (!detail::is_contact_id(id) || mac.size() != kMacHex || !lower_hex(mac)) return r;
  r.check = TokenCheck::forged;
  if (secret.empty()) return r;
  const std::string expected = detail::hmac_sha256_hex(secret, id).substr(0, kMacHex);
  if (!detail::constant_time_equal(expected, mac)) return r;
  r.check = TokenCheck::ok;
  r.contact_id = std::string(id);
  return r;
}

Response unsubscribe_response(const std::string& contact_id, std::string_view method) {
  Response r;
  r.id = "email-" + detail::sha256_hex("unsubscribe\n" + contact_id).substr(0, 32);
  r.contact_id = contact_id;
  r.kind = "unsubscribe";
  r.method = std::string(method);
  return r;
}

}  // namespace tp_email::intake
