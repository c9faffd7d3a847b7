// The source through the real plugin library: return files from a directory.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace touchpoint::post::test {
namespace {

struct Returns : ::testing::Test {
  TempDir tmp;
  Harness h{TP_POST_PLUGIN};
  void SetUp() override { fs::create_directories(in()); }
  fs::path in() const { return tmp.path() / "returns"; }
  nlohmann::json config(nlohmann::json extra = nlohmann::json::object()) const {
    nlohmann::json r = {{"dir", in().string()}};
    r.update(extra);
    return {{"returns", r}};
  }
  std::unique_ptr<touchpoint::testing::Instance> open(nlohmann::json extra = nlohmann::json::object()) {
    fs::create_directories(in());
    return h.open(config(extra).dump());
  }
  // Reads until nothing more comes, committing every cursor like the hub does after done().
  void drain(touchpoint::testing::Instance& inst) {
    for (int i = 0; i < 100; ++i) {
      const size_t before = h.cursors().size();
      ASSERT_EQ(inst.read(), TP_OK);
      const auto cursors = h.cursors();
      if (cursors.size() == before) return;
      if (!cursors.back().empty()) {
        ASSERT_EQ(inst.commit(cursors.back()), TP_OK);
      }
    }
    FAIL() << "read() never ran dry";
  }
};

constexpr const char* kHeader = "contact_id,reason,new_street,new_zip,new_city,new_country,date\n";

TEST_F(Returns, RowsBecomeResponsesAndTheFileMovesAfterCommit) {
  spit(in() / "ret-1.csv", std::string(kHeader) + contact_id(1) + ",moved,Neue Str. 5,20095,Hamburg,DE,2026-03-01\n" +
                               contact_id(2) + ",deceased,,,,,01.03.2026\n" + contact_id(3) + ",unknown,,,,,\n");
  auto inst = open();
  ASSERT_EQ(inst->read(), TP_OK);
  const auto recs = h.records();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_TRUE(h.rejects().empty());
  const auto d0 = nlohmann::json::parse(recs[0].data);
  EXPECT_EQ(recs[0].type, "response");
  EXPECT_EQ(
      d0,
      (nlohmann::json{
          {"contact_id", contact_id(1)},
          {"channel", "post"},
          {"kind", "letter_returned"},
          {"at", "2026-03-01T00:00:00Z"},
          {"detail",
           {{"reason", "moved"},
            {"new_address", {{"street", "Neue Str. 5"}, {"zip", "20095"}, {"city", "Hamburg"}, {"country", "DE"}}}}}}));
  EXPECT_EQ(nlohmann::json::parse(recs[1].data)["at"], "2026-03-01T00:00:00Z");
  EXPECT_EQ(nlohmann::json::parse(recs[1].data)["detail"], (nlohmann::json{{"reason", "deceased"}}));
  EXPECT_FALSE(nlohmann::json::parse(recs[2].data).contains("at"));
  EXPECT_EQ(recs[0].id.rfind("post-return:", 0), 0u);
  EXPECT_EQ(recs[0].id.substr(recs[0].id.rfind(':')), ":2");  // the physical line
  // Not moved before the hub commits the unit.
  EXPECT_TRUE(fs::exists(in() / "ret-1.csv"));
  ASSERT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(h.records().size(), 3u);  // not read twice while waiting for the commit
  ASSERT_EQ(inst->commit(h.cursors().back()), TP_OK);
  EXPECT_FALSE(fs::exists(in() / "ret-1.csv"));
  EXPECT_TRUE(fs::exists(in() / "done" / "ret-1.csv"));
}

TEST_F(Returns, IdsAreStableWhenTheSameFileIsReadAgain) {
  const std::string body = std::string(kHeader) + contact_id(1) + ",refused,,,,,\n";
  spit(in() / "a.csv", body);
  auto inst = open();
  drain(*inst);
  spit(in() / "again-under-another-name.csv", body);
  drain(*inst);
  const auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].id, recs[1].id);  // the hub applies it once
  EXPECT_EQ(names(in() / "done"), (std::vector<std::string>{"a.csv", "again-under-another-name.csv"}));
}

TEST_F(Returns, ReasonMapAndColumnMapping) {
  spit(in() / "shop.csv", "Kundennr;Grund;Datum\n" + contact_id(1) + ";01;2026-01-02T10:00:00+01:00\n" + contact_id(2) +
                              ";AV;\n" + contact_id(3) + ";99;\n");
  auto inst = open({{"delimiter", ";"},
                    {"columns", {{"Kundennr", "contact_id"}, {"Grund", "reason"}, {"Datum", "date"}}},
                    {"reason_map", {{"01", "moved"}, {"av", "refused"}}}});
  drain(*inst);
  const auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(recs[0].data)["detail"], (nlohmann::json{{"reason", "moved"}, {"code", "01"}}));
  EXPECT_EQ(nlohmann::json::parse(recs[0].data)["at"], "2026-01-02T10:00:00+01:00");
  EXPECT_EQ(nlohmann::json::parse(recs[1].data)["detail"]["reason"], "refused");
  const auto rejects = h.rejects();
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_NE(rejects[0].reason.find("unknown reason code \"99\""), std::string::npos) << rejects[0].reason;
  EXPECT_EQ(rejects[0].location, "shop.csv:4");
}

