#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "csv_reader.hpp"

namespace touchpoint::csv {
namespace {

using Fields = std::vector<std::string>;

// Reads all rows of `input`, fed in chunks of `chunk` bytes (0: all at once).
std::vector<Row> read_all(std::string_view input, ReaderOptions options = {}, size_t chunk = 0, uint64_t offset = 0,
                          uint64_t line = 1) {
  RowReader reader(options, offset, line);
  std::vector<Row> rows;
  size_t fed = 0;
  auto feed_some = [&] {
    size_t n = chunk == 0 ? input.size() - fed : std::min(chunk, input.size() - fed);
    reader.feed(input.substr(fed, n));
    fed += n;
    if (fed == input.size()) reader.finish();
  };
  if (chunk == 0) feed_some();
  for (int guard = 0; guard < 1000000; ++guard) {
    Row row;
    RowReader::Status s = reader.next(row);
    if (s == RowReader::Status::end) return rows;
    if (s == RowReader::Status::need_more) {
      EXPECT_FALSE(reader.finished()) << "need_more after finish";
      if (reader.finished()) return rows;
      feed_some();
      continue;
    }
    rows.push_back(row);
  }
  ADD_FAILURE() << "reader did not terminate";
  return rows;
}

ReaderOptions semi() {
  ReaderOptions o;
  o.delimiter = ';';
  return o;
}

TEST(Reader, SimpleRowsWithOffsetsAndLines) {
  const std::string in = "a;b\n1;2\n3;4\n";
  auto rows = read_all(in, semi());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ(rows[1].fields, (Fields{"1", "2"}));
  EXPECT_EQ(rows[2].fields, (Fields{"3", "4"}));
  EXPECT_EQ(rows[1].offset, 4u);
  EXPECT_EQ(rows[1].end_offset, 8u);
  EXPECT_EQ(rows[1].raw, "1;2");
  EXPECT_EQ(rows[2].line, 3u);
  EXPECT_EQ(rows[2].next_line, 4u);
  EXPECT_EQ(rows[2].end_offset, in.size());
}

TEST(Reader, LastRowWithoutLineBreak) {
  auto rows = read_all("a,b\n1,2");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].fields, (Fields{"1", "2"}));
  EXPECT_EQ(rows[1].end_offset, 7u);
}

TEST(Reader, QuotedFieldsWithDelimitersQuotesAndNewlines) {
  const std::string in =
      "id,text\n"
      "1,\"a, b\"\n"
      "2,\"say \"\"hi\"\"\"\n"
      "3,\"line1\nline2\r\nline3\"\n"
      "4,after\n";
  auto rows = read_all(in);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[1].fields, (Fields{"1", "a, b"}));
  EXPECT_EQ(rows[2].fields, (Fields{"2", "say \"hi\""}));
  EXPECT_EQ(rows[3].fields, (Fields{"3", "line1\nline2\r\nline3"}));
  EXPECT_EQ(rows[3].line, 4u);  // first physical line of the row
  EXPECT_EQ(rows[3].next_line, 7u);
  EXPECT_EQ(rows[4].line, 7u);  // the row after a 3-line row
  EXPECT_EQ(rows[4].fields, (Fields{"4", "after"}));
}

TEST(Reader, CrLfLoneCrAndBlankLines) {
  auto rows = read_all("a,b\r\n\r\n1,2\r\n\n\n3,4\r5,6\r\n");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ(rows[1].fields, (Fields{"1", "2"}));
  EXPECT_EQ(rows[1].line, 3u);
  EXPECT_EQ(rows[2].fields, (Fields{"3", "4"}));
  EXPECT_EQ(rows[2].line, 6u);
  EXPECT_EQ(rows[3].fields, (Fields{"5", "6"}));
  EXPECT_EQ(rows[3].line, 7u);
  EXPECT_EQ(rows[0].raw, "a,b");  // no CR in raw
}

