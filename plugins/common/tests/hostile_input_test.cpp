// Hostile input for the shared pieces: NUL bytes, multi-megabyte values and
// every truncation of a valid value give a clear refusal, never a crash or a
// false accept.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "tp_common/base64.hpp"
#include "tp_common/replay_cache.hpp"
#include "tp_common/rfc3339.hpp"
#include "tp_common/sha256.hpp"
#include "tp_common/signature.hpp"

namespace tp_common {
namespace {

constexpr size_t kFiveMegabytes = 5 * 1024 * 1024;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr char kTimestamp[] = "1614265330";
constexpr char kBody[] = R"({"test": 2432232314})";
constexpr int64_t kNow = 1614265330;

TEST(HostileBase64, NulBytesAndWhitespaceAreRefused) {
  EXPECT_FALSE(base64_decode(std::string("Zm\0v", 4)));
  EXPECT_FALSE(base64_decode(std::string("Zm9v\0", 5)));
  EXPECT_FALSE(base64_decode("Zg==\n"));
  EXPECT_FALSE(base64_decode("Zm9v\r\nYmFy"));
  EXPECT_FALSE(base64_decode("Zm9v-_"));  // the URL-safe alphabet is not standard base64
}

TEST(HostileBase64, FiveMegabytesDecodeExactly) {
  const std::string bytes(kFiveMegabytes / 4 * 3, '\xff');
  const std::string text = base64_encode(bytes);
  ASSERT_EQ(text.size(), kFiveMegabytes);
  EXPECT_EQ(base64_decode(text), bytes);
  std::string spoiled = text;
  spoiled[kFiveMegabytes / 2] = '\0';
  EXPECT_FALSE(base64_decode(spoiled));
}

TEST(HostileRfc3339, NulBytesAndTrailingJunkAreRefused) {
  EXPECT_FALSE(parse_rfc3339_ms(std::string("2024-01-02T03:04:05Z\0", 21)));
  EXPECT_FALSE(parse_rfc3339_ms(std::string("2024-01-02T03:04:05\0Z", 21)));
  EXPECT_FALSE(
      parse_rfc3339_ms(std::string("2024-01-02\0"
                                   "03:04:05Z",
                                   20)));
  EXPECT_FALSE(parse_rfc3339_ms("2024-01-02T03:04:05+02:00 "));
  EXPECT_FALSE(
      parse_rfc3339_ms("\xef\xbb\xbf"
                       "2024-01-02T03:04:05Z"));                                       // a UTF-8 BOM
  EXPECT_FALSE(parse_rfc3339_ms("\xd9\xa2\xd9\xa0\xd9\xa2\xd9\xa4-01-02T03:04:05Z"));  // Arabic-Indic digits
}

TEST(HostileRfc3339, EveryTruncationIsRefused) {
  const std::string valid = "2024-01-02T03:04:05.678+02:00";
  ASSERT_TRUE(parse_rfc3339_ms(valid));
  for (size_t n = 0; n < valid.size(); ++n) EXPECT_FALSE(parse_rfc3339_ms(valid.substr(0, n))) << valid.substr(0, n);
}

TEST(HostileRfc3339, AFiveMegabyteFractionIsTruncatedToMilliseconds) {
  std::string text = "2024-01-02T03:04:05.123";
  text.append(kFiveMegabytes, '9');
  EXPECT_EQ(parse_rfc3339_ms(text + "Z"), 1704164645123);
  EXPECT_FALSE(parse_rfc3339_ms(text));
}

SignatureHeaders headers(std::string_view signature, std::string_view id = kId, std::string_view ts = kTimestamp) {
  return SignatureHeaders{id, ts, signature};
}

TEST(HostileSignature, EveryTruncationOfTheSignatureIsAMismatch) {
  const SignatureVerifier v(kSecret, 300);
  const std::string good = v.sign(kId, kTimestamp, kBody);
  ASSERT_EQ(v.verify(headers(good), kBody, kNow), SignatureStatus::ok);
  for (size_t n = 1; n < good.size(); ++n)
    EXPECT_EQ(v.verify(headers(good.substr(0, n)), kBody, kNow), SignatureStatus::mismatch) << n;
}

TEST(HostileSignature, NulBytesAreData) {
  const SignatureVerifier v(kSecret, 300);
  const std::string id_with_nul("msg\0forged", 10);
  const std::string signed_nul = v.sign(id_with_nul, kTimestamp, kBody);
  EXPECT_EQ(v.verify(headers(signed_nul, id_with_nul), kBody, kNow), SignatureStatus::ok);
  // The id must not be cut at the NUL: "msg" alone does not match.
  EXPECT_EQ(v.verify(headers(signed_nul, "msg"), kBody, kNow), SignatureStatus::mismatch);
  EXPECT_EQ(v.verify(headers(signed_nul, id_with_nul, std::string("1614265330\0", 11)), kBody, kNow),
            SignatureStatus::invalid_timestamp);
  EXPECT_EQ(v.verify(headers(signed_nul + std::string("\0", 1), id_with_nul), kBody, kNow), SignatureStatus::mismatch);
}

TEST(HostileSignature, FiveMegabyteHeaderOfCandidatesIsAMismatch) {
  const SignatureVerifier v(kSecret, 300);
  std::string flood;
  while (flood.size() < kFiveMegabytes) flood += "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ";
  EXPECT_EQ(v.verify(headers(flood), kBody, kNow), SignatureStatus::mismatch);
  // A valid signature at the very end of the flood is still found.
  EXPECT_EQ(v.verify(headers(flood + v.sign(kId, kTimestamp, kBody)), kBody, kNow), SignatureStatus::ok);
}

TEST(HostileSignature, TimestampsThatAreNotPlainSeconds) {
  const SignatureVerifier v(kSecret, 300);
  for (const char* ts : {"+1614265330", " 1614265330", "1614265330 ", "1614265330.0", "0x6037", "1.6e9", "١٦١٤٢٦٥٣٣٠"})
    EXPECT_EQ(v.check_headers(headers("v1,x", kId, ts), kNow), SignatureStatus::invalid_timestamp) << ts;
}

TEST(HostileSignature, SecretsWithBadBase64NameTheProblem) {
  try {
    (void)decode_secret("whsec_\xff\xfe");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("whsec_"), std::string::npos) << e.what();
  }
  EXPECT_THROW(decode_secret(std::string("whsec_c2Vj\0cmV0", 15)), std::invalid_argument);
}

TEST(HostileReplayCache, StaysBoundedUnderAFloodOfIds) {
  ReplayCache cache(1000);
  for (int i = 0; i < 50000; ++i) cache.remember(ReplayCache::key_of("msg_" + std::to_string(i)), 2000, 1000);
  EXPECT_EQ(cache.size(), 1000u);
  EXPECT_FALSE(cache.contains(ReplayCache::key_of("msg_0"), 1000)) << "the oldest were evicted";
  EXPECT_TRUE(cache.contains(ReplayCache::key_of("msg_49999"), 1000));
  // A five-megabyte id costs one digest, like any other.
  const std::string huge(kFiveMegabytes, 'x');
  cache.remember(ReplayCache::key_of(huge), 2000, 1000);
  EXPECT_TRUE(cache.contains(ReplayCache::key_of(huge), 1000));
  EXPECT_FALSE(cache.contains(ReplayCache::key_of(huge.substr(1)), 1000));
}

}  // namespace
}  // namespace tp_common
