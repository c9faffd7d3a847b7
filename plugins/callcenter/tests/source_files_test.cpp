// The source over real files: dispositions in, responses and rejects out, files moved to
// done/ only on commit, and kept in place when the hub refuses them.
#include <string>

#include "support.hpp"

namespace touchpoint::callcenter::test {
namespace {

class FilesTest : public PluginTest {
 protected:
  void SetUp() override { fs::create_directories(in()); }
  std::string config(const std::string& extra = "") const {
    return R"({"dispositions":{"dir":")" + tmp_.str() + R"(/in")" + extra +
           R"(},"outcome_map":{"NA":"no_answer","DNC":"do_not_call"}})";
  }
  fs::path in() const { return tmp_.path() / "in"; }
  // Commits every cursor emitted so far, as the host does after done(TP_OK).
  void commit_all(touchpoint::testing::Instance& inst) {
    for (const std::string& c : harness_.cursors())
      if (!c.empty()) {
        ASSERT_EQ(inst.commit(c), TP_OK);
      }
  }
};

TEST_F(FilesTest, CsvFileBecomesResponsesAndMovesOnCommit) {
  auto inst = open(config());
  write_file(in() / "2026-12-01.csv",
             "contact_id,outcome,at,callback_at,product,category,revenue,note,agent\r\n"
             "c-1,sale,2026-12-01T10:00:00Z,,savings-plus,savings,125.50,\"said \"\"yes\"\"\",a17\r\n"
             "c-2,NA,2026-12-01T10:05:00Z,,,,,,a17\r\n"
             "c-3,callback,2026-12-01T10:06:00Z,2026-12-02T09:00:00+01:00,,,,,a17\r\n"
             "c-4,teleported,,,,,,,\r\n");
  write_file(in() / ".upload.csv", "contact_id,outcome\nc-9,sale\n");  // hidden: still being uploaded
  ASSERT_EQ(inst->read(), TP_OK);
  const auto records = harness_.records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].type, "response");
  EXPECT_EQ(records[0].data,
            R"({"contact_id":"c-1","channel":"phone","kind":"call_outcome","at":"2026-12-01T10:00:00Z",)"
            R"("detail":{"outcome":"sale","product":"savings-plus","category":"savings","revenue":125.5,)"
            R"("note":"said \"yes\"","agent":"a17"}})");
  EXPECT_NE(records[1].data.find(R"("outcome":"no_answer","provider_outcome":"NA")"), std::string::npos);
  EXPECT_NE(records[2].data.find(R"("callback_at":"2026-12-02T09:00:00+01:00")"), std::string::npos);
  EXPECT_EQ(records[0].id.rfind("cc:2026-12-01.csv:", 0), 0u);
  EXPECT_EQ(records[0].id.substr(records[0].id.size() - 2), ":1");
  const auto rejects = harness_.rejects();
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_NE(rejects[0].reason.find("unknown outcome 'teleported'"), std::string::npos);
  EXPECT_EQ(rejects[0].location, in().string() + "/2026-12-01.csv:4");

  // Not moved before the commit; not read twice either.
  EXPECT_TRUE(fs::exists(in() / "2026-12-01.csv"));
  ASSERT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(harness_.records().size(), 3u);
  commit_all(*inst);
  EXPECT_FALSE(fs::exists(in() / "2026-12-01.csv"));
  EXPECT_TRUE(fs::exists(in() / "done" / "2026-12-01.csv"));
  EXPECT_TRUE(fs::exists(in() / ".upload.csv"));
}

TEST_F(FilesTest, RefusedEmitLeavesTheFileAndTheNextReadSucceeds) {
  auto inst = open(config());
  write_file(in() / "a.jsonl", R"({"contact_id":"c-1","outcome":"busy"})"
                               "\n");
  harness_.refuse_next_emits(1, TP_STATUS_BACKPRESSURE, "journal full");
  ASSERT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(harness_.records().size(), 0u);
  EXPECT_EQ(harness_.refusals().size(), 1u);
  commit_all(*inst);
  EXPECT_TRUE(fs::exists(in() / "a.jsonl")) << "a refused file is never moved";
  ASSERT_EQ(inst->read(), TP_OK);
  ASSERT_EQ(harness_.records().size(), 1u);
  commit_all(*inst);
  EXPECT_TRUE(fs::exists(in() / "done" / "a.jsonl"));
}