TEST(Reader, BomIsSkippedOnlyAtOffsetZero) {
  auto rows = read_all("\xEF\xBB\xBFname,x\n1,2\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fields[0], "name");
  EXPECT_EQ(rows[0].offset, 3u);
  // Starting in the middle of a file there is no BOM to skip.
  auto mid = read_all("\xEF\xBB\xBFx\n", {}, 0, 10, 5);
  ASSERT_EQ(mid.size(), 1u);
  EXPECT_EQ(mid[0].fields[0], "\xEF\xBB\xBFx");
  EXPECT_EQ(mid[0].offset, 10u);
  EXPECT_EQ(mid[0].line, 5u);
}

TEST(Reader, EmptyFieldsAndTrailingDelimiter) {
  auto rows = read_all("a;;c;\n", semi());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, (Fields{"a", "", "c", ""}));
  auto quoted_empty = read_all("\"\",x\n");
  EXPECT_EQ(quoted_empty[0].fields, (Fields{"", "x"}));
}

TEST(Reader, TrimOnAndOff) {
  const std::string in = "  a  , \"  b \" ,c\t\n";
  auto trimmed = read_all(in);
  ASSERT_EQ(trimmed.size(), 1u);
  EXPECT_EQ(trimmed[0].fields, (Fields{"a", "  b ", "c"}));  // quoted content is kept verbatim
  ReaderOptions raw;
  raw.trim = false;
  auto untrimmed = read_all("  a  ,c\t\n", raw);
  EXPECT_EQ(untrimmed[0].fields, (Fields{"  a  ", "c\t"}));
  // Without trim a blank before the quote makes the field unquoted (RFC 4180).
  auto strict = read_all("x, \"b\"\n", raw);
  EXPECT_EQ(strict[0].fields, (Fields{"x", " \"b\""}));
  // A tab delimiter is never trimmed away.
  ReaderOptions tab;
  tab.delimiter = '\t';
  auto tabs = read_all(" a \t\tb\n", tab);
  EXPECT_EQ(tabs[0].fields, (Fields{"a", "", "b"}));
}

TEST(Reader, BareQuoteInUnquotedFieldIsKept) {
  auto rows = read_all("12\" monitor,x\"y\"\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].error.empty());
  EXPECT_EQ(rows[0].fields, (Fields{"12\" monitor", "x\"y\""}));
}

TEST(Reader, TextAfterClosingQuoteIsMalformedAndRowEndsAtLineBreak) {
  auto rows = read_all("\"ab\"c,d\n1,2\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_NE(rows[0].error.find("after closing quote"), std::string::npos);
  EXPECT_TRUE(rows[0].fields.empty());
  EXPECT_EQ(rows[0].raw, "\"ab\"c,d");
  EXPECT_EQ(rows[1].fields, (Fields{"1", "2"}));
  EXPECT_EQ(rows[1].line, 2u);
}

TEST(Reader, UnterminatedQuoteRejectsFirstLineAndContinues) {
  const std::string in = "a,b\n1,\"open\n2,x\n3,y\n";
  auto rows = read_all(in);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1].error, "unterminated quoted field");
  EXPECT_EQ(rows[1].raw, "1,\"open");
  EXPECT_EQ(rows[1].line, 2u);
  EXPECT_EQ(rows[2].fields, (Fields{"2", "x"}));
  EXPECT_EQ(rows[2].line, 3u);
  EXPECT_EQ(rows[3].fields, (Fields{"3", "y"}));
  EXPECT_EQ(rows[3].line, 4u);
}

TEST(Reader, UnterminatedQuoteOnLastLine) {
  auto rows = read_all("a,b\n1,\"open");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].error, "unterminated quoted field");
  EXPECT_EQ(rows[1].raw, "1,\"open");
  EXPECT_EQ(rows[1].end_offset, 11u);
}

TEST(Reader, ChunkedInputGivesSameRows) {
  const std::string in =
      "\xEF\xBB\xBFid;text;more\r\n"
      "1;\"a;b\";x\r\n"
      "\r\n"
      "2;\"multi\r\nline \"\"quoted\"\"\";y\r\n"
      "3;  plain  ;\"\"\r"
      "4;\"ab\"c;z\n"
      "5;\"unterminated;q\n"
      "6;last;row";
  auto whole = read_all(in, semi());
  ASSERT_EQ(whole.size(), 7u);
  for (size_t chunk : {1u, 2u, 3u, 5u, 7u, 64u}) {
    auto chunked = read_all(in, semi(), chunk);
    ASSERT_EQ(chunked.size(), whole.size()) << "chunk " << chunk;
    for (size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(chunked[i].fields, whole[i].fields) << "chunk " << chunk << " row " << i;
      EXPECT_EQ(chunked[i].raw, whole[i].raw) << "chunk " << chunk << " row " << i;
      EXPECT_EQ(chunked[i].offset, whole[i].offset);
      EXPECT_EQ(chunked[i].end_offset, whole[i].end_offset);
      EXPECT_EQ(chunked[i].line, whole[i].line);
      EXPECT_EQ(chunked[i].error, whole[i].error);
    }
  }
  EXPECT_EQ(whole[2].fields, (Fields{"2", "multi\r\nline \"quoted\"", "y"}));
  EXPECT_EQ(whole[3].fields, (Fields{"3", "plain", ""}));
  EXPECT_FALSE(whole[4].error.empty());
  EXPECT_EQ(whole[5].error, "unterminated quoted field");
  EXPECT_EQ(whole[6].fields, (Fields{"6", "last", "row"}));
  EXPECT_EQ(whole[6].line, 9u);
}

