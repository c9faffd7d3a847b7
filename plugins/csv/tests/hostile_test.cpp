// Hostile but well-formed input through the real plugin: each file is read in bounded time
// and memory, every row that cannot become a record is a reject with file:line, every unit
// is one the hub accepts, and nothing loops. Time bounds are generous (ASan builds).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "csv_fixture.hpp"

namespace touchpoint::csv {
namespace {

using namespace test;  // NOLINT: the shared fixture
using touchpoint::testing::Harness;
using touchpoint::testing::Instance;
using Clock = std::chrono::steady_clock;

constexpr auto kBound = std::chrono::seconds(5);
// 100,000 columns are a lot of work without optimization: hash sets, one JSON key each.
constexpr auto kWideBound = std::chrono::seconds(10);

// "<file>:<line>"
bool is_location(const std::string& location, const std::string& file) {
  if (location.size() <= file.size() + 1 || location.compare(0, file.size(), file) != 0 || location[file.size()] != ':')
    return false;
  return location.find_first_not_of("0123456789", file.size() + 1) == std::string::npos;
}

class Hostile : public CsvPlugin {
 protected:
  // Reads everything in the inbox and checks what every hostile file must satisfy.
  size_t read_all(Instance& inst, Harness& h, const std::string& file, Clock::duration bound = kBound) {
    const auto start = Clock::now();
    const size_t units = drain(inst, h);
    elapsed_ = Clock::now() - start;
    EXPECT_LT(elapsed_, bound) << file;
    EXPECT_TRUE(h.refusals().empty()) << h.refusals()[0].message;
    EXPECT_FALSE(h.cursors().empty());
    if (!h.cursors().empty()) {
      EXPECT_TRUE(cursor_of(h.cursors().back()).eof) << h.cursors().back();
    }
    for (const auto& r : h.rejects()) EXPECT_TRUE(is_location(r.location, file)) << r.location;
    for (const auto& r : h.records()) EXPECT_TRUE(valid_json(r.data)) << r.data.substr(0, 200);
    commit_all(inst, h);
    EXPECT_TRUE(fs::exists(inbox_ / "done" / file)) << file;
    return units;
  }
  Clock::duration elapsed_{};
};

TEST_F(Hostile, CellOfFiveMillionDigits) {
  const std::string digits(5000000, '7');
  write("digits.csv", "id,n\n1," + digits + "\n2,3\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  read_all(*inst, h, "digits.csv");
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].data, R"({"id":"1","n":")" + digits + "\"}");  // a string: no number parsing
  EXPECT_EQ(recs[1].data, R"({"id":"2","n":"3"})");
}

// 100,000 columns: "c0,c1,...", and a row of one digit per column.
std::string wide_header(const std::string& name, bool numbered) {
  std::string header;
  for (int i = 0; i < 100000; ++i) header += (i == 0 ? "" : ",") + (numbered ? name + std::to_string(i) : name);
  return header;
}
std::string wide_row() {
  std::string row;
  for (int i = 0; i < 100000; ++i) row += (i == 0 ? "" : ",") + std::to_string(i % 10);
  return row;
}

TEST_F(Hostile, HeaderOfHundredThousandColumns) {
  write("wide.csv", wide_header("c", true) + "\n" + wide_row() + "\n1,2\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  read_all(*inst, h, "wide.csv", kWideBound);
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].data.substr(0, 21), R"({"c0":"0","c1":"1","c)");
  EXPECT_NE(recs[0].data.find(R"("c99999":"9"})"), std::string::npos);
  ASSERT_EQ(h.rejects().size(), 1u);
  EXPECT_EQ(h.rejects()[0].location, "wide.csv:3");
  EXPECT_EQ(h.rejects()[0].reason, "expected 100000 columns, found 2");
}

