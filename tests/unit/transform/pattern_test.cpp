// User-supplied patterns (filter `op: regex`, require `regex:`): ECMAScript
// syntax matched with RE2 in linear time; what RE2 cannot express is a config
// error; values too long for bounded matching are refused.

#include "transform/pattern.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "test_util.hpp"

namespace touchpoint::core::test {
namespace {

using transform::ecmascript_to_re2;
using transform::Pattern;
using transform::UnsupportedPattern;

Pattern compile(const std::string& pattern) { return Pattern::compile(YAML::Node(pattern), ConfigSource("p.yaml")); }

bool matches(const std::string& pattern, const std::string& text) { return compile(pattern).search(text); }

/// The config error of a filter with this pattern (written in single quotes).
std::string filter_error(const std::string& pattern) {
  return config_error("filter: { field: s, op: regex, value: '" + pattern + "' }");
}

TEST(Pattern, TranslationKeepsEcmaScriptMeanings) {
  EXPECT_EQ(ecmascript_to_re2("^[0-9]{5}$"), "^[0-9]{5}$");
  EXPECT_EQ(ecmascript_to_re2("a.b"), "a[^\\n\\r\\x{2028}\\x{2029}]b");
  EXPECT_EQ(ecmascript_to_re2("[.]\\."), "[.]\\.");
  EXPECT_EQ(ecmascript_to_re2("\\u00fc\\uD83D\\uDE00"), "\\x{FC}\\x{1F600}");
  EXPECT_EQ(ecmascript_to_re2("\\cJ[\\b]\\b"), "\\x{A}[\\x{8}]\\b");
  EXPECT_EQ(ecmascript_to_re2("[]|[^]"), "[^\\x{0}-\\x{10FFFF}]|[\\x{0}-\\x{10FFFF}]");
  EXPECT_EQ(ecmascript_to_re2("(?<year>[0-9]{4})"), "(?P<year>[0-9]{4})");
  EXPECT_EQ(ecmascript_to_re2("[[:a]"), "[\\[:a]");
  EXPECT_EQ(ecmascript_to_re2("\\(?=\\)[(?=]"), "\\(?=\\)[(?=]");  // escaped or in a class: no lookahead
  EXPECT_THROW(ecmascript_to_re2("(a)\\1"), UnsupportedPattern);
  EXPECT_EQ(ecmascript_to_re2("[\\1]"), "[\\1]");  // not a backreference; RE2 judges it
}

TEST(Pattern, MatchesAnywhereUnlessAnchored) {
  EXPECT_TRUE(matches("[0-9]{5}", "D-10115"));
  EXPECT_FALSE(matches("^[0-9]{5}$", "D-10115"));
  EXPECT_TRUE(matches("", "anything"));
  EXPECT_TRUE(matches("^$", ""));
  // '$' is the end of the value, not a line end, as in ECMAScript without the m flag.
  EXPECT_FALSE(matches("a$", "a\n"));
  EXPECT_FALSE(matches("^b", "a\nb"));
  EXPECT_TRUE(matches("@example\\.(de|at)$", "max@example.at"));
  EXPECT_TRUE(matches("a|b", "xbx"));
  EXPECT_TRUE(matches("colou?r", "color"));
  EXPECT_TRUE(matches("^a+?b*$", "aab"));
}

TEST(Pattern, CharactersAreCodePoints) {
  EXPECT_TRUE(matches("^.{6}$", "Jürgen"));
  EXPECT_TRUE(matches("^[äöüß]+$", "äöüß"));
  EXPECT_TRUE(matches("^\\u00fc$", "ü"));
  EXPECT_TRUE(matches("^\\uD83D\\uDE00$", "😀"));
  EXPECT_TRUE(matches("^.$", "😀"));
  // \d, \w and \b are ASCII, as in ECMAScript.
  EXPECT_FALSE(matches("^\\w$", "ü"));
  EXPECT_FALSE(matches("\\d", "٣"));
  EXPECT_TRUE(matches("\\bMax\\b", "an Max."));
  // RE2 extensions.
  EXPECT_TRUE(matches("(?i)^max$", "MAX"));
  EXPECT_TRUE(matches("^\\p{L}+$", "Jürgen"));
  EXPECT_FALSE(matches("^\\p{L}+$", "R2D2"));
}

TEST(Pattern, DotSpaceAndClassesAsInEcmaScript) {
  for (const char* terminator : {"\n", "\r", "\u2028", "\u2029"}) EXPECT_FALSE(matches("^.$", terminator));
  EXPECT_TRUE(matches("^.$", "\t"));
  for (const char* space : {" ", "\t", "\v", "\f", "\u00a0", "\u2003", "\u3000", "\ufeff", "\n"}) {
    EXPECT_TRUE(matches("^\\s$", space)) << space;
    EXPECT_TRUE(matches("^[\\s,]$", space)) << space;
    EXPECT_FALSE(matches("^\\S$", space)) << space;
    EXPECT_FALSE(matches("^[\\S]$", space)) << space;
  }
  for (const char* other : {"x", "\u200b", "ü", "😀", ","}) {
    EXPECT_FALSE(matches("^\\s$", other)) << other;
    EXPECT_TRUE(matches("^\\S$", other)) << other;
  }
  EXPECT_FALSE(matches("[]", "x"));
  EXPECT_TRUE(matches("^[^]$", "\n"));
  EXPECT_TRUE(matches("^\\cJ$", "\n"));
  EXPECT_TRUE(matches("^[\\b]$", "\b"));
  EXPECT_TRUE(matches("^[[:a]+\\]$", "[::a]"));
  EXPECT_TRUE(matches("^(?<year>[0-9]{4})-[0-9]{2}$", "2026-11"));
  EXPECT_TRUE(matches("^\\x41\\/\\-$", "A/-"));
}

TEST(Pattern, WhatRe2CannotExpressIsAConfigError) {
  const std::string why =
      ", which RE2 cannot express: patterns are matched in time linear in the value, without "
      "backtracking";
  EXPECT_EQ(filter_error("(a)\\1"), "p.yaml:1:39: regex '(a)\\1' uses a backreference (\\1)" + why);
  EXPECT_EQ(filter_error("(a)(b)\\12"), "p.yaml:1:39: regex '(a)(b)\\12' uses a backreference (\\12)" + why);
  EXPECT_EQ(filter_error("(?<x>a)\\k<x>"),
            "p.yaml:1:39: regex '(?<x>a)\\k<x>' uses a named backreference (\\k<...>)" + why);
  EXPECT_EQ(filter_error("a(?=b)"), "p.yaml:1:39: regex 'a(?=b)' uses a lookahead ((?=...)" + why);
  EXPECT_EQ(filter_error("a(?!b)"), "p.yaml:1:39: regex 'a(?!b)' uses a lookahead ((?!...)" + why);
  EXPECT_EQ(filter_error("(?<=a)b"), "p.yaml:1:39: regex '(?<=a)b' uses a lookbehind ((?<=...)" + why);
  EXPECT_EQ(filter_error("(?<!a)b"), "p.yaml:1:39: regex '(?<!a)b' uses a lookbehind ((?<!...)" + why);
  EXPECT_EQ(config_error("require: { fields: { email: { regex: '^(.+)@\\1$' } } }"),
            "p.yaml:1:38: regex '^(.+)@\\1$' uses a backreference (\\1)" + why);
}

TEST(Pattern, SyntaxErrorsSayWhatIsWrong) {
  EXPECT_EQ(filter_error("[a-"), "p.yaml:1:39: invalid regex '[a-': a '[' is never closed at '[a-'");
  EXPECT_EQ(filter_error("(a"), "p.yaml:1:39: invalid regex '(a': a '(' is never closed at '(a'");
  EXPECT_EQ(filter_error("(.\\s"), "p.yaml:1:39: invalid regex '(.\\s': a '(' is never closed");  // not RE2's text
  EXPECT_EQ(filter_error("a)"), "p.yaml:1:39: invalid regex 'a)': a ')' has no '(' at 'a)'");
  EXPECT_EQ(filter_error("a{1001}"),
            "p.yaml:1:39: invalid regex 'a{1001}': bad repetition count at '{1001}' (at most 1000)");
  EXPECT_EQ(filter_error("*a"), "p.yaml:1:39: invalid regex '*a': a repetition operator has nothing to repeat at '*'");
  EXPECT_EQ(filter_error("a\\"), "p.yaml:1:39: invalid regex 'a\\': it ends with a lone backslash");
  EXPECT_EQ(filter_error("\\q"), "p.yaml:1:39: invalid regex '\\q': invalid escape sequence: \\q");
  EXPECT_EQ(config_error("filter: { field: s, op: regex, value: [a] }"), "p.yaml:1:39: expected a string for a regex");
  const std::string complex = filter_error("\\p{L}{20}");
  EXPECT_EQ(complex.rfind("p.yaml:1:39: regex '\\p{L}{20}' is too complex: it compiles to ", 0), 0u) << complex;
}

TEST(Pattern, LongestValueDependsOnThePatternSize) {
  Pattern p = compile("^[0-9]{5}$");
  EXPECT_GT(p.size(), 0u);
  EXPECT_EQ(p.max_input(), Pattern::kWorkLimit / p.size());
  EXPECT_GT(p.max_input(), size_t{1} << 20);  // simple patterns check values of several MiB
  EXPECT_FALSE(p.too_large(std::string(p.max_input(), '1')));
  EXPECT_TRUE(p.too_large(std::string(p.max_input() + 1, '1')));
  EXPECT_EQ(Pattern::kWorkLimit / Pattern::kMaxSize, 1024u);  // the largest patterns still take 1 KiB
}

// Inputs that take a backtracking matcher (std::regex) exponential time or
// overflow its stack: 1 MiB, or as much as the pattern accepts.
TEST(Pattern, PathologicalPatternsRunInLinearTime) {
  struct Case {
    const char* pattern;
    char fill;
    const char* end;
    bool match;
  };
  const Case cases[] = {
      {"(a+)+$", 'a', "!", false},
      {"(a+)+$", 'a', "", true},
      {"^(a|aa)+$", 'a', "b", false},
      {"^(a|a?)+$", 'a', "b", false},
      {"(a*)*b", 'a', "", false},
      {"(x+x+)+y", 'x', "", false},
      {"(\\w|_)+@", 'a', "", false},
      {"(.*a){3}", 'a', "b", true},
      {"^(\\w+\\s?)*$", 'a', "!", false},
      {"^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$",
       'a', "@", false},
      {"^(([a-z])+.)+[A-Z]([a-z])+$", 'a', "", false},
  };
  for (const Case& c : cases) {
    Pattern p = compile(c.pattern);
    const size_t n = std::min(size_t{1} << 20, p.max_input());
    EXPECT_GE(n, size_t{64} << 10) << c.pattern;
    const std::string text = std::string(n - std::strlen(c.end), c.fill) + c.end;
    bool found = !c.match;
    const double s = seconds([&] { found = p.search(text); });
    EXPECT_EQ(found, c.match) << c.pattern;
    EXPECT_LT(s, kStepSeconds) << c.pattern << " took " << s << " s";
  }
}

// RE2's slowest path (its DFA cache thrashes and it steps every instruction
// for every byte) is what max_input() bounds: an unanchored counted
// repetition over random text, at the longest value the pattern accepts.
TEST(Pattern, SlowestPathAtTheLongestValueIsBounded) {
  std::mt19937 random(7);
  for (const char* pattern : {"[A-Z][A-Z0-9]{30}x", "(A|1)*A(A|1){20}x", "A.{30}x"}) {
    Pattern p = compile(pattern);
    std::string text(p.max_input(), 'A');
    for (char& c : text) c = (random() & 1) != 0U ? 'A' : '1';
    bool found = true;
    const double s = seconds([&] { found = p.search(text); });
    EXPECT_FALSE(found) << pattern;
    EXPECT_LT(s, kStepSeconds) << pattern << " took " << s << " s for " << text.size() << " bytes";
  }
}

TEST(Pattern, RequireMatchesWithThePattern) {
  Step s = make(R"(require: { fields: { email: { regex: "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$" } } })");
  Record ok = record(R"({"email": "max@example.de"})");
  Record bad = record(R"({"email": "max@example"})");
  EXPECT_EQ(apply(s, ok), "keep");
  EXPECT_EQ(apply(s, bad), "reject: field 'email' does not match regex '^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$'");
}

}  // namespace
}  // namespace touchpoint::core::test
