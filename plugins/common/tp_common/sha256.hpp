// SHA-256 (OpenSSL), for deterministic record ids and the replay cache.
#ifndef TP_COMMON_SHA256_HPP
#define TP_COMMON_SHA256_HPP

#include <array>
#include <string>
#include <string_view>

namespace tp_common {

using Sha256Digest = std::array<unsigned char, 32>;

/// The digest of `data`. Throws std::runtime_error if OpenSSL fails.
Sha256Digest sha256(std::string_view data);

/// The digest as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace tp_common

#endif  // TP_COMMON_SHA256_HPP
