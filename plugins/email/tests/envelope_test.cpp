#include "envelope.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tp_email {
namespace {

TEST(Envelope, XtextEncodesPlusEqualsAndNonPrintables) {
  EXPECT_EQ(xtext_encode("c-3f9a0c1d2e4b5a6978877665"), "c-3f9a0c1d2e4b5a6978877665");
  EXPECT_EQ(xtext_encode("a+b=c"), "a+2Bb+3Dc");
  EXPECT_EQ(xtext_encode("a b\r\n"), "a+20b+0D+0A");
  EXPECT_EQ(xtext_encode("\xc3\xbc"), "+C3+BC");
  EXPECT_EQ(xtext_encode(std::string("\0", 1)), "+00");
}

TEST(Envelope, VerpPutsTheContactIdIntoTheLocalPart) {
  EXPECT_EQ(verp_address("bounces@bank.example", "c-1"), "bounces+c-1@bank.example");
}

TEST(Envelope, MailboxSyntax) {
  EXPECT_TRUE(valid_mailbox("anna@example.de"));
  EXPECT_TRUE(valid_mailbox("a.b+tag@sub.example.de"));
  for (const std::string& bad : std::vector<std::string>{
           "", "anna", "@example.de", "anna@", "anna@@example.de", "an na@example.de", "anna@example.de>",
           "<anna@example.de", "anna@example.de\r\nRCPT TO:<evil@x>", "anna@.example.de", "anna@example..de",
           "a,b@example.de", std::string("anna\0@example.de", 16), std::string(65, 'a') + "@example.de",
           "a@" + std::string(260, 'b')})
    EXPECT_FALSE(valid_mailbox(bad)) << bad;
}

TEST(Envelope, ContactIdSyntax) {
  EXPECT_TRUE(valid_contact_id("c-3f9a0c1d2e4b5a6978877665"));
  for (const std::string& bad :
       std::vector<std::string>{"", "c 1", "c-1\r\n", "c-1>", "c-1@x", std::string(65, 'a'), "c+1"})
    EXPECT_FALSE(valid_contact_id(bad)) << bad;
}

TEST(Envelope, MasksAddressesForLogs) {
  EXPECT_EQ(mask_address("anna@example.de"), "a***@example.de");
  EXPECT_EQ(mask_address("nonsense"), "***");
}

}  // namespace
}  // namespace tp_email