TEST_F(Returns, HostileRowsAreRejectedOneByOneAndGoodRowsGoThrough) {
  std::string body = kHeader;
  body += contact_id(1) + ",moved,A 1,1,B,,\n";                                        // line 2: good
  body += "c-../../etc/passwd;rm -rf /<script>,unknown,,,,,\n";                        // 3: hostile contact_id
  body += contact_id(3) + ",unknown,,,,,\n";                                           // 4: good
  body += contact_id(1) + ",moved,A 1,1,B,,\n";                                        // 5: duplicate of 2
  body += contact_id(5) + ",unknown," + std::string(5 * 1024 * 1024, 'x') + ",,,,\n";  // 6: 5-MB field
  body += contact_id(6) +
          ",unknown,M\xFC"
          "ller,,,,\n";                                                       // 7: latin-1 in a utf-8 file
  body += std::string("c-\0", 3) + "00000000000000000000000,unknown,,,,,\n";  // 8: NUL
  body += contact_id(9) + ",unknown,,\n";                                     // 9: too few fields
  body += contact_id(10) + ",moved,Only street,,,,\n";                        // 10: incomplete address
  body += contact_id(11) + ",unknown,,,,,31.02.2026\n";                       // 11: impossible date
  body += contact_id(12) + ",deceased,,,,,2026-05-0";                         // 12: cut off, no line break
  spit(in() / "hostile.csv", body);
  auto inst = open();
  drain(*inst);
  const auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(recs[0].data)["contact_id"], contact_id(1));
  EXPECT_EQ(nlohmann::json::parse(recs[1].data)["contact_id"], contact_id(3));
  const auto rejects = h.rejects();
  ASSERT_EQ(rejects.size(), 9u);
  const std::pair<const char*, const char*> expected[] = {
      {"hostile.csv:3", "is not a contact id"},         {"hostile.csv:5", "duplicate of line 2"},
      {"hostile.csv:6", "larger than max_field_bytes"}, {"hostile.csv:7", "not valid UTF-8"},
      {"hostile.csv:8", "is not a contact id"},         {"hostile.csv:9", "row has 4 fields"},
      {"hostile.csv:10", "incomplete new address"},     {"hostile.csv:11", "is not YYYY-MM-DD"},
      {"hostile.csv:12", "is not YYYY-MM-DD"}};
  for (size_t i = 0; i < 9; ++i) {
    EXPECT_EQ(rejects[i].location, expected[i].first) << i;
    EXPECT_NE(rejects[i].reason.find(expected[i].second), std::string::npos) << i << ": " << rejects[i].reason;
    EXPECT_LE(rejects[i].raw.size(), 70u * 1024u);  // raw input is cut, never 5 MB
    EXPECT_TRUE(touchpoint::testing::detail::valid_utf8(rejects[i].raw + rejects[i].reason));
  }
  EXPECT_TRUE(h.refusals().empty());
  EXPECT_TRUE(fs::exists(in() / "done" / "hostile.csv"));
}

TEST_F(Returns, TruncatedLastLineAndOpenQuote) {
  spit(in() / "cut.csv", std::string(kHeader) + contact_id(1) + ",unknown,,,,,\n" + contact_id(2) + ",\"moved,Neue");
  auto inst = open();
  drain(*inst);
  EXPECT_EQ(h.records().size(), 1u);
  ASSERT_EQ(h.rejects().size(), 1u);
  EXPECT_NE(h.rejects()[0].reason.find("not closed"), std::string::npos) << h.rejects()[0].reason;
  spit(in() / "cut2.csv", std::string(kHeader) + contact_id(3) + ",unknown,,,,,\n" + contact_id(4) + ",unkn");
  drain(*inst);
  ASSERT_EQ(h.rejects().size(), 2u);
  EXPECT_NE(h.rejects()[1].reason.find("truncated last line"), std::string::npos) << h.rejects()[1].reason;
}

