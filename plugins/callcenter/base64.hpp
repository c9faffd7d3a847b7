// Copied from plugins/webhook/base64.* (plugins do not link each other).
// Base64 (RFC 4648, standard alphabet, padded) on top of OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock.
#ifndef TOUCHPOINT_CALLCENTER_BASE64_HPP
#define TOUCHPOINT_CALLCENTER_BASE64_HPP

#include <optional>
#include <string>
#include <string_view>

namespace touchpoint::callcenter {

/// Encodes bytes as padded standard base64.
std::string base64_encode(std::string_view bytes);

/// Decodes padded or unpadded standard base64. Returns nullopt for characters
/// outside the alphabet, misplaced padding or an impossible length.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_BASE64_HPP
