// What the e-mail channel's signed tokens share (unsubscribe, click, open):
// the truncated HMAC-SHA256 they carry and the shape of a hub contact id.
// Internal to tp_email_token.
#ifndef TP_EMAIL_TOKEN_MAC_HPP
#define TP_EMAIL_TOKEN_MAC_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace tp_email::token_detail {

/// Hex digits of the MAC a token carries (128 bits).
inline constexpr std::size_t kMacHexDigits = 32;

/// The first kMacHexDigits lower-case hex digits of HMAC-SHA256(secret, message).
std::string mac_hex(std::string_view secret, std::string_view message);

/// Constant-time comparison of a token's MAC with the expected one.
bool mac_equal(std::string_view expected, std::string_view given) noexcept;

bool lower_hex(std::string_view s) noexcept;

/// A hub contact id: `c-` and 24 lower-case hex digits (docs/channels.md).
bool is_contact_id(std::string_view s) noexcept;

}  // namespace tp_email::token_detail

#endif  // TP_EMAIL_TOKEN_MAC_HPP