TEST(Reader, ResumeAtOffsetContinuesExactly) {
  const std::string in = "h1,h2\n1,\"x\ny\"\n2,b\n3,c\n";
  auto all = read_all(in);
  ASSERT_EQ(all.size(), 4u);
  // Resume after row 1 (which spans two lines): the next row must be "2,b" on line 4.
  auto rest = read_all(std::string_view(in).substr(all[1].end_offset), {}, 0, all[1].end_offset, all[1].next_line);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].fields, (Fields{"2", "b"}));
  EXPECT_EQ(rest[0].line, 4u);
  EXPECT_EQ(rest[0].offset, all[2].offset);
  EXPECT_EQ(rest[1].end_offset, in.size());
}

TEST(Reader, PeekSkipsBlankLinesAndReportsEnd) {
  RowReader reader({}, 0, 1);
  reader.feed("a\n\n\r\n");
  Row row;
  ASSERT_EQ(reader.next(row), RowReader::Status::row);
  EXPECT_EQ(reader.peek(), RowReader::Status::need_more);
  reader.finish();
  EXPECT_EQ(reader.peek(), RowReader::Status::end);
  EXPECT_EQ(reader.offset(), 5u);
  EXPECT_EQ(reader.line(), 4u);
}

TEST(Reader, OversizedQuotedRowRejectsFirstLine) {
  ReaderOptions o;
  o.max_row_bytes = 32;
  std::string in = "a,b\n1,\"" + std::string(20, 'x') + "\n" + std::string(40, 'y') + "\n2,z\n";
  auto rows = read_all(in, o, 8);  // not finished while over the limit
  ASSERT_GE(rows.size(), 3u);
  EXPECT_NE(rows[1].error.find("max_row_bytes"), std::string::npos);
  EXPECT_EQ(rows[1].raw, "1,\"" + std::string(20, 'x'));
  EXPECT_EQ(rows[1].line, 2u);
  EXPECT_EQ(rows[2].line, 3u);  // reading resumed on the next physical line
}

TEST(Reader, OversizedSingleLineIsSkippedToItsLineBreak) {
  ReaderOptions o;
  o.max_row_bytes = 16;
  std::string in = "a,b\n" + std::string(100, 'q') + ",q\n1,2\n";
  auto rows = read_all(in, o, 4);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_NE(rows[1].error.find("max_row_bytes"), std::string::npos);
  EXPECT_EQ(rows[1].line, 2u);
  EXPECT_EQ(rows[1].offset, 4u);
  EXPECT_EQ(rows[1].end_offset, 4u + 103u);
  EXPECT_EQ(rows[2].fields, (Fields{"1", "2"}));
  EXPECT_EQ(rows[2].line, 3u);
}

// Rows as a comparable summary: the outcome must not depend on how the input is chunked.
std::vector<std::string> summary(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const Row& r : rows) {
    std::string s = std::to_string(r.line) + "-" + std::to_string(r.next_line) + "@" + std::to_string(r.offset) + "-" +
                    std::to_string(r.end_offset) + ":";
    if (!r.error.empty()) {
      s += "ERR " + r.error.substr(0, 30);
    } else {
      for (const auto& f : r.fields) s += "[" + f + "]";
    }
    out.push_back(s);
  }
  return out;
}

