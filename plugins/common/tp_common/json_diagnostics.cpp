#include "tp_common/json_diagnostics.hpp"

#include <charconv>
#include <cstdint>
#include <system_error>

namespace tp_common {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the valid UTF-8 sequence at s[i] (a non-ASCII lead byte), 0 if invalid.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return len;
}

class Checker {
 public:
  Checker(std::string_view s, size_t max_depth) : s_(s), max_depth_(max_depth) {}

  std::optional<JsonProblem> run() {
    skip_ws();
    if (i_ == s_.size()) return JsonProblem{0, "empty JSON document"};
    if (!value(0)) return problem_;
    skip_ws();
    if (i_ == s_.size()) return std::nullopt;
    fail(i_, "unexpected content after the JSON value");
    return problem_;
  }

 private:
  bool fail(size_t at, std::string reason) {
    problem_ = JsonProblem{at, std::move(reason)};
    return false;
  }
  bool truncated() { return fail(s_.size(), "unexpected end of JSON (truncated)"); }
  bool unexpected(size_t at) {
    if (static_cast<unsigned char>(s_[at]) >= 0x80 && utf8_sequence(s_, at) == 0) return fail(at, "invalid UTF-8");
    return fail(at, "unexpected character");
  }
  void skip_ws() {
    while (i_ < s_.size() && is_ws(s_[i_])) ++i_;
  }

  bool value(size_t depth) {
    skip_ws();
    if (i_ == s_.size()) return truncated();
    switch (s_[i_]) {
      case '{':
      case '[':
        return container(depth);
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        if (s_[i_] == '-' || is_digit(s_[i_])) return number();
        return unexpected(i_);
    }
  }

  bool container(size_t depth) {
    const size_t open = i_;
    const bool is_object = s_[i_] == '{';
    const char close = is_object ? '}' : ']';
    ++i_;
    skip_ws();
    if (i_ == s_.size()) return truncated();
    if (s_[i_] == close) {
      ++i_;
      return true;
    }
    if (depth + 1 > max_depth_) return fail(open, "nested deeper than " + std::to_string(max_depth_) + " levels");
    for (;;) {
      if (is_object) {
        skip_ws();
        if (i_ == s_.size()) return truncated();
        if (s_[i_] != '"') return unexpected(i_);
        if (!string()) return false;
        skip_ws();
        if (i_ == s_.size()) return truncated();
        if (s_[i_] != ':') return unexpected(i_);
        ++i_;
      }
      if (!value(depth + 1)) return false;
      skip_ws();
      if (i_ == s_.size()) return truncated();
      if (s_[i_] == close) {
        ++i_;
        return true;
      }
      if (s_[i_] != ',') return unexpected(i_);
      ++i_;
    }
  }

  bool literal(std::string_view word) {
    for (size_t k = 0; k < word.size(); ++k) {
      if (i_ + k == s_.size()) return truncated();
      if (s_[i_ + k] != word[k]) return unexpected(i_ + k);
    }
    i_ += word.size();
    return true;
  }

  bool hex4(size_t at, unsigned& out) {
    out = 0;
    for (size_t k = 0; k < 4; ++k) {
      if (at + k >= s_.size()) return truncated();
      int h = hex_value(s_[at + k]);
      if (h < 0) return fail(at + k, "invalid \\u escape");
      out = out * 16 + static_cast<unsigned>(h);
    }
    return true;
  }

  bool string() {
    ++i_;  // opening quote
    for (;;) {
      if (i_ == s_.size()) return truncated();
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return fail(i_, "unescaped control character in string");
      if (c >= 0x80) {
        size_t n = utf8_sequence(s_, i_);
        if (n == 0) return fail(i_, "invalid UTF-8");
        i_ += n;
        continue;
      }
      if (c != '\\') {
        ++i_;
        continue;
      }
      const size_t escape = i_;
      if (++i_ == s_.size()) return truncated();
      char e = s_[i_];
      if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
        ++i_;
        continue;
      }
      if (e != 'u') return fail(escape, "invalid escape in string");
      unsigned cp = 0;
      if (!hex4(i_ + 1, cp)) return false;
      i_ += 5;
      if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(escape, "unpaired surrogate in \\u escape");
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
          unsigned low = 0;
          if (!hex4(i_ + 2, low)) return false;
          if (low < 0xDC00 || low > 0xDFFF) return fail(escape, "unpaired surrogate in \\u escape");
          i_ += 6;
        } else if (i_ + 1 >= s_.size()) {
          return truncated();
        } else {
          return fail(escape, "unpaired surrogate in \\u escape");
        }
      }
    }
  }

  bool number() {
    const size_t start = i_;
    if (s_[i_] == '-') ++i_;
    if (i_ == s_.size()) return truncated();
    if (s_[i_] == '0') {
      ++i_;
    } else if (is_digit(s_[i_])) {
      while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
    } else {
      return unexpected(i_);
    }
    bool integer = true;
    bool negative_exponent = false;
    if (i_ < s_.size() && s_[i_] == '.') {
      integer = false;
      ++i_;
      if (i_ == s_.size()) return truncated();
      if (!is_digit(s_[i_])) return unexpected(i_);
      while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      integer = false;
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) negative_exponent = s_[i_++] == '-';
      if (i_ == s_.size()) return truncated();
      if (!is_digit(s_[i_])) return unexpected(i_);
      while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + i_;
    if (integer) {
      // simdjson keeps integers as int64/uint64 and rejects larger ones.
      bool ok = false;
      if (*first == '-') {
        int64_t v = 0;
        ok = std::from_chars(first, last, v).ec == std::errc();
      } else {
        uint64_t v = 0;
        ok = std::from_chars(first, last, v).ec == std::errc();
      }
      if (!ok) return fail(start, "integer out of the 64-bit range");
    } else if (!negative_exponent) {
      double d = 0;
      if (std::from_chars(first, last, d).ec == std::errc::result_out_of_range)
        return fail(start, "number out of the double range");
    }
    return true;
  }

  std::string_view s_;
  size_t max_depth_;
  size_t i_ = 0;
  std::optional<JsonProblem> problem_;
};

}  // namespace

std::optional<JsonProblem> find_json_problem(std::string_view text, size_t max_depth) {
  return Checker(text, max_depth).run();
}

size_t array_element_offset(std::string_view s, size_t array_offset, size_t index) noexcept {
  if (array_offset >= s.size() || s[array_offset] != '[') return std::string_view::npos;
  size_t i = array_offset + 1;
  size_t depth = 0;
  size_t count = 0;
  auto skip_ws = [&] {
    while (i < s.size() && is_ws(s[i])) ++i;
  };
  skip_ws();
  if (index == 0) return i < s.size() && s[i] != ']' ? i : std::string_view::npos;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i)
        if (s[i] == '\\') ++i;
      ++i;
      continue;
    }
    if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (depth == 0) return std::string_view::npos;
      --depth;
    } else if (c == ',' && depth == 0) {
      ++i;
      skip_ws();
      if (++count == index) return i;
      continue;
    }
    ++i;
  }
  return std::string_view::npos;
}

}  // namespace tp_common
