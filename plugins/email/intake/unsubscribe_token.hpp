// Unsubscribe tokens: `{contact_id}.{mac}`, mac = the first 32 hex digits of
// HMAC-SHA256(secret, contact_id). The sender signs with the same format
// (its `sign` lives in plugins/email/); this file only verifies.
#ifndef TP_EMAIL_INTAKE_UNSUBSCRIBE_TOKEN_HPP
#define TP_EMAIL_INTAKE_UNSUBSCRIBE_TOKEN_HPP

#include <string>
#include <string_view>

namespace tp_email::intake {

enum class TokenCheck { ok, malformed, forged };

struct TokenResult {
  TokenCheck check = TokenCheck::malformed;
  std::string contact_id;  ///< set when ok
};

/// Malformed: not `c-` + 24 hex, `.`, 32 hex. Forged: well-formed, wrong MAC
/// (compared in constant time). An empty secret verifies nothing.
TokenResult verify_unsubscribe_token(std::string_view token, std::string_view secret);

/// The `unsubscribe` response record (detail.method `one-click`), with an id
/// stable per contact so repeated clicks are applied once.
struct Response;
Response unsubscribe_response(const std::string& contact_id, std::string_view method);

}  // namespace tp_email::intake

#endif
