// The IMAP reader against a real Dovecot on loopback (tests/fixtures/mail/dovecot.sh).
#include "imap.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <set>

#include "dovecot_fixture.hpp"
#include "test_support.hpp"

namespace tp_email::intake {
namespace {

namespace fs = std::filesystem;
using test::data_of;
using test::sample;

std::string crlf(const std::string& lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

class Imap : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(dovecot_.start(error)) << error;
  }
  IntakeConfig config(const std::string& move_to = "", std::size_t max_bytes = 10u * 1024u * 1024u) const {
    ImapConfig imap;
    imap.url = dovecot_.url();
    imap.username = dovecot_.user();
    imap.password = dovecot_.password();
    imap.tls = false;
    imap.move_to = move_to;
    imap.timeout_ms = 10000;
    IntakeConfig c;
    c.imap = imap;
    c.max_message_bytes = max_bytes;
    return c;
  }
  // One raw IMAP command through libcurl, for setting up and checking the server.
  std::string command(const std::string& url, const std::string& custom) const {
    CURL* h = curl_easy_init();
    std::string out;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_USERNAME, dovecot_.user().c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, dovecot_.password().c_str());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, custom.c_str());
    curl_easy_setopt(
        h, CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* u) {
          static_cast<std::string*>(u)->append(p, s * n);
          return s * n;
        });
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    const CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    EXPECT_EQ(rc, CURLE_OK) << custom;
    return out;
  }
  static std::vector<std::string> ids(const Intake::Unit& u) {
    std::vector<std::string> out;
    for (const auto& r : u.records) out.push_back(r.id);
    return out;
  }

  test::TempDir tmp_;
  test::Dovecot dovecot_{tmp_.path()};
};

TEST_F(Imap, ReadsReportsThroughImapAndCommitFlagsThem) {
  dovecot_.deliver("1.M1.mx", sample("postfix_hard.eml"));
  dovecot_.deliver("2.M1.mx", sample("arf_abuse.eml"));
  dovecot_.deliver("3.M1.mx", sample("auto_reply.eml"));
  Intake intake(config(), "secret");
  auto unit = intake.poll();
  ASSERT_TRUE(unit.has_value());
  ASSERT_EQ(unit->records.size(), 2u);
  EXPECT_EQ(data_of(unit->records[0])["kind"], "bounce_hard");
  EXPECT_EQ(data_of(unit->records[0])["contact_id"], "c-3f9a0c1d2e4b5a6978877665");
  EXPECT_EQ(data_of(unit->records[1])["kind"], "complaint");
  ASSERT_EQ(unit->rejects.size(), 1u);
  EXPECT_EQ(unit->rejects[0].raw, crlf(sample("auto_reply.eml")));  // IMAP sends CRLF lines
  EXPECT_NE(unit->rejects[0].location.find(";UID=3"), std::string::npos) << unit->rejects[0].location;
  EXPECT_EQ(unit->cursor.rfind("imap:1 ", 0), 0u);
  EXPECT_FALSE(intake.poll().has_value());  // handed out, not yet committed

  intake.commit(unit->cursor);
  const std::string flagged = command(dovecot_.url(), "UID SEARCH KEYWORD TouchpointProcessed SEEN");
  EXPECT_NE(flagged.find("* SEARCH 1 2 3"), std::string::npos) << flagged;
  Intake restarted(config(), "secret");
  EXPECT_FALSE(restarted.poll().has_value());
}

TEST_F(Imap, RestartBeforeCommitReadsTheSameResponsesAgain) {
  dovecot_.deliver("1.M1.mx", sample("gmail_policy.eml"));
  dovecot_.deliver("2.M1.mx", sample("microsoft_hard.eml"));
  std::vector<std::string> first;
  {
    Intake intake(config(), "secret");
    auto unit = intake.poll();
    ASSERT_TRUE(unit.has_value());
    first = ids(*unit);
  }  // the hub died before the unit was durable
  EXPECT_EQ(first.size(), 3u);
  Intake again(config(), "secret");
  auto unit = again.poll();
  ASSERT_TRUE(unit.has_value());
  EXPECT_EQ(ids(*unit), first);
  again.commit(unit->cursor);
  Intake after(config(), "secret");
  EXPECT_FALSE(after.poll().has_value());
}

