#include "tp_common/signature.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "tp_common/base64.hpp"

namespace tp_common {
namespace {

// The reference vector of the Standard Webhooks specification / libraries.
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr char kTimestamp[] = "1614265330";
constexpr char kBody[] = R"({"test": 2432232314})";
constexpr char kSignature[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
constexpr int64_t kNow = 1614265330;

SignatureHeaders headers(std::string_view signature, std::string_view id = kId, std::string_view ts = kTimestamp) {
  return SignatureHeaders{id, ts, signature};
}

TEST(Signature, MatchesTheReferenceVector) {
  SignatureVerifier v(kSecret, 300);
  EXPECT_EQ(v.sign(kId, kTimestamp, kBody), kSignature);
  EXPECT_EQ(v.verify(headers(kSignature), kBody, kNow), SignatureStatus::ok);
}

TEST(Signature, RejectsAnyChange) {
  SignatureVerifier v(kSecret, 300);
  EXPECT_EQ(v.verify(headers(kSignature), R"({"test": 2432232315})", kNow), SignatureStatus::mismatch);
  EXPECT_EQ(v.verify(headers(kSignature, "msg_other"), kBody, kNow), SignatureStatus::mismatch);
  EXPECT_EQ(v.verify(headers(kSignature, kId, "1614265331"), kBody, kNow), SignatureStatus::mismatch);
  EXPECT_EQ(v.verify(headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF="), kBody, kNow),
            SignatureStatus::mismatch);
  EXPECT_EQ(v.verify(headers("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), kBody, kNow),
            SignatureStatus::mismatch);
  EXPECT_EQ(v.verify(headers("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), kBody, kNow), SignatureStatus::mismatch);
  SignatureVerifier other("whsec_" + base64_encode("another key"), 300);
  EXPECT_EQ(other.verify(headers(kSignature), kBody, kNow), SignatureStatus::mismatch);
}

TEST(Signature, AnyOfSeveralSignatures) {
  SignatureVerifier v(kSecret, 300);
  EXPECT_EQ(v.verify(headers(std::string("v1,AAAA v1a,xyz ") + kSignature + " v1,BBBB"), kBody, kNow),
            SignatureStatus::ok);
  EXPECT_EQ(v.verify(headers("v1,AAAA v1,BBBB"), kBody, kNow), SignatureStatus::mismatch);
}

TEST(Signature, TimestampWindow) {
  SignatureVerifier v(kSecret, 300);
  EXPECT_EQ(v.verify(headers(kSignature), kBody, kNow + 300), SignatureStatus::ok);
  EXPECT_EQ(v.verify(headers(kSignature), kBody, kNow - 300), SignatureStatus::ok);
  EXPECT_EQ(v.verify(headers(kSignature), kBody, kNow + 301), SignatureStatus::expired);
  EXPECT_EQ(v.verify(headers(kSignature), kBody, kNow - 301), SignatureStatus::expired);
  EXPECT_EQ(v.check_headers(headers(kSignature), kNow + 10000), SignatureStatus::expired);
  EXPECT_EQ(v.check_headers(headers(kSignature, kId, "16142653x0"), kNow), SignatureStatus::invalid_timestamp);
  EXPECT_EQ(v.check_headers(headers(kSignature, kId, "-1614265330"), kNow), SignatureStatus::invalid_timestamp);
  EXPECT_EQ(v.check_headers(headers(kSignature, kId, "99999999999999999999999"), kNow),
            SignatureStatus::invalid_timestamp);
}

TEST(Signature, MissingHeaders) {
  SignatureVerifier v(kSecret, 300);
  EXPECT_EQ(v.verify(headers(""), kBody, kNow), SignatureStatus::missing);
  EXPECT_EQ(v.verify(headers(kSignature, ""), kBody, kNow), SignatureStatus::missing);
  EXPECT_EQ(v.verify(headers(kSignature, kId, ""), kBody, kNow), SignatureStatus::missing);
  EXPECT_FALSE(describe(SignatureStatus::missing).empty());
}

TEST(Signature, SecretForms) {
  EXPECT_EQ(decode_secret("whsec_c2VjcmV0"), "secret");
  EXPECT_EQ(decode_secret("plain"), "plain");
  EXPECT_THROW(decode_secret(""), std::invalid_argument);
  EXPECT_THROW(decode_secret("whsec_"), std::invalid_argument);
  EXPECT_THROW(decode_secret("whsec_not base64!"), std::invalid_argument);
  SignatureVerifier raw("plain", 300);
  EXPECT_EQ(raw.verify(headers(raw.sign(kId, kTimestamp, kBody)), kBody, kNow), SignatureStatus::ok);
}

}  // namespace
}  // namespace tp_common
