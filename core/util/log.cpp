#include "util/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <regex>

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

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// A digit run is treated as a phone number unless its surroundings say it is
// something else: part of a word or file name ("segment 00000000000000000001.tpj"),
// a date ("2024-01-15"), or a bare number without '+', leading 0 or separators
// (sequence numbers, byte counts, epoch milliseconds).
bool looks_like_phone(const std::string& s, size_t pos, size_t len) {
  if (pos > 0 && (word_char(s[pos - 1]) || s[pos - 1] == '.' || s[pos - 1] == '/')) return false;
  const size_t end = pos + len;
  if (end < s.size() && (word_char(s[end]) || (s[end] == '.' && end + 1 < s.size() && word_char(s[end + 1]))))
    return false;
  static const std::regex date(R"(\d{4}-\d{2}-\d{2})");
  const std::string m = s.substr(pos, len);
  if (std::regex_search(m, date)) return false;
  const bool separated = m.find_first_not_of("0123456789") != std::string::npos;
  return m[0] == '+' || m[0] == '0' || separated;
}

}  // namespace

std::string mask_pii(std::string_view text) {
  static const std::regex email(R"(([A-Za-z0-9])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,}))");
  static const std::regex iban(R"(\b([A-Z]{2})[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)");
  static const std::regex phone(R"(\+?[0-9][0-9 ()/\-]{5,}[0-9]{2})");
  std::string s(text);
  if (s.find('@') != std::string::npos) s = std::regex_replace(s, email, "$1***@$2");
  std::string out;
  auto mask_all = [&](const std::regex& re, auto keep) {
    out.clear();
    size_t last = 0;
    for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it) {
      const auto pos = static_cast<size_t>(it->position(0));
      const auto len = static_cast<size_t>(it->length(0));
      out.append(s, last, pos - last);
      out += keep(*it, pos, len);
      last = pos + len;
    }
    out.append(s, last, std::string::npos);
    s.swap(out);
  };
  mask_all(iban, [&](const std::smatch& m, size_t, size_t) {
    const std::string v = m.str(0);
    return m.str(1) + "***" + v.substr(v.size() - 2);
  });
  mask_all(phone, [&](const std::smatch& m, size_t pos, size_t len) {
    const std::string v = m.str(0);
    return looks_like_phone(s, pos, len) ? "***" + v.substr(v.size() - 2) : v;
  });
  return s;
}

void write(Level l, std::string_view component, std::string_view message) {
  if (!enabled(l)) return;
  std::string line;
  if (under_journald()) {
    line = "<" + std::to_string(priority(l)) + ">";
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
  line += quote(mask_pii(message));
  line += '\n';
  std::lock_guard<std::mutex> lk(g_mu);
  ::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace touchpoint::core::log
