// The Maildir reader through the public Intake API, on real directories.
#include "maildir.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <set>

#include "test_support.hpp"

namespace tp_email::intake {
namespace {

namespace fs = std::filesystem;
using test::data_of;
using test::sample;

class Maildir : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* sub : {"new", "cur", "tmp"}) fs::create_directories(root() / sub);
  }
  fs::path root() const { return tmp_.path() / "bounces"; }
  void drop(const std::string& name, const std::string& bytes, const char* sub = "new") {
    test::write_file(root() / sub / name, bytes);
  }
  IntakeConfig config(std::size_t max_per_poll = 100, std::size_t max_bytes = 10u * 1024u * 1024u) const {
    IntakeConfig c;
    c.maildir = root().string();
    c.max_per_poll = max_per_poll;
    c.max_message_bytes = max_bytes;
    return c;
  }
  std::set<std::string> names(const char* sub) const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(root() / sub)) out.insert(e.path().filename().string());
    return out;
  }
  static std::vector<std::string> ids(const Intake::Unit& u) {
    std::vector<std::string> out;
    for (const auto& r : u.records) out.push_back(r.id);
    return out;
  }

  test::TempDir tmp_;
};

TEST_F(Maildir, EmptyMailboxGivesNothing) {
  Intake intake(config(), "secret");
  EXPECT_FALSE(intake.poll().has_value());
}

TEST_F(Maildir, ReadsReportsRejectsOthersAndCommitMovesThem) {
  drop("1764579603.M1P1.mx", sample("postfix_hard.eml"));
  drop("1764579604.M2P1.mx", sample("arf_abuse.eml"));
  drop("1764579605.M3P1.mx", sample("auto_reply.eml"));
  Intake intake(config(), "secret");
  auto unit = intake.poll();
  ASSERT_TRUE(unit.has_value());
  ASSERT_EQ(unit->records.size(), 2u);
  EXPECT_EQ(data_of(unit->records[0])["kind"], "bounce_hard");  // name order
  EXPECT_EQ(data_of(unit->records[1])["kind"], "complaint");
  ASSERT_EQ(unit->rejects.size(), 1u);
  EXPECT_EQ(unit->rejects[0].location, "maildir:new/1764579605.M3P1.mx");
  EXPECT_NE(unit->rejects[0].reason.find("not a delivery or feedback report"), std::string::npos);
  EXPECT_EQ(unit->rejects[0].raw, sample("auto_reply.eml"));
  EXPECT_LE(unit->cursor.size(), 64u * 1024u);

  // Handed out, not yet durable: a second poll does not hand them out again.
  EXPECT_FALSE(intake.poll().has_value());
  EXPECT_EQ(names("new").size(), 3u);

  intake.commit(unit->cursor);
  EXPECT_TRUE(names("new").empty());
  EXPECT_EQ(names("cur"),
            (std::set<std::string>{"1764579603.M1P1.mx:2,S", "1764579604.M2P1.mx:2,S", "1764579605.M3P1.mx:2,S"}));
  Intake restarted(config(), "secret");
  EXPECT_FALSE(restarted.poll().has_value());
}

TEST_F(Maildir, CrashBeforeCommitReReadsTheSameResponses) {
  drop("1.M1.mx", sample("postfix_hard.eml"));
  drop("2.M1.mx", sample("microsoft_hard.eml"));
  std::vector<std::string> first;
  {
    Intake intake(config(), "secret");
    auto unit = intake.poll();
    ASSERT_TRUE(unit.has_value());
    first = ids(*unit);
  }  // "crash": no commit
  Intake again(config(), "secret");
  auto unit = again.poll();
  ASSERT_TRUE(unit.has_value());
  EXPECT_EQ(ids(*unit), first);
  EXPECT_EQ(first.size(), 3u);
}

TEST_F(Maildir, CurWithoutSeenFlagIsReadAndKeepsItsFlags) {
  drop("5.M1.mx:2,R", sample("postfix_hard.eml"), "cur");
  drop("6.M1.mx:2,S", sample("exim_mailbox_full.eml"), "cur");
  drop(".hidden", sample("exim_mailbox_full.eml"));
  Intake intake(config(), "secret");
  auto unit = intake.poll();
  ASSERT_TRUE(unit.has_value());
  ASSERT_EQ(unit->records.size(), 1u);
  EXPECT_EQ(data_of(unit->records[0])["contact_id"], "c-3f9a0c1d2e4b5a6978877665");
  intake.commit(unit->cursor);
  EXPECT_EQ(names("cur"), (std::set<std::string>{"5.M1.mx:2,RS", "6.M1.mx:2,S"}));
  EXPECT_EQ(names("new"), (std::set<std::string>{".hidden"}));
}

TEST_F(Maildir, SeenNameAddsTheFlagInOrder) {
  EXPECT_EQ(MaildirReader::seen_name("a"), "a:2,S");
  EXPECT_EQ(MaildirReader::seen_name("a:2,"), "a:2,S");
  EXPECT_EQ(MaildirReader::seen_name("a:2,TR"), "a:2,RST");
  EXPECT_EQ(MaildirReader::seen_name("a:2,S"), "a:2,S");
}

