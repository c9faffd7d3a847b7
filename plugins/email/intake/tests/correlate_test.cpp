#include "correlate.hpp"

#include <gtest/gtest.h>

namespace tp_email::intake::detail {
namespace {

TEST(Correlate, ContactIdFormat) {
  EXPECT_TRUE(is_contact_id("c-3f9a0c1d2e4b5a6978877665"));
  EXPECT_FALSE(is_contact_id("c-3F9A0C1D2E4B5A6978877665"));
  EXPECT_FALSE(is_contact_id("c-3f9a0c1d2e4b5a697887766"));
  EXPECT_FALSE(is_contact_id("c-3f9a0c1d2e4b5a69788776655"));
  EXPECT_FALSE(is_contact_id("x-3f9a0c1d2e4b5a6978877665"));
  EXPECT_FALSE(is_contact_id("c-3f9a0c1d2e4b5a697887766g"));
  EXPECT_FALSE(is_contact_id(""));
}

TEST(Correlate, Xtext) {
  EXPECT_EQ(xtext_decode("c+2D3f9a"), "c-3f9a");
  EXPECT_EQ(xtext_decode("a+2Bb+3Dc"), "a+b=c");
  EXPECT_EQ(xtext_decode("broken+2"), "broken+2");
  EXPECT_EQ(xtext_decode("broken+ZZ"), "broken+ZZ");
  EXPECT_EQ(xtext_decode("+"), "+");
  EXPECT_EQ(xtext_decode(""), "");
}

TEST(Correlate, Verp) {
  EXPECT_EQ(verp_contact("<bounces+c-3f9a0c1d2e4b5a6978877665@bank.example>"), "c-3f9a0c1d2e4b5a6978877665");
  EXPECT_EQ(verp_contact("BOUNCES+C-3F9A0C1D2E4B5A6978877665@bank.example"), "c-3f9a0c1d2e4b5a6978877665");
  EXPECT_EQ(verp_contact("a@b, bounces+junk@x, bounces+c-3f9a0c1d2e4b5a6978877665@bank.example"),
            "c-3f9a0c1d2e4b5a6978877665");
  EXPECT_EQ(verp_contact("bounces+c-3f9a0c1d2e4b5a6978877665"), "");  // no domain
  EXPECT_EQ(verp_contact("bounces@bank.example"), "");
}

TEST(Correlate, OrderEnvidVerpMessageIdHeader) {
  RawReport r;
  r.per_message = {{"original-envelope-id", "c-111111111111111111111111"}};
  r.envelope = {{"to", "bounces+c-222222222222222222222222@bank.example"}};
  r.original = {{"message-id", "<c-333333333333333333333333@m.example>"},
                {"x-touchpoint-contact", "c-444444444444444444444444"}};
  EXPECT_EQ(correlate(r).contact_id, "c-111111111111111111111111");
  EXPECT_EQ(correlate(r).via, "envid");
  r.per_message = {{"original-envelope-id", "not-a-contact"}};
  EXPECT_EQ(correlate(r).contact_id, "c-222222222222222222222222");
  r.envelope.clear();
  EXPECT_EQ(correlate(r).contact_id, "c-333333333333333333333333");
  EXPECT_EQ(correlate(r).provider_id, "c-333333333333333333333333@m.example");
  r.original[0].second = "<foreign@m.example>";
  EXPECT_EQ(correlate(r).contact_id, "c-444444444444444444444444");
  EXPECT_EQ(correlate(r).via, "header");
  r.original.pop_back();
  EXPECT_EQ(correlate(r).contact_id, "");
  EXPECT_EQ(correlate(r).provider_id, "foreign@m.example");
}

}  // namespace
}  // namespace tp_email::intake::detail