TEST_F(FilesTest, ReReadAfterARestartGivesTheSameIds) {
  write_file(in() / "a.csv", "contact_id,outcome\nc-1,busy\nc-2,reached\n");
  std::string first_id, cursor;
  {
    auto inst = open(config());
    ASSERT_EQ(inst->read(), TP_OK);
    ASSERT_EQ(harness_.records().size(), 2u);
    first_id = harness_.records()[0].id;
    // Crash before the commit: no move.
  }
  EXPECT_TRUE(fs::exists(in() / "a.csv"));
  touchpoint::testing::Harness again(TP_CALLCENTER_PLUGIN);
  auto inst = again.open(config());
  ASSERT_EQ(inst->read(), TP_OK);
  ASSERT_EQ(again.records().size(), 2u);
  EXPECT_EQ(again.records()[0].id, first_id);
}

TEST_F(FilesTest, CheckpointOfALastUnitMovesTheFileWithoutReEmitting) {
  write_file(in() / "a.csv", "contact_id,outcome\nc-1,busy\n");
  std::string cursor;
  {
    auto inst = open(config());
    ASSERT_EQ(inst->read(), TP_OK);
    cursor = harness_.cursors().back();
    // Crash after durable, before commit.
  }
  touchpoint::testing::Harness again(TP_CALLCENTER_PLUGIN);
  again.set_checkpoint(cursor);
  auto inst = again.open(config());
  ASSERT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(again.records().size(), 0u);
  EXPECT_TRUE(fs::exists(in() / "done" / "a.csv"));
}

TEST_F(FilesTest, HostileFiles) {
  auto inst = open(config(R"(,"max_file_bytes":100000)"));
  const std::string header = "contact_id,outcome,revenue,note,callback_at\n";
  write_file(in() / "1-hostile.csv", header +
                                         "c-1,sale,1e309,,\n"
                                         "c-2,sale,NaN,,\n" +
                                         std::string("c-3,sale,1,a\0b,\n", 16) +
                                         "c-4,callback,,,99999-01-01T00:00:00Z\n"
                                         "\x01\x02,sale,,,\n"
                                         "c-6,sale,,M\xFC"
                                         "ller,\n"
                                         "c-7,sale,,\"truncated");
  ASSERT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(harness_.records().size(), 0u);
  const auto rejects = harness_.rejects();
  ASSERT_EQ(rejects.size(), 7u);
  EXPECT_NE(rejects[0].reason.find("revenue"), std::string::npos);
  EXPECT_NE(rejects[1].reason.find("revenue"), std::string::npos);
  EXPECT_NE(rejects[2].reason.find("note"), std::string::npos);
  EXPECT_NE(rejects[3].reason.find("callback_at"), std::string::npos);
  EXPECT_NE(rejects[4].reason.find("contact_id"), std::string::npos);
  EXPECT_NE(rejects[5].reason.find("UTF-8"), std::string::npos);
  EXPECT_NE(rejects[6].reason.find("unterminated"), std::string::npos);

  write_file(in() / "2-big.csv", header + std::string(200000, 'x'));
  write_file(in() / "3-bomb.jsonl", std::string(20000, '[') + std::string(20000, ']') + "\n" +
                                        R"({"contact_id":"c-8","outcome":")" + std::string(20000, 'o') + "\"}\n" +
                                        R"({"contact_id":"c-9","outcome":"sale","revenue":1e309})"
                                        "\n" +
                                        R"({"contact_id":"c-10","outcome":"reached"})");  // no final newline
  ASSERT_EQ(inst->read(), TP_OK);
  ASSERT_EQ(harness_.rejects().size(), 8u);
  EXPECT_NE(harness_.rejects()[7].reason.find("max_file_bytes"), std::string::npos);
  ASSERT_EQ(inst->read(), TP_OK);
  const auto all = harness_.rejects();
  ASSERT_EQ(all.size(), 11u);
  EXPECT_NE(all[8].reason.find("nested deeper"), std::string::npos);
  EXPECT_NE(all[9].reason.find("bytes (at most 256)"), std::string::npos);
  EXPECT_NE(all[10].reason.find("out of range"), std::string::npos);
  ASSERT_EQ(harness_.records().size(), 1u);
  commit_all(*inst);
  EXPECT_TRUE(fs::exists(in() / "done" / "1-hostile.csv"));
  EXPECT_TRUE(fs::exists(in() / "failed" / "2-big.csv")) << "an unusable file is kept, not dropped";
  EXPECT_TRUE(fs::exists(in() / "done" / "3-bomb.jsonl"));
}

