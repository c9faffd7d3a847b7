#include "line_splitter.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace touchpoint::tcp {
namespace {

struct Overlong {
  uint64_t line;
  std::string head;
  uint64_t bytes;
};

struct Fed {
  std::string lines;
  std::vector<Overlong> overlong;
  LineSplitter::Overlong sink() {
    return [this](uint64_t l, std::string_view h, uint64_t b) { overlong.push_back({l, std::string(h), b}); };
  }
};

TEST(LineSplitter, CompleteLinesPassAndTheTailWaitsForItsNewline) {
  LineSplitter s(100);
  Fed f;
  s.feed("{\"a\":1}\n{\"b\"", f.lines, f.sink());
  EXPECT_EQ(f.lines, "{\"a\":1}\n");
  EXPECT_EQ(s.lines(), 1u);
  EXPECT_EQ(s.pending_bytes(), 4u);
  f.lines.clear();
  s.feed(":2}\n\n", f.lines, f.sink());
  EXPECT_EQ(f.lines, "{\"b\":2}\n\n") << "an empty line stays, so numbers stay the stream's";
  EXPECT_EQ(s.lines(), 3u);
  EXPECT_TRUE(f.overlong.empty());
}

TEST(LineSplitter, OneByteAtATimeGivesTheSameLines) {
  const std::string stream = "{\"a\":1}\r\n{}\n\n{\"c\":[1,2]}\n";
  LineSplitter s(100);
  Fed f;
  for (char c : stream) s.feed(std::string_view(&c, 1), f.lines, f.sink());
  EXPECT_EQ(f.lines, stream);
  EXPECT_EQ(s.lines(), 4u);
}

TEST(LineSplitter, AnOverlongLineIsSkippedWithItsHeadAndLengthAcrossReads) {
  LineSplitter s(64);
  Fed f;
  s.feed("{\"ok\":1}\n", f.lines, f.sink());
  const std::string big(5000, '7');  // a 5,000-digit number, fed in pieces
  s.feed("{\"phone\":" + big.substr(0, 2000), f.lines, f.sink());
  EXPECT_EQ(s.pending_bytes(), 0u) << "nothing over the limit is buffered";
  s.feed(big.substr(2000), f.lines, f.sink());
  s.feed("}\n{\"ok\":2}\n", f.lines, f.sink());
  EXPECT_EQ(f.lines, "{\"ok\":1}\n\n{\"ok\":2}\n");
  ASSERT_EQ(f.overlong.size(), 1u);
  EXPECT_EQ(f.overlong[0].line, 2u);
  EXPECT_EQ(f.overlong[0].bytes, 5000u + 10u);
  EXPECT_EQ(f.overlong[0].head.size(), LineSplitter::kOverlongHead);
  EXPECT_EQ(f.overlong[0].head.substr(0, 9), "{\"phone\":");
  EXPECT_EQ(s.lines(), 3u);
}

TEST(LineSplitter, ALineOfExactlyTheLimitPasses) {
  LineSplitter s(8);
  Fed f;
  s.feed("12345678\n123456789\n", f.lines, f.sink());
  EXPECT_EQ(f.lines, "12345678\n\n");
  ASSERT_EQ(f.overlong.size(), 1u);
  EXPECT_EQ(f.overlong[0].bytes, 9u);
}

TEST(LineSplitter, FinishEndsAnUnterminatedLastLine) {
  LineSplitter s(16);
  Fed f;
  s.feed("{\"a\":1}\n{\"b\":2}", f.lines, f.sink());
  s.finish(f.lines, f.sink());
  EXPECT_EQ(f.lines, "{\"a\":1}\n{\"b\":2}\n");
  EXPECT_EQ(s.lines(), 2u);
  Fed g;
  LineSplitter t(4);
  t.feed("{\"long\":1}", g.lines, g.sink());
  t.finish(g.lines, g.sink());
  ASSERT_EQ(g.overlong.size(), 1u);
  EXPECT_EQ(g.overlong[0].line, 1u);
  Fed h;
  LineSplitter u(4);
  u.finish(h.lines, h.sink());
  EXPECT_EQ(h.lines, "") << "nothing after the last newline: no extra line";
  EXPECT_EQ(u.lines(), 0u);
}

}  // namespace
}  // namespace touchpoint::tcp
