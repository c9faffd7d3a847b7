// SHA-256 and HMAC-SHA256 (OpenSSL) as lower-case hex.
#ifndef TP_EMAIL_INTAKE_HASH_HPP
#define TP_EMAIL_INTAKE_HASH_HPP

#include <string>
#include <string_view>

namespace tp_email::intake::detail {

std::string sha256_hex(std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

}  // namespace tp_email::intake::detail

#endif
