// The tokens of the hub's own click and open tracking (README: "Click and
// open tracking"). Stateless: everything the endpoint needs is in the token,
// signed with the unsubscribe secret, so the endpoint keeps no table of links.
//
//   open:  {contact_id}.{sent}.{mac}          mac over "open\n{contact_id}\n{sent}"
//   click: {contact_id}.{sent}.{url}.{mac}    mac over "click\n{contact_id}\n{sent}\n{url bytes}"
//
// sent is the message's compose time (decimal Unix seconds), url the target
// in unpadded base64url, mac the first 32 lower-case hex digits of
// HMAC-SHA256(secret, ...). The "open"/"click" prefixes keep the three token
// kinds apart: no MAC of one kind verifies as another (a contact id has no
// newline). A click token redirects only to the URL signed into it.
#ifndef TP_EMAIL_TRACKING_TOKEN_HPP
#define TP_EMAIL_TRACKING_TOKEN_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "unsubscribe_token.hpp"

namespace tp_email {

/// A longer link is left as it is (not tracked).
inline constexpr std::size_t kMaxTrackedUrlBytes = 2048;
/// Longest token a check accepts; anything longer is refused before decoding.
inline constexpr std::size_t kMaxTrackingTokenBytes = 64 + (kMaxTrackedUrlBytes + 2) / 3 * 4;

/// True for an absolute http:// or https:// URL (scheme case-insensitive) of
/// 1..kMaxTrackedUrlBytes bytes without controls or spaces: what a click
/// token may redirect to.
bool trackable_url(std::string_view url) noexcept;

/// Throw std::invalid_argument for an empty secret or contact id (and, for a
/// click, a URL that trackable_url() refuses).
std::string sign_open_token(std::string_view secret, std::string_view contact_id, int64_t sent_unix_s);
std::string sign_click_token(std::string_view secret, std::string_view contact_id, int64_t sent_unix_s,
                             std::string_view url);

struct TrackingToken {
  TokenCheck check = TokenCheck::malformed;  ///< ok, malformed (400) or forged (404), as for unsubscribe
  std::string contact_id;                    ///< set when ok
  int64_t sent_unix_s = 0;                   ///< set when ok
  std::string url;                           ///< click tokens, set when ok
};

/// Malformed: too long, a part missing or not of its form (a hub contact id,
/// 1..12 decimal digits, base64url decoding to a trackable URL, 32 hex
/// digits). Forged: well-formed but a wrong MAC (constant-time compare), or
/// an empty secret.
TrackingToken check_open_token(std::string_view secret, std::string_view token);
TrackingToken check_click_token(std::string_view secret, std::string_view token);

}  // namespace tp_email

#endif  // TP_EMAIL_TRACKING_TOKEN_HPP