TEST(Reader, CompleteRowsOverTheLimitAreMalformedWhateverTheChunking) {
  ReaderOptions o;
  o.max_row_bytes = 32;
  const std::string in = "a,b\n" + std::string(40, 'q') + ",q\n1,\"" + std::string(10, 'x') + "\n" +
                         std::string(30, 'y') + "\"\n2,z\n3,\"" + std::string(40, 'w') + "\"\n4,ok\n";
  const auto whole = read_all(in, o);
  ASSERT_EQ(whole.size(), 7u) << ::testing::PrintToString(summary(whole));
  EXPECT_NE(whole[1].error.find("max_row_bytes"), std::string::npos);  // one line of 43 bytes
  EXPECT_NE(whole[2].error.find("max_row_bytes"), std::string::npos);  // 2 lines, 46 bytes: first line rejected
  EXPECT_EQ(whole[2].raw, "1,\"" + std::string(10, 'x'));
  EXPECT_EQ(whole[3].line, 4u);  // resumed on its second line, which is malformed itself
  EXPECT_EQ(whole[4].fields, (Fields{"2", "z"}));
  EXPECT_NE(whole[5].error.find("max_row_bytes"), std::string::npos);  // one quoted line of 45 bytes
  EXPECT_EQ(whole[6].fields, (Fields{"4", "ok"}));
  for (size_t chunk : {1, 3, 7, 16, 33, 64}) EXPECT_EQ(summary(read_all(in, o, chunk)), summary(whole)) << chunk;
}

TEST(Reader, QuoteStormIsReadInLinearTime) {
  // Every line opens a quoted field that the next line's `a",` would close again: without
  // the recovery state, the row from every line would run to the end of the input.
  std::string storm = "a,b,c\n";
  for (int i = 0; i < 30000; ++i) storm += "a\",\"x\n";
  ReaderOptions o;
  for (size_t max : {size_t{1} << 10, kDefaultMaxRowBytes}) {
    o.max_row_bytes = max;
    const auto start = std::chrono::steady_clock::now();
    const auto rows = read_all(storm, o, 64 << 10);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << max;
    ASSERT_EQ(rows.size(), 30001u) << max;  // every line accounted for
    for (size_t i = 1; i < rows.size(); ++i) {
      EXPECT_FALSE(rows[i].error.empty()) << i;
      EXPECT_EQ(rows[i].line, i + 1) << i;
      if (rows[i].error.empty()) break;
    }
  }
}

TEST(Reader, OneStrayQuoteStillRecoversTheRowsAfterIt) {
  // One failure does not switch to line-local quotes: the rows after it parse as before.
  const std::string in = "a,b\n1,\"two\nlines\"\n2,\"stray\n3,x\n4,y\n";
  const auto rows = read_all(in);
  ASSERT_EQ(rows.size(), 5u) << ::testing::PrintToString(summary(rows));
  EXPECT_EQ(rows[1].fields, (Fields{"1", "two\nlines"}));
  EXPECT_EQ(rows[2].error, "unterminated quoted field");
  EXPECT_EQ(rows[2].line, 4u);
  EXPECT_EQ(rows[3].fields, (Fields{"3", "x"}));
  EXPECT_EQ(rows[4].fields, (Fields{"4", "y"}));
  EXPECT_EQ(rows[4].line, 6u);
}

TEST(Reader, RecoveryStateResumesExactly) {
  std::string in = "h\n";
  for (int i = 0; i < 50; ++i) in += "a\",\"x\n";
  in += "\"ok\nfine\"\n";
  ReaderOptions o;
  o.max_row_bytes = 64;
  const auto whole = read_all(in, o);
  // Resume from every row boundary with the state a cursor would carry.
  RowReader reader(o, 0, 1);
  reader.feed(in);
  reader.finish();
  for (size_t k = 0; k < whole.size(); ++k) {
    const uint64_t offset = reader.offset(), line = reader.line(), horizon = reader.horizon();
    const bool strict = reader.strict();
    RowReader resumed(o, offset, line, horizon, strict);
    resumed.feed(std::string_view(in).substr(offset));
    resumed.finish();
    std::vector<Row> tail;
    Row r;
    while (resumed.next(r) == RowReader::Status::row) tail.push_back(r);
    EXPECT_EQ(summary(tail), summary(std::vector<Row>(whole.begin() + static_cast<long>(k), whole.end()))) << k;
    Row skip;
    ASSERT_EQ(reader.next(skip), RowReader::Status::row);
  }
}

