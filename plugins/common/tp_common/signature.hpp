// Standard Webhooks (https://www.standardwebhooks.com) signature verification.
//
// The sender signs "{webhook-id}.{webhook-timestamp}.{body}" with HMAC-SHA256
// and sends "v1,<base64 mac>" (several space-separated signatures during key
// rotation) in the webhook-signature header.
#ifndef TP_COMMON_SIGNATURE_HPP
#define TP_COMMON_SIGNATURE_HPP

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace tp_common {

/// The three request headers of the scheme; empty when absent.
struct SignatureHeaders {
  std::string_view id;         ///< webhook-id
  std::string_view timestamp;  ///< webhook-timestamp, Unix seconds
  std::string_view signature;  ///< webhook-signature
};

enum class SignatureStatus {
  ok,
  missing,            ///< a header is absent or empty
  invalid_timestamp,  ///< not a decimal number of seconds
  expired,            ///< outside the tolerance window
  mismatch,           ///< no v1 signature matches
};

/// A short human-readable reason, used in 401 response bodies.
std::string_view describe(SignatureStatus status) noexcept;

/// Decodes a configured secret: "whsec_<base64>" yields the decoded bytes,
/// anything else is used verbatim. Throws std::invalid_argument on an empty
/// secret or bad base64 after the prefix.
std::string decode_secret(std::string_view secret);

class SignatureVerifier {
 public:
  SignatureVerifier(std::string_view secret, int64_t tolerance_seconds);
  ~SignatureVerifier();
  SignatureVerifier(const SignatureVerifier&) = delete;
  SignatureVerifier& operator=(const SignatureVerifier&) = delete;

  /// Checks what can be checked before the body arrives: presence of the
  /// headers and the timestamp window.
  SignatureStatus check_headers(const SignatureHeaders& headers, int64_t now_seconds) const;

  /// Full verification, constant-time in the signature comparison. Thread-safe.
  SignatureStatus verify(const SignatureHeaders& headers, std::string_view body, int64_t now_seconds) const;

  /// The "v1,<base64>" signature for the given message (for senders and tests).
  std::string sign(std::string_view id, std::string_view timestamp, std::string_view body) const;

 private:
  std::string mac_base64(std::string_view id, std::string_view timestamp, std::string_view body) const;

  struct Mac;
  std::string key_;
  int64_t tolerance_seconds_;
  std::unique_ptr<Mac> mac_;
};

}  // namespace tp_common

#endif  // TP_COMMON_SIGNATURE_HPP