TEST_F(Returns, EmptyHeaderOnlyAndHeaderlessFiles) {
  spit(in() / "1-empty.csv", "");
  spit(in() / "2-header-only.csv", kHeader);
  spit(in() / "3-no-columns.csv", "foo,bar\n1,2\n");
  spit(in() / "4-binary.csv", std::string("\0\x01\x02\xFF\n\0\0", 7));
  auto inst = open();
  drain(*inst);
  EXPECT_TRUE(h.records().empty());
  const auto rejects = h.rejects();
  ASSERT_EQ(rejects.size(), 3u);
  EXPECT_NE(rejects[0].reason.find("empty file"), std::string::npos);
  EXPECT_EQ(rejects[0].location, "1-empty.csv");
  EXPECT_NE(rejects[1].reason.find("no contact_id or no reason column"), std::string::npos);
  EXPECT_EQ(rejects[1].location, "3-no-columns.csv");
  EXPECT_EQ(rejects[2].location, "4-binary.csv");
  EXPECT_TRUE(touchpoint::testing::detail::valid_utf8(rejects[2].raw));
  // Every file, good or bad, is finished and moved: none is read forever.
  EXPECT_EQ(names(in() / "done").size(), 4u);
}

TEST_F(Returns, Latin1Files) {
  spit(in() / "l1.csv", std::string(kHeader) + contact_id(1) +
                            ",moved,Stra\xDF"
                            "e 1,80331,M\xFCnchen,DE,\n");
  auto inst = open({{"encoding", "latin-1"}});
  drain(*inst);
  ASSERT_EQ(h.records().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(h.records()[0].data)["detail"]["new_address"]["city"], "München");
}

TEST_F(Returns, ResumesAfterTheCheckpointLine) {
  std::string body = kHeader;
  for (int i = 1; i <= 10; ++i) body += contact_id(i) + ",unknown,,,,,\n";
  spit(in() / "big.csv", body);
  {
    auto inst = open({{"batch_rows", 4}});
    ASSERT_EQ(inst->read(), TP_OK);  // one unit: lines 2-5
    ASSERT_EQ(h.records().size(), 4u);
  }
  // A restart: the hub hands back the last durable cursor.
  Harness h2(TP_POST_PLUGIN);
  h2.set_checkpoint(h.cursors().back());
  auto inst = h2.open(config({{"batch_rows", 4}}).dump());
  for (int i = 0; i < 5; ++i) ASSERT_EQ(inst->read(), TP_OK);
  const auto recs = h2.records();
  ASSERT_EQ(recs.size(), 6u);
  EXPECT_EQ(nlohmann::json::parse(recs[0].data)["contact_id"], contact_id(5));
  ASSERT_EQ(inst->commit(h2.cursors().back()), TP_OK);
  EXPECT_TRUE(fs::exists(in() / "done" / "big.csv"));
}

TEST_F(Returns, AFailedDoneRewindsToTheCheckpoint) {
  std::string body = kHeader;
  for (int i = 1; i <= 6; ++i) body += contact_id(i) + ",unknown,,,,,\n";
  spit(in() / "r.csv", body);
  auto inst = open({{"batch_rows", 2}});
  h.refuse_next_emits(1, TP_STATUS_RETRYABLE, "journal full");
  EXPECT_EQ(inst->read(), TP_STATUS_RETRYABLE);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(h.records().size(), 6u);  // the refused unit came again, nothing lost
}

TEST_F(Returns, UnsafeNamesAreReportedOnceAndNotRead) {
  spit(in() / "bad name;rm -rf.csv", std::string(kHeader) + contact_id(1) + ",unknown,,,,,\n");
  spit(in() / ".hidden.csv", "x");
  spit(in() / "notes.txt", "not a return file");
  auto inst = open();
  drain(*inst);
  drain(*inst);
  EXPECT_TRUE(h.records().empty());
  ASSERT_EQ(h.rejects().size(), 1u);
  EXPECT_NE(h.rejects()[0].reason.find("unsafe return file name"), std::string::npos);
  EXPECT_TRUE(fs::exists(in() / "bad name;rm -rf.csv"));
  EXPECT_TRUE(fs::exists(in() / "notes.txt"));
}

TEST_F(Returns, TooLargeFileIsRejectedAndSetAside) {
  spit(in() / "huge.csv", std::string(kHeader) + std::string(4096, 'x') + "\n");
  auto inst = open({{"max_file_bytes", 2048}});
  drain(*inst);
  ASSERT_EQ(h.rejects().size(), 1u);
  EXPECT_NE(h.rejects()[0].reason.find("larger than max_file_bytes"), std::string::npos);
  EXPECT_TRUE(fs::exists(in() / "done" / "huge.csv"));
}

TEST_F(Returns, SinkOnlyInstanceIsNotASource) {
  auto inst = h.open(nlohmann::json{{"target", {{"dir", tmp.str()}}}}.dump());
  EXPECT_EQ(inst->read(), TP_STATUS_UNSUPPORTED);
}

}  // namespace
}  // namespace touchpoint::post::test
