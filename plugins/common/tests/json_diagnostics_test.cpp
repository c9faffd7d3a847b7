#include "tp_common/json_diagnostics.hpp"

#include <gtest/gtest.h>

namespace tp_common {
namespace {

size_t where(std::string_view json, size_t depth = 64) {
  auto p = find_json_problem(json, depth);
  return p ? p->offset : std::string_view::npos;
}
std::string why(std::string_view json, size_t depth = 64) {
  auto p = find_json_problem(json, depth);
  return p ? p->reason : "";
}

TEST(JsonDiagnostics, AcceptsValidJson) {
  for (const char* s :
       {"{}", "[]", " {\"a\":[1,-2.5e3,true,false,null,\"x\\u00e9\\ud83d\\ude00\"]} ", "0", "\"\"",
        "{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", "18446744073709551615", "-9223372036854775808", "1e-400"})
    EXPECT_FALSE(find_json_problem(s, 64)) << s << ": " << why(s);
}

TEST(JsonDiagnostics, FindsTheFirstBadByte) {
  EXPECT_EQ(where(R"({"a":1,})"), 7u);
  EXPECT_EQ(where(R"({"a" 1})"), 5u);
  EXPECT_EQ(where(R"([1 2])"), 3u);
  EXPECT_EQ(where(R"({"a":tru})"), 8u);
  EXPECT_EQ(where(R"({"a":01})"), 6u);
  EXPECT_EQ(where(R"({} x)"), 3u);
  EXPECT_EQ(why(R"({} x)"), "unexpected content after the JSON value");
  EXPECT_EQ(where("{\"a\":\"\\x\"}"), 6u);
  EXPECT_EQ(where("{\"a\":\"\x01\"}"), 6u);
  EXPECT_EQ(why("{\"a\":\"\x01\"}"), "unescaped control character in string");
}

TEST(JsonDiagnostics, TruncationPointsAtTheEnd) {
  for (std::string s : {R"({"a":)", R"([{"a":1},{"b":)", R"({"a":"abc)", "[1,", "tr", "-", "{\"a\":\"\\u12"}) {
    EXPECT_EQ(where(s), s.size()) << s;
    EXPECT_EQ(why(s), "unexpected end of JSON (truncated)") << s;
  }
  EXPECT_EQ(why("   "), "empty JSON document");
}

TEST(JsonDiagnostics, InvalidUtf8) {
  EXPECT_EQ(where("{\"a\":\"ok\xff\"}"), 8u);
  EXPECT_EQ(why("{\"a\":\"ok\xff\"}"), "invalid UTF-8");
  EXPECT_EQ(where("{\"a\":\"\xc0\xaf\"}"), 6u);      // overlong
  EXPECT_EQ(where("{\"a\":\"\xed\xa0\x80\"}"), 6u);  // UTF-16 surrogate
  EXPECT_EQ(where("{\"a\":\"\xe2\x82\"}"), 6u);      // cut sequence
  EXPECT_EQ(where("{\xff:1}"), 1u);
  EXPECT_EQ(why("{\xff:1}"), "invalid UTF-8");
}

TEST(JsonDiagnostics, SurrogatesAndRanges) {
  EXPECT_EQ(why(R"(["\ud800"])"), "unpaired surrogate in \\u escape");
  EXPECT_EQ(why(R"(["\udc00"])"), "unpaired surrogate in \\u escape");
  EXPECT_EQ(why(R"(["\ud800\u0041"])"), "unpaired surrogate in \\u escape");
  EXPECT_EQ(where(R"([1, 123456789012345678901234567890])"), 4u);
  EXPECT_EQ(where(R"([-9223372036854775809])"), 1u);
  EXPECT_EQ(where(R"([1e400])"), 1u);
}

TEST(JsonDiagnostics, DepthLimitCountsNonEmptyContainers) {
  auto nested = [](int n, const char* inner) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "[";
    s += inner;
    for (int i = 0; i < n; ++i) s += "]";
    return s;
  };
  EXPECT_FALSE(find_json_problem(nested(64, "1"), 64));
  EXPECT_FALSE(find_json_problem(nested(64, "[]"), 64));  // an empty container is no level
  EXPECT_EQ(where(nested(65, "1")), 64u);
  EXPECT_EQ(why(nested(65, "1")), "nested deeper than 64 levels");
  EXPECT_EQ(where(nested(3, "1"), 2), 2u);
}

TEST(JsonDiagnostics, ArrayElementOffsets) {
  std::string s = R"(  [ {"a":"x,]}"} , [1,[2]] ,"s\"", 4 ])";
  EXPECT_EQ(array_element_offset(s, 2, 0), 4u);
  EXPECT_EQ(array_element_offset(s, 2, 1), 19u);
  EXPECT_EQ(array_element_offset(s, 2, 2), 28u);
  EXPECT_EQ(array_element_offset(s, 2, 3), 35u);
  EXPECT_EQ(array_element_offset(s, 2, 4), std::string_view::npos);
  EXPECT_EQ(array_element_offset("[]", 0, 0), std::string_view::npos);
  EXPECT_EQ(array_element_offset("{}", 0, 0), std::string_view::npos);
}

}  // namespace
}  // namespace tp_common
