// The unsubscribe token carried in List-Unsubscribe and the unsubscribe URL:
// "{contact_id}.{mac}", mac = the first 32 hex digits of
// HMAC-SHA256(secret, contact_id). The sink signs it; the intake's HTTP
// endpoint checks it. Both link this one implementation (tp_email_token).
#ifndef TP_EMAIL_UNSUBSCRIBE_TOKEN_HPP
#define TP_EMAIL_UNSUBSCRIBE_TOKEN_HPP

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tp_email {

/// Longest token a check accepts; anything longer is refused before hashing.
inline constexpr std::size_t kMaxUnsubscribeTokenBytes = 256;

/// "{contact_id}.{32 lower-case hex digits}". Throws std::invalid_argument
/// for an empty secret or contact id.
std::string sign_unsubscribe_token(std::string_view secret, std::string_view contact_id);

/// malformed: cannot be one of our tokens (the endpoint answers 400);
/// forged: well-formed, but the MAC does not match (404).
enum class TokenCheck { ok, malformed, forged };

struct TokenResult {
  TokenCheck check = TokenCheck::malformed;
  std::string contact_id;  ///< set when ok
};

/// Malformed: longer than kMaxUnsubscribeTokenBytes, or not a hub contact id
/// (`c-` and 24 lower-case hex digits, docs/channels.md), '.', 32 lower-case
/// hex digits. Forged: well-formed but a wrong MAC (compared in constant
/// time), or an empty secret, which verifies nothing.
TokenResult check_unsubscribe_token(std::string_view secret, std::string_view token);

/// The contact id when check_unsubscribe_token says ok, else nullopt.
std::optional<std::string> verify_unsubscribe_token(std::string_view secret, std::string_view token);

}  // namespace tp_email

#endif  // TP_EMAIL_UNSUBSCRIBE_TOKEN_HPP
