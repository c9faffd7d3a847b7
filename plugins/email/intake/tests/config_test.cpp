#include <gtest/gtest.h>

#include <stdexcept>

#include "intake.hpp"

namespace tp_email::intake {
namespace {

std::string error_of(const std::string& json) {
  try {
    parse_intake_config(json);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(Config, MaildirDefaults) {
  const IntakeConfig c = parse_intake_config(R"({"maildir": "/var/mail/bounces"})");
  ASSERT_TRUE(c.maildir);
  EXPECT_EQ(*c.maildir, "/var/mail/bounces");
  EXPECT_FALSE(c.imap);
  EXPECT_EQ(c.max_message_bytes, 10u * 1024u * 1024u);
  EXPECT_EQ(c.max_per_poll, 100u);
  EXPECT_EQ(c.max_recipients, 100u);
}

TEST(Config, ImapFull) {
  const IntakeConfig c = parse_intake_config(
      R"({"imap": {"url": "imap://127.0.0.1:1143/INBOX", "username": "bounces", "password": "s3cret",
                   "tls": false, "move_to": "Processed", "timeout_ms": 5000},
          "max_message_bytes": 2048, "max_per_poll": 7, "max_recipients": 3})");
  ASSERT_TRUE(c.imap);
  EXPECT_EQ(c.imap->url, "imap://127.0.0.1:1143/INBOX");
  EXPECT_EQ(c.imap->username, "bounces");
  EXPECT_EQ(c.imap->password, "s3cret");
  EXPECT_FALSE(c.imap->tls);
  EXPECT_EQ(c.imap->move_to, "Processed");
  EXPECT_EQ(c.imap->timeout_ms, 5000);
  EXPECT_EQ(c.max_message_bytes, 2048u);
  EXPECT_EQ(c.max_per_poll, 7u);
  EXPECT_EQ(c.max_recipients, 3u);
  EXPECT_TRUE(
      parse_intake_config(R"({"imap": {"url": "imaps://h/INBOX", "username": "u", "password": ""}})").imap->tls);
}

TEST(Config, ErrorsNameTheKey) {
  EXPECT_EQ(error_of("[]"), "intake: must be an object");
  EXPECT_NE(error_of("{").find("intake: not valid JSON"), std::string::npos);
  EXPECT_EQ(error_of("{}"), "intake: needs exactly one of maildir and imap");
  EXPECT_EQ(error_of(R"({"maildir": "/a", "imap": {}})"), "intake: needs exactly one of maildir and imap");
  EXPECT_EQ(error_of(R"({"maildir": "/a", "maildirr": 1})"), "intake.maildirr: unknown key");
  EXPECT_EQ(error_of(R"({"maildir": 5})"), "intake.maildir: must be a string");
  EXPECT_EQ(error_of(R"({"maildir": ""})"), "intake.maildir: must not be empty");
  EXPECT_EQ(error_of(R"({"maildir": "/a", "max_per_poll": 0})"), "intake.max_per_poll: must be between 1 and 10000");
  EXPECT_EQ(error_of(R"({"maildir": "/a", "max_per_poll": -3})"), "intake.max_per_poll: must not be negative");
  EXPECT_EQ(error_of(R"({"maildir": "/a", "max_message_bytes": "big"})"),
            "intake.max_message_bytes: must be an integer");
  EXPECT_EQ(error_of(R"({"maildir": "/a", "max_recipients": 1.5})"), "intake.max_recipients: must be an integer");
  EXPECT_EQ(error_of(R"({"imap": "imap://x"})"), "intake.imap: must be an object");
  EXPECT_EQ(error_of(R"({"imap": {"username": "u", "password": "p"}})"), "intake.imap.url: required");
  EXPECT_EQ(error_of(R"({"imap": {"url": "http://h/INBOX", "username": "u", "password": "p"}})"),
            "intake.imap.url: must start with imap:// or imaps://");
  EXPECT_EQ(error_of(R"({"imap": {"url": "imap://h", "username": "u", "password": "p"}})"),
            "intake.imap.url: must name a mailbox, e.g. imap://127.0.0.1:143/INBOX");
  EXPECT_EQ(error_of(R"({"imap": {"url": "imap://h/INBOX;UID=1", "username": "u", "password": "p"}})"),
            "intake.imap.url: must not carry ;UID, ;UIDVALIDITY, a query or a fragment");
  EXPECT_EQ(error_of(R"({"imap": {"url": "imap://h/INBOX", "password": "p"}})"), "intake.imap.username: required");
  EXPECT_EQ(error_of(R"({"imap": {"url": "imap://h/INBOX", "username": "u"}})"), "intake.imap.password: required");
  EXPECT_EQ(error_of(R"({"imap": {"url": "imap://h/INBOX", "username": "u", "password": "p", "tls": "yes"}})"),
            "intake.imap.tls: must be true or false");
  EXPECT_EQ(error_of(R"({"imap": {"url": "imaps://h/INBOX", "username": "u", "password": "p", "tls": false}})"),
            "intake.imap.tls: false contradicts an imaps:// url");
  EXPECT_EQ(error_of(R"({"imap": {"url": "imap://h/INBOX", "username": "u", "password": "p", "port": 1}})"),
            "intake.imap.port: unknown key");
  EXPECT_EQ(error_of(R"({"imap": {"url": "imap://h/INBOX", "username": "u", "password": "p", "move_to": "a\"b"}})"),
            "intake.imap.move_to: must be a non-empty folder name without quotes, backslashes or line breaks");
}

TEST(Config, SecretIsNotInErrors) {
  const std::string e =
      error_of(R"({"imap": {"url": "imap://h/INBOX", "username": "u", "password": "hunter2", "x": 1}})");
  EXPECT_EQ(e.find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace tp_email::intake