TEST_F(Imap, MessagesArrivingLaterComeInTheNextPoll) {
  dovecot_.deliver("1.M1.mx", sample("postfix_hard.eml"));
  Intake intake(config(), "secret");
  auto first = intake.poll();
  ASSERT_TRUE(first.has_value());
  intake.commit(first->cursor);
  EXPECT_FALSE(intake.poll().has_value());
  dovecot_.deliver("2.M1.mx", sample("postfix_delayed.eml"));
  auto second = intake.poll();
  ASSERT_TRUE(second.has_value());
  ASSERT_EQ(second->records.size(), 1u);
  EXPECT_EQ(data_of(second->records[0])["kind"], "bounce_soft");
}

TEST_F(Imap, CommitCanMoveToAFolder) {
  command(dovecot_.url(""), "CREATE Processed");
  dovecot_.deliver("1.M1.mx", sample("exim_mailbox_full.eml"));
  Intake intake(config("Processed"), "secret");
  auto unit = intake.poll();
  ASSERT_TRUE(unit.has_value());
  intake.commit(unit->cursor);
  EXPECT_NE(command(dovecot_.url(""), "STATUS INBOX (MESSAGES)").find("MESSAGES 0"), std::string::npos);
  EXPECT_NE(command(dovecot_.url(""), "STATUS Processed (MESSAGES)").find("MESSAGES 1"), std::string::npos);
  Intake restarted(config("Processed"), "secret");
  EXPECT_FALSE(restarted.poll().has_value());
}

TEST_F(Imap, OversizeIsRejectedWithItsHeadAndFlagged) {
  dovecot_.deliver("1.M1.mx", sample("postfix_hard.eml") + std::string(8192, 'z'));
  Intake intake(config("", 4096), "secret");
  auto unit = intake.poll();
  ASSERT_TRUE(unit.has_value());
  EXPECT_TRUE(unit->records.empty());
  ASSERT_EQ(unit->rejects.size(), 1u);
  EXPECT_NE(unit->rejects[0].reason.find("larger than intake.max_message_bytes"), std::string::npos);
  EXPECT_LE(unit->rejects[0].raw.size(), 4096u);
  EXPECT_EQ(unit->rejects[0].raw.substr(0, 15), "Return-Path: <>");
  intake.commit(unit->cursor);
  Intake restarted(config("", 4096), "secret");
  EXPECT_FALSE(restarted.poll().has_value());
}

TEST_F(Imap, WrongPasswordIsRetryableAndDoesNotLeakIt) {
  IntakeConfig c = config();
  c.imap->password = "wrong-password-123";
  Intake intake(c, "secret");
  try {
    intake.poll();
    FAIL() << "login with a wrong password succeeded";
  } catch (const touchpoint::RetryableError& e) {
    EXPECT_EQ(std::string(e.what()).find("wrong-password-123"), std::string::npos) << e.what();
  }
}

TEST_F(Imap, ServerDownIsRetryableAndRecovers) {
  dovecot_.deliver("1.M1.mx", sample("postfix_hard.eml"));
  IntakeConfig c = config();
  Intake intake(c, "secret");
  dovecot_.stop();
  EXPECT_THROW(intake.poll(), touchpoint::RetryableError);
  std::string error;
  ASSERT_TRUE(dovecot_.start(error)) << error;
  IntakeConfig moved = config();  // the fixture picked a new port
  Intake back(moved, "secret");
  auto unit = back.poll();
  ASSERT_TRUE(unit.has_value());
  EXPECT_EQ(unit->records.size(), 1u);
}

}  // namespace
}  // namespace tp_email::intake
