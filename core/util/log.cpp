#include "util/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>

namespace touchpoint::core::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_mu;

const char* name(Level l) {
  switch (l) {
    case Level::trace:
      return "trace";
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

// syslog priorities, understood by journald when prefixed as "<N>".
int priority(Level l) {
  switch (l) {
    case Level::trace:
    case Level::debug:
      return 7;
    case Level::info:
      return 6;
    case Level::warn:
      return 4;
    case Level::error:
      return 3;
  }
  return 6;
}

bool under_journald() {
  static const bool yes = std::getenv("JOURNAL_STREAM") != nullptr;
  return yes;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

void set_level(Level l) { g_level.store(static_cast<int>(l)); }
Level level() { return static_cast<Level>(g_level.load()); }
bool enabled(Level l) { return static_cast<int>(l) >= g_level.load(std::memory_order_relaxed); }

bool parse_level(std::string_view n, Level& out) {
  for (Level l : {Level::trace, Level::debug, Level::info, Level::warn, Level::error})
    if (n == name(l)) {
      out = l;
      return true;
    }
  return false;
}

namespace {

// mask_pii runs three linear scans, each over the result of the one before:
// e-mail addresses, then IBANs, then phone numbers. Each scan finds the same
// matches as the regular expression quoted with it would (ECMAScript:
// leftmost, greedy, left to right without overlap), but decides about each
// stretch of input once instead of backtracking over it. Like those
// expressions they are ASCII only: UTF-8 bytes never belong to a match.
// Characters are classified by one table lookup, so the scans stay cheap in
// unoptimized sanitizer builds too.

constexpr size_t npos = std::string_view::npos;

enum : unsigned char {
  kDigit = 1,    // [0-9]
  kUpper = 2,    // [A-Z]
  kLower = 4,    // [a-z]
  kLocal = 8,    // an e-mail local part: [A-Za-z0-9._%+-]
  kDomain = 16,  // an e-mail domain: [A-Za-z0-9.-]
  kPhone = 32,   // inside a phone number: [0-9 ()/-]
  kWord = 64,    // \w: [A-Za-z0-9_]
};
constexpr unsigned char kAlpha = kUpper | kLower;
constexpr unsigned char kAlnum = kAlpha | kDigit;
constexpr unsigned char kIban = kUpper | kDigit;

struct Classes {
  unsigned char of[256] = {};
  constexpr Classes() {
    for (int c = 0; c < 256; ++c) {
      unsigned char k = 0;
      if (c >= '0' && c <= '9') k |= kDigit | kLocal | kDomain | kPhone | kWord;
      if (c >= 'A' && c <= 'Z') k |= kUpper | kLocal | kDomain | kWord;
      if (c >= 'a' && c <= 'z') k |= kLower | kLocal | kDomain | kWord;
      if (c == '.' || c == '-') k |= kLocal | kDomain;
      if (c == '_') k |= kLocal | kWord;
      if (c == '%' || c == '+') k |= kLocal;
      if (c == ' ' || c == '(' || c == ')' || c == '/' || c == '-') k |= kPhone;
      of[c] = k;
    }
  }
};
constexpr Classes kClasses;

/// The class bits of the byte at p[i].
#define TP_CLASS(p, i) (kClasses.of[static_cast<unsigned char>((p)[i])])

/// Builds a scan's output: unchanged stretches are copied in one piece when
/// the next replacement (or the end) is reached.
class Rewriter {
 public:
  explicit Rewriter(std::string_view in) : in_(in) {}
  /// Replaces in_[from, to) with a + "***" + b.
  void mask(size_t from, size_t to, std::string_view a, std::string_view b) {
    if (out_.empty()) out_.reserve(in_.size());
    out_.append(in_.substr(copied_, from - copied_));
    out_ += a;
    out_ += "***";
    out_ += b;
    copied_ = to;
  }
  std::string finish() {
    if (copied_ == 0) return std::string(in_);
    out_.append(in_.substr(copied_));
    return std::move(out_);
  }

 private:
  std::string_view in_;
  std::string out_;
  size_t copied_ = 0;
};

// --- e-mail: ([A-Za-z0-9])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,}) -> $1***@$2

/// The end of the domain matched after the '@' at `at`, or npos. The greedy
/// domain run gives characters back until "\.[A-Za-z]{2,}" fits: at the last
/// dot (not the run's first character) followed by two letters.
size_t domain_end(const char* s, size_t n, size_t at) {
  size_t end = at + 1;
  while (end < n && (TP_CLASS(s, end) & kDomain)) ++end;
  for (size_t dot = end; dot-- > at + 2;) {
    if (dot + 2 < end && s[dot] == '.' && (TP_CLASS(s, dot + 1) & kAlpha) && (TP_CLASS(s, dot + 2) & kAlpha)) {
      size_t stop = dot + 3;
      while (stop < end && (TP_CLASS(s, stop) & kAlpha)) ++stop;
      return stop;
    }
  }
  return npos;
}

std::string mask_emails(std::string_view text) {
  Rewriter out(text);
  const char* s = text.data();
  const size_t n = text.size();
  size_t done = 0;  // the end of the last match: no match starts before it
  // Scanning left to right, a match starts at the first letter or digit of
  // the run of local-part characters right before an '@' (every start in
  // the run meets the same '@'). So each '@' is looked at once: back over its
  // local part, forward over its domain. Neither contains an '@', so every
  // character is read at most twice.
  for (size_t at = text.find('@'); at != npos; at = text.find('@', at + 1)) {
    if (at < done) continue;
    size_t start = at;
    while (start > done && (TP_CLASS(s, start - 1) & kLocal)) --start;
    while (start < at && !(TP_CLASS(s, start) & kAlnum)) ++start;
    if (start == at) continue;
    const size_t end = domain_end(s, n, at);
    if (end == npos) continue;
    out.mask(start, end, text.substr(start, 1), text.substr(at, end - at));
    done = end;
  }
  return out.finish();
}

// --- IBAN: \b([A-Z]{2})[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})? -> $1*** + last two

bool iban_group(const char* s, size_t n, size_t from) {
  return from + 4 <= n && (TP_CLASS(s, from) & kIban) && (TP_CLASS(s, from + 1) & kIban) &&
         (TP_CLASS(s, from + 2) & kIban) && (TP_CLASS(s, from + 3) & kIban);
}

/// The end of the IBAN starting at `i`, or npos. Reads at most 43 characters.
size_t iban_end(const char* s, size_t n, size_t i) {
  if (i + 4 > n || !(TP_CLASS(s, i) & kUpper) || !(TP_CLASS(s, i + 1) & kUpper) || !(TP_CLASS(s, i + 2) & kDigit) ||
      !(TP_CLASS(s, i + 3) & kDigit))
    return npos;
  if (i > 0 && (TP_CLASS(s, i - 1) & kWord)) return npos;  // \b
  size_t k = i + 4;
  int groups = 0;
  // A space before a group is taken when a group follows it; otherwise the
  // group must start right here, where a space cannot be part of it.
  while (groups < 7) {
    const size_t g = k < n && s[k] == ' ' ? k + 1 : k;
    if (!iban_group(s, n, g)) break;
    k = g + 4;
    ++groups;
  }
  if (groups < 2) return npos;
  const size_t t = k + 1 < n && s[k] == ' ' && (TP_CLASS(s, k + 1) & kIban) ? k + 1 : k;
  size_t tail = 0;
  while (tail < 3 && t + tail < n && (TP_CLASS(s, t + tail) & kIban)) ++tail;
  return tail > 0 ? t + tail : k;
}

std::string mask_ibans(std::string_view text) {
  Rewriter out(text);
  const char* s = text.data();
  const size_t n = text.size();
  size_t i = 0;
  while (i + 1 < n) {
    // Neither i nor i + 1 can start an IBAN unless s[i + 1] is a capital.
    if (!(TP_CLASS(s, i + 1) & kUpper)) {
      i += 2;
      continue;
    }
    const size_t end = iban_end(s, n, i);
    if (end == npos) {
      ++i;
      continue;
    }
    out.mask(i, end, text.substr(i, 2), text.substr(end - 2, 2));
    i = end;
  }
  return out.finish();
}

// --- phone: \+?[0-9][0-9 ()/\-]{5,}[0-9]{2} -> *** + last two, if looks_like_phone

/// \d{4}-\d{2}-\d{2} anywhere in s[from, to).
bool has_date(const char* s, size_t from, size_t to) {
  for (size_t k = from; k + 10 <= to; ++k) {
    if (s[k + 4] == '-' && s[k + 7] == '-' && (TP_CLASS(s, k) & kDigit) && (TP_CLASS(s, k + 1) & kDigit) &&
        (TP_CLASS(s, k + 2) & kDigit) && (TP_CLASS(s, k + 3) & kDigit) && (TP_CLASS(s, k + 5) & kDigit) &&
        (TP_CLASS(s, k + 6) & kDigit) && (TP_CLASS(s, k + 8) & kDigit) && (TP_CLASS(s, k + 9) & kDigit))
      return true;
  }
  return false;
}

// A digit run is treated as a phone number unless its surroundings say it is
// something else: part of a word or file name ("segment 00000000000000000001.tpj"),
// a date ("2024-01-15"), or a bare number without '+', leading 0 or separators
// (sequence numbers, byte counts, epoch milliseconds).
bool looks_like_phone(const char* s, size_t n, size_t pos, size_t end) {
  if (pos > 0 && ((TP_CLASS(s, pos - 1) & kWord) || s[pos - 1] == '.' || s[pos - 1] == '/')) return false;
  if (end < n && ((TP_CLASS(s, end) & kWord) || (s[end] == '.' && end + 1 < n && (TP_CLASS(s, end + 1) & kWord))))
    return false;
  if (has_date(s, pos, end)) return false;
  if (s[pos] == '+' || s[pos] == '0') return true;
  for (size_t k = pos; k < end; ++k) {
    if (!(TP_CLASS(s, k) & kDigit)) return true;  // separated
  }
  return false;
}

std::string mask_phones(std::string_view text) {
  Rewriter out(text);
  const char* s = text.data();
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    if (!(TP_CLASS(s, i) & kPhone)) {
      ++i;
      continue;
    }
    // A match lies in one run of [0-9 ()/-] (plus a '+' just before it). The
    // greedy middle gives characters back until two digits end the match: at
    // the run's last digit pair, whichever digit it starts from. So the run
    // holds at most one match, starting at its first digit if that is far
    // enough from the pair.
    const size_t run = i;
    size_t end = i;
    while (end < n && (TP_CLASS(s, end) & kPhone)) ++end;
    i = end;
    size_t first = run;
    while (first < end && !(TP_CLASS(s, first) & kDigit)) ++first;
    size_t pair = npos;
    for (size_t k = end; k-- > first + 1;) {
      if ((TP_CLASS(s, k) & kDigit) && (TP_CLASS(s, k - 1) & kDigit)) {
        pair = k - 1;
        break;
      }
    }
    if (first == end || pair == npos || pair < first + 6) continue;
    const size_t start = first == run && run > 0 && s[run - 1] == '+' ? run - 1 : first;
    const size_t stop = pair + 2;
    if (looks_like_phone(s, n, start, stop)) out.mask(start, stop, {}, text.substr(stop - 2, 2));
  }
  return out.finish();
}

}  // namespace

std::string mask_pii(std::string_view text) {
  std::string s = text.find('@') != npos ? mask_emails(text) : std::string(text);
  s = mask_ibans(s);
  return mask_phones(s);
}

#undef TP_CLASS

namespace {

// A token that may be (part of) an e-mail address, IBAN or phone number.
bool token_char(char c) { return (kClasses.of[static_cast<unsigned char>(c)] & kLocal) || c == '@'; }

/// The part of `message` that is logged: all of it, or the first
/// kMaxMessageBytes cut at a character boundary and before a token the cut
/// would split (half an e-mail address is no longer recognised as one). The
/// number of bytes left out goes to `cut`.
std::string_view bounded(std::string_view message, size_t& cut) {
  cut = 0;
  if (message.size() <= kMaxMessageBytes) return message;
  size_t end = kMaxMessageBytes;
  while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80) --end;
  if (token_char(message[end])) {
    // An e-mail address has at most 254 characters: a longer token is no
    // single value, and cutting through it leaves no value half-masked.
    const size_t floor = end > 256 ? end - 256 : 0;
    size_t start = end;
    while (start > floor && token_char(message[start - 1])) --start;
    if (start > floor) end = start;
  }
  cut = message.size() - end;
  return message.substr(0, end);
}

}  // namespace

void write(Level l, std::string_view component, std::string_view message) {
  if (!enabled(l)) return;
  std::string line;
  if (under_journald()) {
    line += '<';  // (not "<" + ...: GCC 12 warns about that falsely, -Wrestrict)
    line += std::to_string(priority(l));
    line += '>';
  } else {
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    line = buf;
  }
  line += "level=";
  line += name(l);
  line += " component=";
  line += component;
  line += " msg=";
  size_t cut = 0;
  std::string text = mask_pii(bounded(message, cut));
  if (cut > 0) {
    text += " [... ";
    text += std::to_string(cut);
    text += " more bytes not logged]";
  }
  line += quote(text);
  line += '\n';
  std::lock_guard<std::mutex> lk(g_mu);
  ::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace touchpoint::core::log