TEST_F(Hostile, HeaderOfHundredThousandEqualNames) {
  write("equal.csv", wide_header("Name", false) + "\n" + wide_row() + "\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  read_all(*inst, h, "equal.csv", kWideBound);
  ASSERT_EQ(h.records().size(), 1u);
  EXPECT_EQ(h.records()[0].data.substr(0, 28), R"({"Name":"0","Name_2":"1","Na)");
  EXPECT_NE(h.records()[0].data.find(R"("Name_100000":"9"})"), std::string::npos);  // names made unique
}

TEST_F(Hostile, HundredMebibyteFileThatIsOneRowWithoutANewline) {
  {
    std::ofstream out(inbox_ / "one.csv", std::ios::binary);
    const std::string chunk(1 << 20, 'z');
    for (int i = 0; i < 100; ++i) out << chunk;
  }
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("header":false)"));
  read_all(*inst, h, "one.csv");
  EXPECT_TRUE(h.records().empty());
  ASSERT_EQ(h.rejects().size(), 1u);
  EXPECT_EQ(h.rejects()[0].location, "one.csv:1");
  EXPECT_NE(h.rejects()[0].reason.find("max_row_bytes"), std::string::npos) << h.rejects()[0].reason;
  EXPECT_NE(h.rejects()[0].reason.find("first row is malformed"), std::string::npos) << h.rejects()[0].reason;
  EXPECT_NE(h.rejects()[0].reason.find("bytes of 104857600)"), std::string::npos) << h.rejects()[0].reason;
  EXPECT_EQ(h.rejects()[0].raw, std::string(64 << 10, 'z'));
}

TEST_F(Hostile, HeaderLongerThanMaxRowBytesRejectsTheFileOnce) {
  write("h.csv", std::string(9 << 20, 'h') + "\n1\n2\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  read_all(*inst, h, "h.csv");
  EXPECT_TRUE(h.records().empty());
  ASSERT_EQ(h.rejects().size(), 1u);
  EXPECT_EQ(h.rejects()[0].location, "h.csv:1");
  EXPECT_NE(h.rejects()[0].reason.find("header row is malformed: row exceeds max_row_bytes"), std::string::npos);
  EXPECT_NE(h.rejects()[0].reason.find("the file was not imported"), std::string::npos);
}

TEST_F(Hostile, NulBytes) {
  write("nul.csv", std::string("id,name\n1,A\0B\n\0\0\0\n2,x\n", 22));
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  read_all(*inst, h, "nul.csv");
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].data, R"({"id":"1","name":"A\u0000B"})");  // NUL is valid UTF-8; JSON escapes it
  EXPECT_EQ(recs[1].data, R"({"id":"2","name":"x"})");
  ASSERT_EQ(h.rejects().size(), 1u);
  EXPECT_EQ(h.rejects()[0].location, "nul.csv:3");
  EXPECT_EQ(h.rejects()[0].raw, std::string(3, '\0'));
}

TEST_F(Hostile, BinaryGarbage) {
  std::string garbage = "id,name,email\n";
  uint64_t x = 0x9E3779B97F4A7C15ull;  // xorshift: the same bytes on every run
  for (int i = 0; i < (1 << 20); ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    garbage.push_back(static_cast<char>(x >> 56));
  }
  write("garbage.csv", garbage);
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  read_all(*inst, h, "garbage.csv");
  EXPECT_GT(h.rejects().size(), 1000u);
  for (const auto& r : h.rejects()) EXPECT_LE(r.raw.size(), size_t{64} << 10);
}

TEST_F(Hostile, QuoteStorm) {
  // Each line reopens a quoted field the next line closes: a row from any line runs to the
  // end of the file. Every line must be read a bounded number of times.
  std::string storm = "a,b,c\n";
  for (int i = 0; i < 30000; ++i) storm += "a\",\"x\n";
  write("storm.csv", storm);
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  read_all(*inst, h, "storm.csv");
  EXPECT_TRUE(h.records().empty());
  EXPECT_EQ(h.rejects().size(), 30000u);  // one per line
  EXPECT_EQ(h.rejects().back().location, "storm.csv:30001");
}