TEST_F(FilesTest, SymlinksAndDirectoriesAreNotRead) {
  auto inst = open(config());
  write_file(tmp_.path() / "secret.csv", "contact_id,outcome\nc-1,sale\n");
  fs::create_symlink(tmp_.path() / "secret.csv", in() / "link.csv");
  fs::create_directories(in() / "dir.csv");
  write_file(in() / "notes.txt", "contact_id,outcome\nc-1,sale\n");  // not .csv/.jsonl/.ndjson
  write_file(in() / "upload.csv.part", "contact_id,outcome\nc-1,sale\n");
  ASSERT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(harness_.records().size(), 0u);
  EXPECT_EQ(harness_.rejects().size(), 0u);
  EXPECT_TRUE(fs::is_symlink(in() / "link.csv"));
}

TEST_F(FilesTest, AFileThatCannotBeMovedIsNotReEmittedOnEveryRead) {
  // done_dir below a regular file cannot be created (also as root).
  write_file(tmp_.path() / "blocker", "x");
  auto inst =
      open(R"({"dispositions":{"dir":")" + in().string() + R"(","done_dir":")" + tmp_.str() + R"(/blocker/done"}})");
  write_file(in() / "a.csv", "contact_id,outcome\nc-1,busy\n");
  ASSERT_EQ(inst->read(), TP_OK);
  commit_all(*inst);
  EXPECT_TRUE(fs::exists(in() / "a.csv"));
  ASSERT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(harness_.records().size(), 1u);
  bool logged = false;
  for (const auto& l : harness_.logs())
    logged |= l.message.find("not read again until it changes") != std::string::npos;
  EXPECT_TRUE(logged);
  write_file(in() / "a.csv", "contact_id,outcome\nc-1,busy\nc-2,busy\n");  // changed: read again
  ASSERT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(harness_.records().size(), 3u);
}

TEST_F(FilesTest, Latin1FilesWhenConfigured) {
  auto inst = open(config(R"(,"encoding":"latin-1","delimiter":";")"));
  write_file(in() / "a.csv", "contact_id;outcome;note\nc-1;reached;M\xFCller\n");
  ASSERT_EQ(inst->read(), TP_OK);
  ASSERT_EQ(harness_.records().size(), 1u);
  EXPECT_NE(harness_.records()[0].data.find("\"note\":\"Müller\""), std::string::npos);
}

TEST_F(FilesTest, AFileWithoutTheRequiredColumnsGoesToFailed) {
  auto inst = open(config());
  write_file(in() / "a.csv", "id;result\n1;2\n");
  ASSERT_EQ(inst->read(), TP_OK);
  ASSERT_EQ(harness_.rejects().size(), 1u);
  EXPECT_NE(harness_.rejects()[0].reason.find("no 'contact_id' column"), std::string::npos);
  commit_all(*inst);
  EXPECT_TRUE(fs::exists(in() / "failed" / "a.csv"));
}

TEST_F(FilesTest, ANameTakenInDoneGetsATimestamp) {
  auto inst = open(config());
  fs::create_directories(in() / "done");
  write_file(in() / "done" / "a.csv", "old");
  write_file(in() / "a.csv", "contact_id,outcome\nc-1,busy\n");
  ASSERT_EQ(inst->read(), TP_OK);
  commit_all(*inst);
  EXPECT_EQ(read_file(in() / "done" / "a.csv"), "old");
  EXPECT_EQ(list_files(in() / "done").size(), 2u);
}

}  // namespace
}  // namespace touchpoint::callcenter::test
