// Base64 (RFC 4648, standard alphabet, padded) on top of OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock.
#ifndef TP_COMMON_BASE64_HPP
#define TP_COMMON_BASE64_HPP

#include <optional>
#include <string>
#include <string_view>

namespace tp_common {

/// Encodes bytes as padded standard base64.
std::string base64_encode(std::string_view bytes);

/// Decodes padded or unpadded standard base64. Returns nullopt for characters
/// outside the alphabet, misplaced padding or an impossible length.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace tp_common

#endif  // TP_COMMON_BASE64_HPP