TEST_F(Hostile, QuoteStormOverMaxRowBytes) {
  std::string storm = "a,b,c\n";
  for (int i = 0; i < 30000; ++i) storm += "a\",\"x\n";
  write("storm.csv", storm);
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config(R"("max_row_bytes":4096)"));
  read_all(*inst, h, "storm.csv");
  EXPECT_EQ(h.rejects().size() + h.records().size(), 30000u);
}

TEST_F(Hostile, Utf8BomInTheMiddleIsData) {
  // Two exports concatenated: the second BOM and header are ordinary rows.
  write("bom.csv", "\xEF\xBB\xBFid,name\n1,a\n\xEF\xBB\xBFid,name\n2,b\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  read_all(*inst, h, "bom.csv");
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].data, R"({"id":"1","name":"a"})");
  EXPECT_EQ(recs[1].data, "{\"id\":\"\xEF\xBB\xBFid\",\"name\":\"name\"}");
  EXPECT_EQ(recs[2].meta, R"({"file":"bom.csv","line":4})");
}

TEST_F(Hostile, Latin1BytesInAUtf8File) {
  write("latin1.csv", "id;Ort\n1;K\xF6ln\n2;Bonn\n3;M\xFCnchen\xE4\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  read_all(*inst, h, "latin1.csv");
  ASSERT_EQ(h.records().size(), 1u);
  auto rj = h.rejects();
  ASSERT_EQ(rj.size(), 2u);
  EXPECT_EQ(rj[0].location, "latin1.csv:2");
  EXPECT_EQ(rj[0].reason, "column 'Ort': invalid UTF-8 (byte 0xF6 at offset 1)");
  EXPECT_EQ(rj[0].raw, "1;K\\xF6ln");
  EXPECT_EQ(rj[1].raw, "3;M\\xFCnchen\\xE4");
}

TEST_F(Hostile, CrLfAndCrOnlyLineEnds) {
  write("cr.csv", "id,note\r1,a\r2,\"x\ry\"\r3,c\r");
  write("crlf.csv", "id,note\r\n1,a\r\n\r\n2,\"x\r\ny\"\r\n3,c");
  write("mixed.csv", "id,note\n1,a\r2,b\r\n3,c\n\r4,d");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  const auto start = Clock::now();
  drain(*inst, h);
  EXPECT_LT(Clock::now() - start, kBound);
  EXPECT_TRUE(h.rejects().empty());
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 10u);
  EXPECT_EQ(recs[1].data, R"({"id":"2","note":"x\ry"})");
  EXPECT_EQ(recs[2].meta, R"({"file":"cr.csv","line":5})");
  EXPECT_EQ(recs[4].data, R"({"id":"2","note":"x\r\ny"})");
  EXPECT_EQ(recs[5].meta, R"({"file":"crlf.csv","line":6})");
  EXPECT_EQ(recs[9].data, R"({"id":"4","note":"d"})");
  EXPECT_EQ(recs[9].meta, R"({"file":"mixed.csv","line":6})");
}

TEST_F(Hostile, FileNameThatIsNotUtf8) {
  const std::string name = "M\xFCller.csv";  // Latin-1, e.g. from an SMB share
  write(name, "id\n1\n2\n");
  Harness h(TP_CSV_PLUGIN);
  auto inst = h.open(config());
  drain(*inst, h);
  EXPECT_TRUE(h.refusals().empty()) << h.refusals()[0].message;
  auto recs = h.records();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].meta, R"({"file":"M\\xFCller.csv","line":2})");
  const Cursor c = cursor_of(h.cursors().back());
  EXPECT_EQ(c.file, name);
  EXPECT_TRUE(c.eof);
  commit_all(*inst, h);
  EXPECT_TRUE(fs::exists(inbox_ / "done" / name));
}

}  // namespace
}  // namespace touchpoint::csv
