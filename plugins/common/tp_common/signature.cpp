#include "tp_common/signature.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <charconv>
#include <stdexcept>

#include "tp_common/base64.hpp"

namespace tp_common {

namespace {

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr std::string_view kVersionPrefix = "v1,";

bool parse_seconds(std::string_view text, int64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::string_view describe(SignatureStatus status) noexcept {
  switch (status) {
    case SignatureStatus::ok:
      return "ok";
    case SignatureStatus::missing:
      return "missing webhook-id, webhook-timestamp or webhook-signature header";
    case SignatureStatus::invalid_timestamp:
      return "invalid webhook-timestamp";
    case SignatureStatus::expired:
      return "webhook-timestamp outside the tolerance window";
    case SignatureStatus::mismatch:
      return "no matching signature";
  }
  return "invalid signature";
}

std::string decode_secret(std::string_view secret) {
  if (secret.empty()) throw std::invalid_argument("secret is empty");
  if (secret.substr(0, kSecretPrefix.size()) != kSecretPrefix) return std::string(secret);
  std::optional<std::string> key = base64_decode(secret.substr(kSecretPrefix.size()));
  if (!key) throw std::invalid_argument("secret: invalid base64 after 'whsec_'");
  if (key->empty()) throw std::invalid_argument("secret: empty key after 'whsec_'");
  return std::move(*key);
}

// The HMAC algorithm is fetched once; a context per verification keeps
// verify() thread-safe without locks.
struct SignatureVerifier::Mac {
  EVP_MAC* mac = nullptr;
  ~Mac() { EVP_MAC_free(mac); }
};

SignatureVerifier::SignatureVerifier(std::string_view secret, int64_t tolerance_seconds)
    : key_(decode_secret(secret)), tolerance_seconds_(tolerance_seconds), mac_(std::make_unique<Mac>()) {
  mac_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac_->mac == nullptr) throw std::runtime_error("OpenSSL: HMAC is not available");
}

SignatureVerifier::~SignatureVerifier() = default;

std::string SignatureVerifier::mac_base64(std::string_view id, std::string_view timestamp,
                                          std::string_view body) const {
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac_->mac);
  if (ctx == nullptr) throw std::bad_alloc();
  char digest_name[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                         OSSL_PARAM_construct_end()};
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  size_t out_len = 0;
  auto update = [&](std::string_view s) {
    return EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(s.data()), s.size()) == 1;
  };
  bool ok = EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key_.data()), key_.size(), params) == 1 &&
            update(id) && update(".") && update(timestamp) && update(".") && update(body) &&
            EVP_MAC_final(ctx, out.data(), &out_len, out.size()) == 1;
  EVP_MAC_CTX_free(ctx);
  if (!ok) throw std::runtime_error("OpenSSL: HMAC-SHA256 failed");
  return base64_encode(std::string_view(reinterpret_cast<const char*>(out.data()), out_len));
}

std::string SignatureVerifier::sign(std::string_view id, std::string_view timestamp, std::string_view body) const {
  return std::string(kVersionPrefix) + mac_base64(id, timestamp, body);
}

SignatureStatus SignatureVerifier::check_headers(const SignatureHeaders& headers, int64_t now_seconds) const {
  if (headers.id.empty() || headers.timestamp.empty() || headers.signature.empty()) return SignatureStatus::missing;
  int64_t ts = 0;
  if (!parse_seconds(headers.timestamp, ts)) return SignatureStatus::invalid_timestamp;
  int64_t skew = ts > now_seconds ? ts - now_seconds : now_seconds - ts;
  if (skew > tolerance_seconds_) return SignatureStatus::expired;
  return SignatureStatus::ok;
}

SignatureStatus SignatureVerifier::verify(const SignatureHeaders& headers, std::string_view body,
                                          int64_t now_seconds) const {
  SignatureStatus status = check_headers(headers, now_seconds);
  if (status != SignatureStatus::ok) return status;
  const std::string expected = mac_base64(headers.id, headers.timestamp, body);
  bool matched = false;
  std::string_view rest = headers.signature;
  while (!rest.empty()) {
    size_t space = rest.find(' ');
    std::string_view token = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (token.substr(0, kVersionPrefix.size()) != kVersionPrefix) continue;
    std::string_view candidate = token.substr(kVersionPrefix.size());
    // Every candidate is compared (no early exit) so timing does not reveal
    // which of several signatures matched.
    if (candidate.size() == expected.size() && CRYPTO_memcmp(candidate.data(), expected.data(), expected.size()) == 0)
      matched = true;
  }
  return matched ? SignatureStatus::ok : SignatureStatus::mismatch;
}

}  // namespace tp_common
