#include "encoding.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sdk.hpp"

namespace touchpoint::csv {
namespace {

TEST(Utf8, Validation) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii text that is longer than eight bytes"));
  EXPECT_TRUE(valid_utf8("M\xC3\xBCller \xE2\x82\xAC \xF0\x9F\x98\x80"));  // Müller € 😀
  size_t bad = 99;
  EXPECT_FALSE(valid_utf8("M\xFCller", &bad));  // Latin-1 ü
  EXPECT_EQ(bad, 1u);
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid_utf8("abc\xE2\x82"));       // truncated at the end
  EXPECT_FALSE(valid_utf8("\x80"));              // lone continuation byte
  EXPECT_FALSE(
      valid_utf8("12345678\xFF"
                 "abcdefgh"));  // after the ASCII fast path
}

TEST(Utf8, EscapeInvalid) {
  EXPECT_EQ(escape_invalid_utf8("M\xFCller \xC3\xBC"), "M\\xFCller \xC3\xBC");
  EXPECT_EQ(escape_invalid_utf8("ok"), "ok");
}

TEST(Decoder, Utf8ValidatesOnly) {
  Decoder d("UTF-8");
  EXPECT_TRUE(d.is_utf8());
  std::string out, error;
  EXPECT_TRUE(d.to_utf8("M\xC3\xBCller", out, error));
  EXPECT_EQ(out, "M\xC3\xBCller");
  out.clear();
  EXPECT_FALSE(d.to_utf8("M\xFCller", out, error));
  EXPECT_NE(error.find("invalid UTF-8"), std::string::npos);
  EXPECT_NE(error.find("0xFC"), std::string::npos);
}

TEST(Decoder, Latin1ToUtf8) {
  for (const char* name : {"latin-1", "LATIN1", "iso-8859-1", "ISO-8859-1"}) {
    Decoder d(name);
    EXPECT_FALSE(d.is_utf8());
    std::string out, error;
    ASSERT_TRUE(
        d.to_utf8("M\xFCller Stra\xDF"
                  "e \xC4\xD6\xDC",
                  out, error))
        << name << error;
    EXPECT_EQ(out,
              "M\xC3\xBCller Stra\xC3\x9F"
              "e \xC3\x84\xC3\x96\xC3\x9C")
        << name;
  }
}

TEST(Decoder, Windows1252) {
  Decoder d("windows-1252");
  std::string out, error;
  ASSERT_TRUE(d.to_utf8("5 \x80 \x84quoted\x93", out, error)) << error;
  EXPECT_EQ(out, "5 \xE2\x82\xAC \xE2\x80\x9Equoted\xE2\x80\x9C");
  out.clear();
  EXPECT_FALSE(d.to_utf8("bad \x81 byte", out, error));  // undefined in windows-1252
  EXPECT_NE(error.find("0x81"), std::string::npos);
  // The decoder recovers for the next field.
  out.clear();
  EXPECT_TRUE(d.to_utf8("\xFC", out, error));
  EXPECT_EQ(out, "\xC3\xBC");
}

TEST(Decoder, LongFieldGrowsOutput) {
  Decoder d("latin-1");
  std::string in(100000, '\xE4');
  std::string out = "prefix:", error;
  ASSERT_TRUE(d.to_utf8(in, out, error));
  EXPECT_EQ(out.size(), 7u + 200000u);
  EXPECT_EQ(out.substr(0, 9), "prefix:\xC3\xA4");
}

TEST(Decoder, RejectsUnknownAndUnsupportedEncodings) {
  EXPECT_THROW(Decoder("no-such-encoding"), ConfigError);
  EXPECT_THROW(Decoder("UTF-16"), ConfigError);
  EXPECT_THROW(Decoder("UTF-16LE"), ConfigError);
  EXPECT_THROW(Decoder("UTF-32"), ConfigError);
  EXPECT_THROW(Decoder("ISO-2022-JP"), ConfigError);
  EXPECT_THROW(Decoder("UTF-7"), ConfigError);
  EXPECT_THROW(Decoder("EBCDIC-US"), ConfigError);
  EXPECT_THROW(Decoder(""), ConfigError);
  EXPECT_NO_THROW(Decoder("ISO-8859-15"));
  EXPECT_NO_THROW(Decoder("CP1252"));
}

}  // namespace
}  // namespace touchpoint::csv
