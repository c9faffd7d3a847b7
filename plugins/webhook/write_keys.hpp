// Segment's authentication: a source's write key, sent as the user name of
// HTTP Basic auth (password empty) or as "writeKey" in the body.
#ifndef TOUCHPOINT_WEBHOOK_WRITE_KEYS_HPP
#define TOUCHPOINT_WEBHOOK_WRITE_KEYS_HPP

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace touchpoint::webhook {

/// The user name of an "Authorization: Basic <base64(user:password)>"
/// header value; nullopt for another scheme or a malformed value.
std::optional<std::string> basic_auth_user(std::string_view header);

/// Whether `key` is one of `keys`, comparing in constant time per key so the
/// answer's timing does not reveal how much of a key was right.
bool is_write_key(const std::vector<std::string>& keys, std::string_view key) noexcept;

}  // namespace touchpoint::webhook

#endif  // TOUCHPOINT_WEBHOOK_WRITE_KEYS_HPP
