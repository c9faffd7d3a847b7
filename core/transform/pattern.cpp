#include "transform/pattern.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cstdio>

namespace touchpoint::core::transform {
namespace {

// ECMAScript's WhiteSpace and LineTerminator characters (\s), and their
// complement (\S), as the inside of an RE2 character class.
constexpr std::string_view kSpace =
    "\\x{9}-\\x{D}\\x{20}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}";
constexpr std::string_view kNotSpace =
    "\\x{0}-\\x{8}\\x{E}-\\x{1F}\\x{21}-\\x{9F}\\x{A1}-\\x{167F}\\x{1681}-\\x{1FFF}\\x{200B}-\\x{2027}"
    "\\x{202A}-\\x{202E}\\x{2030}-\\x{205E}\\x{2060}-\\x{2FFF}\\x{3001}-\\x{FEFE}\\x{FF00}-\\x{10FFFF}";
// ECMAScript's '.': anything but a line terminator. RE2's '.' excludes only \n.
constexpr std::string_view kDot = "[^\\n\\r\\x{2028}\\x{2029}]";
constexpr std::string_view kAnything = "[\\x{0}-\\x{10FFFF}]";
constexpr std::string_view kNothing = "[^\\x{0}-\\x{10FFFF}]";

constexpr std::string_view kWhy =
    ", which RE2 cannot express: patterns are matched in time linear in the value, without backtracking";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// The code unit of "\uXXXX" at p[i], or -1.
long utf16_escape(std::string_view p, std::size_t i) {
  if (i + 6 > p.size() || p[i] != '\\' || p[i + 1] != 'u') return -1;
  long v = 0;
  for (std::size_t k = i + 2; k < i + 6; ++k) {
    int h = hex_value(p[k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

void append_code_point(std::string& out, long cp) {
  char buf[32];  // room for any long in hex: GCC's -Wformat-truncation checks that at -O2
  std::snprintf(buf, sizeof(buf), "\\x{%lX}", cp);
  out += buf;
}

/// Translates the escape at p[i] (a backslash); returns the index after it.
std::size_t escape(std::string_view p, std::size_t i, bool in_class, std::string& out) {
  if (i + 1 >= p.size()) {
    out += '\\';  // RE2 reports the trailing backslash
    return i + 1;
  }
  const char e = p[i + 1];
  if (!in_class && e >= '1' && e <= '9') {
    std::size_t end = i + 1;
    while (end < p.size() && p[end] >= '0' && p[end] <= '9') ++end;
    throw UnsupportedPattern("uses a backreference (" + std::string(p.substr(i, end - i)) + ")" + std::string(kWhy));
  }
  if (!in_class && e == 'k' && i + 2 < p.size() && p[i + 2] == '<') {
    throw UnsupportedPattern("uses a named backreference (\\k<...>)" + std::string(kWhy));
  }
  switch (e) {
    case 'u': {
      long unit = utf16_escape(p, i);
      if (unit < 0) break;  // RE2 reports "invalid escape sequence: \u"
      std::size_t next = i + 6;
      long low = utf16_escape(p, next);
      if (unit >= 0xD800 && unit <= 0xDBFF && low >= 0xDC00 && low <= 0xDFFF) {
        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
        next += 6;
      }
      append_code_point(out, unit);
      return next;
    }
    case 'c':
      if (i + 2 < p.size() && ((p[i + 2] >= 'a' && p[i + 2] <= 'z') || (p[i + 2] >= 'A' && p[i + 2] <= 'Z'))) {
        append_code_point(out, p[i + 2] % 32);
        return i + 3;
      }
      break;
    case 's':
      if (!in_class) out += '[';
      out += kSpace;
      if (!in_class) out += ']';
      return i + 2;
    case 'S':
      if (!in_class) out += '[';
      out += kNotSpace;
      if (!in_class) out += ']';
      return i + 2;
    case 'b':
      if (!in_class) break;  // a word boundary, as in RE2
      out += "\\x{8}";       // [\b] is a backspace
      return i + 2;
    default:
      break;
  }
  out += '\\';
  out += e;
  return i + 2;
}

/// What RE2 found wrong with the translation of `written`.
std::string describe(const re2::RE2& re, const std::string& written) {
  const std::string arg = re.error_arg();
  // The offending part, unless it is one the translation rewrote.
  const std::string at = arg.empty() || written.find(arg) == std::string::npos ? std::string() : " at '" + arg + "'";
  switch (re.error_code()) {
    case re2::RE2::ErrorMissingBracket:
      return "a '[' is never closed" + at;
    case re2::RE2::ErrorMissingParen:
      return "a '(' is never closed" + at;
    case re2::RE2::ErrorUnexpectedParen:
      return "a ')' has no '('" + at;
    case re2::RE2::ErrorTrailingBackslash:
      return "it ends with a lone backslash";
    case re2::RE2::ErrorRepeatSize:
      return "bad repetition count" + at + " (at most 1000)";
    case re2::RE2::ErrorRepeatArgument:
      return "a repetition operator has nothing to repeat" + at;
    case re2::RE2::ErrorPatternTooLarge:
      return "it is too large to compile";
    default:
      return re.error();
  }
}

}  // namespace

std::string ecmascript_to_re2(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 16);
  bool in_class = false;
  std::size_t i = 0;
  while (i < p.size()) {
    const char c = p[i];
    if (c == '\\') {
      i = escape(p, i, in_class, out);
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      if (c == '[') out += '\\';  // a literal '[' in ECMAScript; RE2 would read "[:" as a POSIX class
      out += c;
      ++i;
      continue;
    }
    const std::string_view rest = p.substr(i);
    if (c == '[') {
      // ECMAScript's "[]" matches nothing and "[^]" anything; RE2 would read
      // the ']' as a literal.
      if (rest.starts_with("[]")) {
        out += kNothing;
        i += 2;
      } else if (rest.starts_with("[^]")) {
        out += kAnything;
        i += 3;
      } else {
        const std::size_t open = rest.starts_with("[^") ? 2 : 1;
        out += rest.substr(0, open);
        i += open;
        in_class = true;
      }
      continue;
    }
    if (c == '.') {
      out += kDot;
      ++i;
      continue;
    }
    if (c == '(') {
      if (rest.starts_with("(?=") || rest.starts_with("(?!")) {
        throw UnsupportedPattern("uses a lookahead (" + std::string(rest.substr(0, 3)) + "...)" + std::string(kWhy));
      }
      if (rest.starts_with("(?<=") || rest.starts_with("(?<!")) {
        throw UnsupportedPattern("uses a lookbehind (" + std::string(rest.substr(0, 4)) + "...)" + std::string(kWhy));
      }
      if (rest.starts_with("(?<")) {  // a named group; RE2 spells it (?P<name>...)
        out += "(?P<";
        i += 3;
        continue;
      }
    }
    out += c;
    ++i;
  }
  return out;
}

Pattern Pattern::compile(const YAML::Node& node, const ConfigSource& source) {
  if (!node.IsScalar()) source.fail(node, "expected a string for a regex");
  Pattern pattern;
  pattern.text_ = node.Scalar();
  const std::string quoted = "regex '" + pattern.text_ + "'";
  std::string translated;
  try {
    translated = ecmascript_to_re2(pattern.text_);
  } catch (const UnsupportedPattern& e) {
    source.fail(node, quoted + " " + e.what());
  }
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_never_capture(true);  // only "does it match" is asked
  auto re = std::make_shared<const re2::RE2>(translated, options);
  if (!re->ok()) source.fail(node, "invalid " + quoted + ": " + describe(*re, pattern.text_));
  const int forward = re->ProgramSize();
  const int reverse = re->ReverseProgramSize();  // used for patterns anchored at the end
  if (forward <= 0 || reverse <= 0) source.fail(node, "invalid " + quoted + ": it is too large to compile");
  pattern.size_ = static_cast<std::size_t>(std::max(forward, reverse));
  if (pattern.size_ > kMaxSize) {
    source.fail(node, quoted + " is too complex: it compiles to " + std::to_string(pattern.size_) +
                          " instructions, more than the " + std::to_string(kMaxSize) +
                          " that keep matching bounded; simplify it (large repetition counts and Unicode classes "
                          "such as \\p{L} cost the most)");
  }
  pattern.max_input_ = kWorkLimit / pattern.size_;
  pattern.re_ = std::move(re);
  return pattern;
}

bool Pattern::search(std::string_view text) const {
  return re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

}  // namespace touchpoint::core::transform
