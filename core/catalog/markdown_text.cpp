#include "catalog/markdown_text.hpp"

#include <algorithm>
#include <cstring>

namespace touchpoint::core::catalog {
namespace {

// Cuts at a UTF-8 boundary and folds line breaks, which would end a table row.
std::string shown(std::string_view s) {
  std::string out;
  size_t end = s.size();
  bool cut = false;
  if (end > kMaxShownChars) {
    end = kMaxShownChars;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    cut = true;
  }
  out.reserve(end + 4);
  for (size_t i = 0; i < end; ++i) out += (s[i] == '\n' || s[i] == '\r') ? ' ' : s[i];
  if (cut) out += "…";
  return out;
}

// The '.' or ')' of a leading "12." or "3)": an ordered list item otherwise.
bool ordered_list_mark(const std::string& s, size_t i) {
  if (i == 0 || (s[i] != '.' && s[i] != ')')) return false;
  for (size_t j = 0; j < i; ++j)
    if (s[j] < '0' || s[j] > '9') return false;
  return true;
}

}  // namespace

std::string text(std::string_view s) {
  std::string out;
  const std::string body = shown(s);
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    // Inline markup anywhere; block markup ("# ", "- ", "1. ") only where a line starts.
    const bool inline_markup = c != 0 && std::strchr("\\`*_[]<>|~&!", c) != nullptr;
    const bool block_markup = (i == 0 && c != 0 && std::strchr("#-+=", c) != nullptr) || ordered_list_mark(body, i);
    if (inline_markup || block_markup) out += '\\';
    out += c;
  }
  return out;
}

std::string code(std::string_view s) {
  std::string body = shown(s);
  size_t longest = 0, run = 0;
  for (char c : body) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  // GFM tables split cells at '|' even inside code spans.
  std::string escaped;
  for (char c : body) {
    if (c == '|') escaped += '\\';
    escaped += c;
  }
  const std::string fence(longest + 1, '`');
  const bool pad = !escaped.empty() && (escaped.front() == '`' || escaped.back() == '`' || escaped.front() == ' ');
  if (escaped.empty()) return "` `";
  return fence + (pad ? " " : "") + escaped + (pad ? " " : "") + fence;
}

}  // namespace touchpoint::core::catalog