TEST_F(Maildir, MaxPerPollGivesDeterministicBatches) {
  for (int i = 0; i < 5; ++i) drop("10" + std::to_string(i) + ".M.mx", sample("postfix_hard.eml"));
  Intake intake(config(2), "secret");
  std::vector<std::size_t> sizes;
  while (auto unit = intake.poll()) {
    sizes.push_back(unit->records.size());
    intake.commit(unit->cursor);
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 2, 1}));
  EXPECT_EQ(names("cur").size(), 5u);
}

TEST_F(Maildir, ReleaseHandsTheMessagesOutAgain) {
  drop("1.M.mx", sample("postfix_hard.eml"));
  Intake intake(config(), "secret");
  auto unit = intake.poll();
  ASSERT_TRUE(unit.has_value());
  intake.release(unit->cursor);
  auto again = intake.poll();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(ids(*again), ids(*unit));
}

TEST_F(Maildir, OversizeIsRejectedAndMovedAside) {
  std::string big = sample("postfix_hard.eml") + std::string(4096, 'x');
  drop("7.M.mx", big);
  drop("8.M.mx", sample("exim_mailbox_full.eml"));
  Intake intake(config(100, 4096), "secret");
  auto unit = intake.poll();
  ASSERT_TRUE(unit.has_value());
  EXPECT_EQ(unit->records.size(), 1u);
  ASSERT_EQ(unit->rejects.size(), 1u);
  EXPECT_NE(unit->rejects[0].reason.find("larger than intake.max_message_bytes (4096)"), std::string::npos);
  EXPECT_EQ(unit->rejects[0].raw, big);  // under kMaxRawBytes: the dead letter holds all of it
  intake.commit(unit->cursor);
  EXPECT_EQ(names("oversize"), (std::set<std::string>{"7.M.mx"}));
  EXPECT_EQ(names("cur"), (std::set<std::string>{"8.M.mx:2,S"}));
}

TEST_F(Maildir, HugeMessageKeepsOnlyItsHeadInTheReject) {
  drop("9.M.mx", std::string(3u * 1024u * 1024u, 'y'));
  Intake intake(config(100, 1024 * 1024), "secret");
  auto unit = intake.poll();
  ASSERT_TRUE(unit.has_value());
  ASSERT_EQ(unit->rejects.size(), 1u);
  EXPECT_EQ(unit->rejects[0].raw.size(), kMaxRawBytes);
}

TEST_F(Maildir, SymlinksAreNotFollowed) {
  const fs::path outside = tmp_.path() / "secret.txt";
  test::write_file(outside, sample("postfix_hard.eml"));
  fs::create_symlink(outside, root() / "new" / "1.link");
  Intake intake(config(), "secret");
  EXPECT_FALSE(intake.poll().has_value());
}

TEST_F(Maildir, ForgedCursorsMoveNothingOutside) {
  const fs::path victim = tmp_.path() / "victim";
  test::write_file(victim, "keep me");
  drop("1.M.mx", sample("postfix_hard.eml"));
  Intake intake(config(), "secret");
  for (const char* forged : {"maildir:1\ns new/..%2F..%2Fvictim", "maildir:1\ns new/../../victim",
                             "maildir:1\ns tmp/1.M.mx", "maildir:1\nq new/1.M.mx", "maildir:1\ns new/%2",
                             "maildir:1\ns new/.", "maildir:1\ns ../victim", "garbage", ""}) {
    EXPECT_NO_THROW(intake.commit(forged)) << forged;
  }
  EXPECT_TRUE(fs::exists(victim));
  EXPECT_EQ(names("new"), (std::set<std::string>{"1.M.mx"}));
  EXPECT_TRUE(names("cur").empty());
}

TEST_F(Maildir, OddFileNamesRoundTripThroughTheCursor) {
  const std::string odd = "1.M\xe4 name%2F+x";
  drop(odd, sample("postfix_hard.eml"));
  Intake intake(config(), "secret");
  auto unit = intake.poll();
  ASSERT_TRUE(unit.has_value());
  intake.commit(unit->cursor);
  EXPECT_EQ(names("cur"), (std::set<std::string>{odd + ":2,S"}));
}

TEST_F(Maildir, MissingDirectoryIsRetryable) {
  IntakeConfig c;
  c.maildir = (tmp_.path() / "nope").string();
  Intake intake(c, "secret");
  EXPECT_THROW(intake.poll(), touchpoint::RetryableError);
}

TEST_F(Maildir, CommitTwiceIsHarmless) {
  drop("1.M.mx", sample("postfix_hard.eml"));
  Intake intake(config(), "secret");
  auto unit = intake.poll();
  ASSERT_TRUE(unit.has_value());
  intake.commit(unit->cursor);
  EXPECT_NO_THROW(intake.commit(unit->cursor));
  EXPECT_EQ(names("cur"), (std::set<std::string>{"1.M.mx:2,S"}));
}

}  // namespace
}  // namespace tp_email::intake
