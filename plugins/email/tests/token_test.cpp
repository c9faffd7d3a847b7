#include <gtest/gtest.h>

#include <string>

#include "unsubscribe_token.hpp"

namespace tp_email {
namespace {

constexpr char kSecret[] = "0123456789abcdef0123";
constexpr char kContact[] = "c-3f9a0c1d2e4b5a6978877665";

TEST(Token, SignsContactIdDotThirtyTwoHexDigits) {
  const std::string t = sign_unsubscribe_token(kSecret, kContact);
  ASSERT_EQ(t.size(), std::string(kContact).size() + 1 + 32);
  EXPECT_EQ(t.substr(0, t.find('.')), kContact);
  EXPECT_EQ(t.find_first_not_of("0123456789abcdef", t.rfind('.') + 1), std::string::npos);
  EXPECT_EQ(sign_unsubscribe_token(kSecret, kContact), t) << "stable";
}

TEST(Token, MatchesAnIndependentHmacSha256) {
  // echo -n c-1 | openssl dgst -sha256 -hmac 0123456789abcdef0123
  EXPECT_EQ(sign_unsubscribe_token(kSecret, "c-1"), "c-1.6fd1f6d5f4cc434c30f66e9d3e852523");
}

TEST(Token, VerifiesItsOwnTokens) {
  const auto id = verify_unsubscribe_token(kSecret, sign_unsubscribe_token(kSecret, kContact));
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(*id, kContact);
}

TEST(Token, RefusesForgedTruncatedAndForeignTokens) {
  const std::string t = sign_unsubscribe_token(kSecret, kContact);
  std::string forged = t;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_FALSE(verify_unsubscribe_token(kSecret, forged));
  EXPECT_FALSE(verify_unsubscribe_token(kSecret, t.substr(0, t.size() - 1)));
  EXPECT_FALSE(verify_unsubscribe_token(kSecret, t + "0"));
  EXPECT_FALSE(verify_unsubscribe_token("another-secret-of-20b", t));
  // The MAC of one contact does not open another.
  const std::string other = sign_unsubscribe_token(kSecret, "c-000000000000000000000000");
  EXPECT_FALSE(verify_unsubscribe_token(kSecret, std::string(kContact) + other.substr(other.rfind('.'))));
  std::string upper = t;
  for (size_t i = t.rfind('.') + 1; i < upper.size(); ++i) upper[i] = static_cast<char>(std::toupper(upper[i]));
  if (upper != t) {
    EXPECT_FALSE(verify_unsubscribe_token(kSecret, upper)) << "only the canonical lower-case form";
  }
}

TEST(Token, RefusesMalformedInput) {
  for (const std::string& bad : {std::string(), std::string("."), std::string("c-1"), std::string(".abc"),
                                 std::string("c-1."), std::string(40, '.'), std::string("c-1.\0\0", 6)})
    EXPECT_FALSE(verify_unsubscribe_token(kSecret, bad)) << bad;
  EXPECT_FALSE(verify_unsubscribe_token("", sign_unsubscribe_token(kSecret, kContact))) << "empty secret";
}

TEST(Token, RefusesAOneMegabyteTokenWithoutHashingIt) {
  std::string huge(1024 * 1024, 'a');
  huge += "." + std::string(32, '0');
  EXPECT_FALSE(verify_unsubscribe_token(kSecret, huge));
  // A long contact id signs fine but is refused on the way back once over the limit.
  const std::string long_id(kMaxUnsubscribeTokenBytes, 'x');
  EXPECT_FALSE(verify_unsubscribe_token(kSecret, sign_unsubscribe_token(kSecret, long_id)));
}

TEST(Token, CheckTellsMalformedFromForged) {
  const std::string t = sign_unsubscribe_token(kSecret, kContact);
  const TokenResult ok = check_unsubscribe_token(kSecret, t);
  EXPECT_EQ(ok.check, TokenCheck::ok);
  EXPECT_EQ(ok.contact_id, kContact);
  std::string flipped = t;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_EQ(check_unsubscribe_token(kSecret, flipped).check, TokenCheck::forged);
  EXPECT_EQ(check_unsubscribe_token("another-secret-of-20b", t).check, TokenCheck::forged);
  EXPECT_EQ(check_unsubscribe_token("", t).check, TokenCheck::forged) << "an empty secret verifies nothing";
  EXPECT_TRUE(check_unsubscribe_token(kSecret, flipped).contact_id.empty());
  // Only a hub contact id (c- and 24 lower-case hex digits) can verify, even
  // with a correct MAC: anything else is malformed, answered 400 not 404.
  for (const std::string id :
       {"c-1", "C-3f9a0c1d2e4b5a6978877665", "c-3F9A0C1D2E4B5A6978877665", "c-3f9a0c1d2e4b5a69788776650",
        "x-3f9a0c1d2e4b5a6978877665", "c-3f9a0c1d2e4b5a697887766g", "c-3f9a.c1d2e4b5a6978877665"}) {
    EXPECT_EQ(check_unsubscribe_token(kSecret, sign_unsubscribe_token(kSecret, id)).check, TokenCheck::malformed) << id;
    EXPECT_FALSE(verify_unsubscribe_token(kSecret, sign_unsubscribe_token(kSecret, id))) << id;
  }
  for (const std::string& bad : {t.substr(0, t.size() - 1), t + "0", t + "/x", std::string(kContact) + ".",
                                 t.substr(0, 26) + std::string(32, 'G'), std::string("../../etc/passwd"),
                                 std::string(t.data(), 30) + std::string("\0", 1) + t.substr(31)})
    EXPECT_EQ(check_unsubscribe_token(kSecret, bad).check, TokenCheck::malformed) << bad;
}

TEST(Token, SignRefusesEmptyInputs) {
  EXPECT_THROW(sign_unsubscribe_token("", kContact), std::invalid_argument);
  EXPECT_THROW(sign_unsubscribe_token(kSecret, ""), std::invalid_argument);
}

}  // namespace
}  // namespace tp_email
