#include "csv_rows.hpp"

#include <gtest/gtest.h>

namespace touchpoint::post {
namespace {

std::vector<CsvRow> all(std::string_view text, uint64_t max = 1024) {
  CsvRows rows(text, ',', max);
  std::vector<CsvRow> out;
  CsvRow r;
  while (rows.next(r)) out.push_back(r);
  return out;
}

TEST(CsvRows, QuotesLineBreaksAndBom) {
  const auto rows =
      all("\xEF\xBB\xBF"
          "a,\"b,\"\"c\"\"\",\"x\r\ny\"\r\n\r\n1,2,3");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fields, (std::vector<std::string>{"a", "b,\"c\"", "x\r\ny"}));
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_TRUE(rows[0].terminated);
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(rows[1].line, 4u);
  EXPECT_FALSE(rows[1].terminated);
}

TEST(CsvRows, UnclosedQuoteCostsOneLine) {
  const auto rows = all("a,\"open\nb,c\nd,e\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_FALSE(rows[0].error.empty());
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(rows[1].line, 2u);
  EXPECT_EQ(rows[2].line, 3u);
}

TEST(CsvRows, TextAfterClosingQuoteAndOversizeFields) {
  const auto rows = all("\"ab\"c,d\n" + std::string(2000, 'x') + ",y\nok,1\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_NE(rows[0].error.find("after a closing quote"), std::string::npos);
  EXPECT_NE(rows[1].error.find("max_field_bytes"), std::string::npos);
  EXPECT_EQ(rows[2].fields, (std::vector<std::string>{"ok", "1"}));
}

TEST(CsvRows, NulBytesAreData) {
  const auto rows = all(std::string("a\0b,c\n", 6));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields[0], std::string("a\0b", 3));
}

}  // namespace
}  // namespace touchpoint::post
