// The unsubscribe token carried in List-Unsubscribe and the unsubscribe URL:
// "{contact_id}.{mac}", mac = the first 32 hex digits of
// HMAC-SHA256(secret, contact_id). The sink signs it; the intake's HTTP
// endpoint verifies it, so both sides share these two functions.
#ifndef TP_EMAIL_UNSUBSCRIBE_TOKEN_HPP
#define TP_EMAIL_UNSUBSCRIBE_TOKEN_HPP

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tp_email {

/// Longest token verify accepts; anything longer is refused before hashing.
inline constexpr std::size_t kMaxUnsubscribeTokenBytes = 256;

/// "{contact_id}.{32 lower-case hex digits}". Throws std::invalid_argument
/// for an empty secret or contact id.
std::string sign_unsubscribe_token(std::string_view secret, std::string_view contact_id);

/// The contact id when `token` was signed with `secret`, else nullopt.
/// The MAC is compared in constant time.
std::optional<std::string> verify_unsubscribe_token(std::string_view secret, std::string_view token);

}  // namespace tp_email

#endif  // TP_EMAIL_UNSUBSCRIBE_TOKEN_HPP
