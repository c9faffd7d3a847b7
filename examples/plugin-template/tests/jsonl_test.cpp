// Tests the real libtp_jsonl.so through the SDK's stand-in host
// (touchpoint/testing.hpp): no hub needed.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <touchpoint/testing.hpp>
#include <vector>

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using touchpoint::testing::EmittedRecord;
using touchpoint::testing::Harness;

class Jsonl : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "jsonl_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void append(const fs::path& file, const std::string& text) const {
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out << text;
  }
  static std::vector<std::string> lines_of(const fs::path& file) {
    std::ifstream in(file);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }

  fs::path dir_;
  Harness harness_{JSONL_PLUGIN};
};

TEST_F(Jsonl, NegotiatesAsSourceAndSink) {
  EXPECT_EQ(std::string(harness_.info().name.data, harness_.info().name.len), "jsonl");
  EXPECT_EQ(harness_.info().abi_version, TP_ABI_VERSION);
  EXPECT_EQ(harness_.info().capabilities, TP_CAP_SOURCE | TP_CAP_SINK);
}

TEST_F(Jsonl, ValidateNamesTheOffendingKey) {
  std::string error;
  EXPECT_EQ(harness_.validate(R"({"path":"/tmp/x.jsonl"})", &error), TP_OK);
  EXPECT_EQ(harness_.validate(R"({"path":"/tmp/x.jsonl","colour":"red"})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("colour"), std::string::npos) << error;
  EXPECT_EQ(harness_.validate(R"({"type":"event"})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("path"), std::string::npos) << error;
  EXPECT_EQ(harness_.validate(R"({"path":"x","batch_lines":0})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_THROW(harness_.open(R"({"path":""})"), std::runtime_error);
}

TEST_F(Jsonl, SourceEmitsLinesAndRejectsBadOnes) {
  const fs::path in = dir_ / "in.jsonl";
  append(in,
         "{\"id\":\"a1\",\"email\":\"a@example.com\",\"customer_id\":7}\n"
         "\n"
         "not json\n"
         "{\"id\":\"e1\",\"type\":\"profile\",\"key\":\"c-9\",\"ts\":1700000000000,\"data\":{\"x\":1},\"meta\":{\"m\":"
         "true}}\n"
         "{\"partial\":");
  auto inst = harness_.open(R"({"path":")" + in.string() + R"(","key_field":"customer_id","type":"profile"})");
  ASSERT_EQ(inst->read(), TP_OK);

  std::vector<EmittedRecord> records = harness_.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].id, "a1");
  EXPECT_EQ(records[0].key, "7");
  EXPECT_EQ(records[0].type, "profile");
  EXPECT_EQ(json::parse(records[0].data)["email"], "a@example.com");
  EXPECT_EQ(records[1].id, "e1");
  EXPECT_EQ(records[1].key, "c-9");
  EXPECT_EQ(records[1].ts_ms, 1700000000000);
  EXPECT_EQ(records[1].data, R"({"x":1})");
  EXPECT_EQ(records[1].meta, R"({"m":true})");

  auto rejects = harness_.rejects();
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].raw, "not json");
  EXPECT_EQ(rejects[0].location, in.string() + ":3");

  // The incomplete last line is not emitted until its newline arrives.
  ASSERT_EQ(harness_.cursors().size(), 1u);
  EXPECT_EQ(json::parse(harness_.cursors()[0])["line"], 5);
  ASSERT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(harness_.cursors().size(), 1u);
  append(in, "1}\n");
  ASSERT_EQ(inst->read(), TP_OK);
  ASSERT_EQ(harness_.records().size(), 3u);
  EXPECT_EQ(harness_.records()[2].data, R"({"partial":1})");
  EXPECT_EQ(inst->commit(harness_.cursors().back()), TP_OK);
}

TEST_F(Jsonl, SourceResumesFromTheCheckpoint) {
  const fs::path in = dir_ / "in.jsonl";
  append(in, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
  {
    auto inst = harness_.open(R"({"path":")" + in.string() + R"(","batch_lines":2})");
    ASSERT_EQ(inst->read(), TP_OK);  // lines 1-2 only
    EXPECT_EQ(harness_.records().size(), 2u);
  }
  // The harness keeps the last emitted cursor as the checkpoint, like a hub
  // that made the unit durable before a restart.
  Harness restarted(JSONL_PLUGIN);
  restarted.set_checkpoint(harness_.cursors().back());
  auto inst = restarted.open(R"({"path":")" + in.string() + R"("})");
  ASSERT_EQ(inst->read(), TP_OK);
  ASSERT_EQ(restarted.records().size(), 1u);
  EXPECT_EQ(restarted.records()[0].data, R"({"n":3})");
}

TEST_F(Jsonl, SourceKeepsItsPlaceUnderBackpressure) {
  const fs::path in = dir_ / "in.jsonl";
  append(in, "{\"n\":1}\n");
  auto inst = harness_.open(R"({"path":")" + in.string() + R"("})");
  harness_.refuse_emits(TP_STATUS_BACKPRESSURE);
  EXPECT_EQ(inst->read(), TP_OK);
  EXPECT_TRUE(harness_.records().empty());
  harness_.refuse_emits(TP_OK);
  EXPECT_EQ(inst->read(), TP_OK);
  EXPECT_EQ(harness_.records().size(), 1u);
}

TEST_F(Jsonl, SinkAppendsEnvelopesAndRejectsBadData) {
  const fs::path out = dir_ / "sub" / "out.jsonl";  // the directory is created
  auto inst = harness_.open(R"({"path":")" + out.string() + R"("})");
  std::vector<EmittedRecord> batch(3);
  batch[0] = {"r1", "profile", "c-1", R"({"email":"a@example.com"})", R"({"file":"x.csv"})", 1700000000000};
  batch[1] = {"r2", "event", "", "[1,2]", "", 0};  // not an object: permanent
  batch[2] = {"r3", "event", "", R"({"n":3})", "", 0};
  tp_status overall = TP_STATUS_INTERNAL;
  auto outcomes = inst->write(batch, &overall);
  EXPECT_EQ(overall, TP_OK);
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_EQ(outcomes[0].status, TP_OK);
  EXPECT_EQ(outcomes[1].status, TP_STATUS_PERMANENT);
  EXPECT_EQ(outcomes[2].status, TP_OK);

  auto lines = lines_of(out);
  ASSERT_EQ(lines.size(), 2u);
  json first = json::parse(lines[0]);
  EXPECT_EQ(first["id"], "r1");
  EXPECT_EQ(first["key"], "c-1");
  EXPECT_EQ(first["data"]["email"], "a@example.com");
  EXPECT_EQ(first["meta"]["file"], "x.csv");
  EXPECT_EQ(json::parse(lines[1])["id"], "r3");
}

TEST_F(Jsonl, SinkReportsRetryableWhenTheFileCannotBeOpened) {
  append(dir_ / "file", "");  // a regular file where the directory should be
  auto inst = harness_.open(R"({"path":")" + (dir_ / "file" / "out.jsonl").string() + R"("})");
  tp_status overall = TP_OK;
  std::string error;
  auto outcomes = inst->write({{"r1", "event", "", "{}", "", 0}}, &overall, &error);
  EXPECT_EQ(overall, TP_STATUS_RETRYABLE);
  EXPECT_NE(error.find("open"), std::string::npos) << error;
}

TEST_F(Jsonl, DiscoverDescribesTheFile) {
  auto inst = harness_.open(R"({"path":")" + (dir_ / "in.jsonl").string() + R"("})");
  std::string doc;
  ASSERT_EQ(inst->discover(&doc), TP_OK);
  EXPECT_EQ(json::parse(doc)["streams"][0]["name"], "in.jsonl");
  EXPECT_EQ(inst->check(), TP_OK);
}

}  // namespace
