// Copied from plugins/webhook/sha256.* (plugins do not link each other).
// SHA-256 (OpenSSL), for deterministic record ids and the replay cache.
#ifndef TOUCHPOINT_CALLCENTER_SHA256_HPP
#define TOUCHPOINT_CALLCENTER_SHA256_HPP

#include <array>
#include <string>
#include <string_view>

namespace touchpoint::callcenter {

using Sha256Digest = std::array<unsigned char, 32>;

/// The digest of `data`. Throws std::runtime_error if OpenSSL fails.
Sha256Digest sha256(std::string_view data);

/// The digest as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_SHA256_HPP
