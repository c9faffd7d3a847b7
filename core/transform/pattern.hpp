#pragma once
// User-supplied regular expressions (filter `op: regex`, require `regex:`).
//
// Patterns are written in ECMAScript syntax and matched with RE2, which runs
// in time linear in the value (no backtracking: no stack overflow and no
// exponential blow-up on hostile values). The ECMAScript constructs RE2
// cannot express (backreferences, lookahead, lookbehind) are config errors;
// the others are translated so that they keep their ECMAScript meaning
// (`.`, `\s`, `\S`, `\uXXXX`, `\cX`, `[]`, `[^]`, `(?<name>...)`).
// Characters are UTF-8 code points.
//
// RE2's worst case is proportional to value length x pattern size (when its
// DFA cache thrashes it falls back to a simulation that steps every
// instruction for every byte), so each pattern accepts values up to
// kWorkLimit / size bytes; callers refuse longer values as too_large.

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/config_error.hpp"

namespace re2 {
class RE2;
}

namespace touchpoint::core::transform {

class Pattern {
 public:
  /// Budget of value bytes x pattern instructions for one search: about
  /// 0.5 s on the slowest path RE2 can take, far less on the usual one.
  static constexpr std::size_t kWorkLimit = std::size_t{1} << 24;
  /// Patterns larger than this could check values of at most 1 KiB: refused.
  static constexpr std::size_t kMaxSize = kWorkLimit / 1024;

  /// Compiles a scalar node's text; throws ConfigError at the node, with the
  /// pattern and a sentence saying what is wrong.
  static Pattern compile(const YAML::Node& node, const ConfigSource& source);

  /// The pattern as written in the pipeline file.
  const std::string& text() const noexcept { return text_; }
  /// RE2 instructions of the compiled pattern (the larger of its forward and
  /// reverse programs).
  std::size_t size() const noexcept { return size_; }
  /// Longest value, in bytes, search() takes: kWorkLimit / size().
  std::size_t max_input() const noexcept { return max_input_; }
  /// True when `text` is too long to be searched in bounded time.
  bool too_large(std::string_view text) const noexcept { return text.size() > max_input_; }
  /// regex_search semantics: does the pattern match anywhere in `text`?
  /// Precondition: !too_large(text).
  bool search(std::string_view text) const;

 private:
  std::shared_ptr<const re2::RE2> re_;  ///< immutable and thread-safe
  std::string text_;
  std::size_t size_ = 0;
  std::size_t max_input_ = 0;
};

/// A construct RE2 cannot express; what() is a sentence such as "uses a
/// backreference (\1), which ...".
class UnsupportedPattern : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Rewrites an ECMAScript pattern in RE2 syntax. Throws UnsupportedPattern
/// for constructs RE2 cannot express and leaves syntax errors for RE2 to
/// report. Exposed for tests.
std::string ecmascript_to_re2(std::string_view pattern);

}  // namespace touchpoint::core::transform