// Regression csv-chunked-oversize-quote-message (tests/fuzz/regressions): after earlier
// malformed rows (quoted fields line-local), a line over the limit whose quote is open at its
// line break said "unterminated quoted field" when read whole, but "row exceeds max_row_bytes"
// when a chunk ended at its CR. Over the limit is the reason: closing the quote would not
// make the line fit.
TEST(Reader, OverLongLineWithOpenQuoteAfterMalformedRowsIsOversizeWhateverTheChunking) {
  ReaderOptions o;
  o.max_row_bytes = 64;
  // Two `a","x` rows fail over the limit (the second inside the first's span: line-local
  // quotes), the third on its line break; then a line of 64 bytes opening a quote.
  const std::string prefix = "h\na\",\"x\na\",\"x\na\",\"x\n";
  const std::string line = "x,\"" + std::string(61, 'q');
  ASSERT_EQ(line.size(), 64u);
  for (const std::string& tail : {std::string("\r"), std::string("\n"), std::string("\r\nok,1\n"),
                                  std::string("\rok,1\n"), std::string("\nok,1")}) {
    const std::string in = prefix + line + tail;
    SCOPED_TRACE(::testing::PrintToString(tail));
    const auto whole = read_all(in, o);
    ASSERT_EQ(whole.size(), tail.size() > 2 ? 6u : 5u) << ::testing::PrintToString(summary(whole));
    EXPECT_NE(whole[3].error.find("may not span lines"), std::string::npos) << whole[3].error;
    const Row& over = whole[4];
    EXPECT_EQ(over.error, "row exceeds max_row_bytes (64 bytes); unterminated quote or missing line break?");
    EXPECT_EQ(over.raw, line);
    EXPECT_FALSE(over.raw_cut);
    EXPECT_EQ(over.offset, prefix.size());
    EXPECT_EQ(over.line, 5u);
    EXPECT_EQ(over.next_line, 6u);
    if (tail.size() > 2) {
      EXPECT_EQ(whole[5].fields, (Fields{"ok", "1"}));
      EXPECT_EQ(whole[5].line, 6u);
    }
    for (size_t chunk : {1, 7, 4096}) {
      const auto chunked = read_all(in, o, chunk);
      ASSERT_EQ(chunked.size(), whole.size()) << chunk;
      for (size_t i = 0; i < whole.size(); ++i) {
        EXPECT_EQ(chunked[i].error, whole[i].error) << chunk << " row " << i;
        EXPECT_EQ(chunked[i].fields, whole[i].fields) << chunk << " row " << i;
        EXPECT_EQ(chunked[i].raw, whole[i].raw) << chunk << " row " << i;
        EXPECT_EQ(chunked[i].raw_cut, whole[i].raw_cut) << chunk << " row " << i;
        EXPECT_EQ(chunked[i].offset, whole[i].offset) << chunk << " row " << i;
        EXPECT_EQ(chunked[i].end_offset, whole[i].end_offset) << chunk << " row " << i;
        EXPECT_EQ(chunked[i].line, whole[i].line) << chunk << " row " << i;
        EXPECT_EQ(chunked[i].next_line, whole[i].next_line) << chunk << " row " << i;
      }
    }
  }
}

TEST(Reader, HugeFieldWithinLimit) {
  std::string big(1 << 20, 'z');
  std::string in = "a,b\n1,\"" + big + "\"\n2,x\n";
  auto rows = read_all(in, {}, 4096);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].fields[1].size(), big.size());
  EXPECT_EQ(rows[2].fields, (Fields{"2", "x"}));
}

TEST(Reader, DetectDelimiter) {
  EXPECT_EQ(detect_delimiter("a;b;c\n1,2,3,4,5\n"), ';');
  EXPECT_EQ(detect_delimiter("a,b,c\n"), ',');
  EXPECT_EQ(detect_delimiter("a\tb\tc\n"), '\t');
  EXPECT_EQ(detect_delimiter("\"x;y;z\",b\n"), ',');  // quoted delimiters do not count
  EXPECT_EQ(detect_delimiter("\xEF\xBB\xBF\r\n\na;b\n"), ';');
  EXPECT_EQ(detect_delimiter("single\n"), ',');
  EXPECT_EQ(detect_delimiter(""), ',');
}

}  // namespace
}  // namespace touchpoint::csv
