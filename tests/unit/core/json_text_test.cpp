// core/record/json_text: the store's JSON writer against nlohmann's dump,
// on hostile strings (every single byte, invalid UTF-8, control characters)
// and on generated trees. tests/fuzz/json_text_fuzzer.cpp searches further.
#include "record/json_text.hpp"

#include <gtest/gtest.h>

#include <random>

namespace touchpoint::core {
namespace {

std::string dumped(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); }

TEST(JsonText, EveryByteAloneAndInsideTextIsWrittenAsDumpWritesIt) {
  for (int b = 0; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    const std::string inside = "ab" + one + "c\xc3\xa4";
    for (const std::string& s : {one, inside}) {
      EXPECT_EQ(json_text(Json(s)), dumped(Json(s))) << "byte " << b;
      std::string literal;
      append_json_string(literal, s);
      EXPECT_EQ(literal, dumped(Json(s))) << "byte " << b;
      EXPECT_EQ(json_text(Json::object({{s, s}})), dumped(Json::object({{s, s}}))) << "byte " << b;
    }
  }
}

TEST(JsonText, InvalidUtf8BecomesTheReplacementCharacterWhereDumpPutsIt) {
  const std::vector<std::string> bad = {"\x80",
                                        "\xc3",
                                        "caf\xc3",
                                        "\xc0\xaf",
                                        "\xe0\x80\xaf",
                                        "\xed\xa0\x80",
                                        "\xed\xbf\xbf",
                                        "\xf4\x90\x80",
                                        "\xf5\x80\x80\x80",
                                        "\xff\xfe",
                                        "a\xe2\x82"
                                        "b",
                                        "\xf0\x9f\x98"};
  for (const std::string& s : bad) {
    const Json v = Json::object({{"k" + s, Json::array({s, 1})}});
    EXPECT_EQ(json_text(v), dumped(v));
    EXPECT_NE(json_text(v).find("\xef\xbf\xbd"), std::string::npos) << "U+FFFD expected";
  }
}

TEST(JsonText, NumbersAndEmptyContainersMatch) {
  const Json v =
      Json::parse(R"([0,-0,-0.0,1.5,1e300,-2.5e-300,0.1,18446744073709551615,-9223372036854775808,9223372036854775807,)"
                  R"(123456789012345678901234567890,{},[],"",null,true,false,{"a":{}},[[]]])");
  EXPECT_EQ(json_text(v), dumped(v));
}

/// A random tree with strings of random bytes (a fifth of them arbitrary
/// bytes, the rest printable ASCII, umlauts and escapes).
Json random_value(std::mt19937_64& rng, int depth) {
  auto text = [&] {
    static const char* pieces[] = {
        "a", "Z", " ", "\"", "\\", "\n", "\t", "\x01", "\x1f", "\x7f", "\xc3\xbc", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "/"};
    std::string s;
    const size_t n = rng() % 12;
    const bool raw = rng() % 5 == 0;
    for (size_t i = 0; i < n; ++i) {
      if (raw)
        s.push_back(static_cast<char>(rng() & 0xFF));
      else
        s += pieces[rng() % (sizeof pieces / sizeof *pieces)];
    }
    return s;
  };
  switch (depth > 4 ? rng() % 5 : rng() % 7) {
    case 0:
      return text();
    case 1:
      return static_cast<int64_t>(rng());
    case 2:
      return std::ldexp(static_cast<double>(rng() % 1000000) - 500000.0, static_cast<int>(rng() % 200) - 100);
    case 3:
      return rng() % 2 == 0;
    case 4:
      return nullptr;
    case 5: {
      Json a = Json::array();
      for (size_t i = rng() % 5; i > 0; --i) a.push_back(random_value(rng, depth + 1));
      return a;
    }
    default: {
      Json o = Json::object();
      for (size_t i = rng() % 5; i > 0; --i) o[text()] = random_value(rng, depth + 1);
      return o;
    }
  }
}

TEST(JsonText, GeneratedTreesMatchDumpByteForByte) {
  std::mt19937_64 rng(20261204);
  for (int i = 0; i < 20000; ++i) {
    const Json v = random_value(rng, 0);
    ASSERT_EQ(json_text(v), dumped(v)) << "case " << i;
  }
}

TEST(JsonText, AppendsAfterWhatTheBufferHolds) {
  std::string out = "prefix:";
  append_json(out, Json::object({{"a", 1}}));
  append_json_string(out, "x\ny");
  EXPECT_EQ(out, R"(prefix:{"a":1}"x\ny")");
}

}  // namespace
}  // namespace touchpoint::core
