#include "tracking_links.hpp"

#include <algorithm>
#include <cstdint>

namespace tp_email {

namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ci(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == y; });
}

// HTML5: tab, LF, FF, CR, space.
bool html_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::optional<uint32_t> numeric_reference(std::string_view digits) {
  const bool hex = !digits.empty() && lower(digits[0]) == 'x';
  if (hex) digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 8) return std::nullopt;
  uint32_t cp = 0;
  for (const char c : digits) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (hex && lower(c) >= 'a' && lower(c) <= 'f') d = lower(c) - 'a' + 10;
    if (d < 0) return std::nullopt;
    cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
    if (cp > 0x10FFFF) return std::nullopt;
  }
  if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  return cp;
}

struct Attribute {
  std::string_view name;
  std::string_view value;
  std::size_t begin = 0, end = 0;  ///< the value's bytes in the HTML, quotes included
  bool has_value = false;
};

// Reads the attributes of a start tag from `pos` (after the tag name) up to
// its '>'. Returns the position after '>', or npos when the tag does not end.
template <typename OnAttribute>
std::size_t read_attributes(std::string_view html, std::size_t pos, OnAttribute&& on_attribute) {
  const std::size_t n = html.size();
  while (pos < n) {
    while (pos < n && (html_space(html[pos]) || html[pos] == '/')) ++pos;
    if (pos >= n) return std::string_view::npos;
    if (html[pos] == '>') return pos + 1;
    Attribute a;
    const std::size_t name_begin = pos;
    ++pos;  // the first character of a name may be '='
    while (pos < n && !html_space(html[pos]) && html[pos] != '/' && html[pos] != '>' && html[pos] != '=') ++pos;
    a.name = html.substr(name_begin, pos - name_begin);
    std::size_t look = pos;
    while (look < n && html_space(html[look])) ++look;
    if (look < n && html[look] == '=') {
      pos = look + 1;
      while (pos < n && html_space(html[pos])) ++pos;
      if (pos >= n) return std::string_view::npos;
      a.has_value = true;
      a.begin = pos;
      if (html[pos] == '"' || html[pos] == '\'') {
        const std::size_t close = html.find(html[pos], pos + 1);
        if (close == std::string_view::npos) return std::string_view::npos;
        a.value = html.substr(pos + 1, close - pos - 1);
        pos = close + 1;
      } else {
        while (pos < n && !html_space(html[pos]) && html[pos] != '>') ++pos;
        a.value = html.substr(a.begin, pos - a.begin);
      }
      a.end = pos;
    }
    on_attribute(a);
  }
  return std::string_view::npos;
}

std::string trimmed(std::string s) {
  const auto not_space = [](char c) { return !html_space(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

}  // namespace

std::optional<std::string> decode_attribute(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '&') {
      out.push_back(value[i]);
      continue;
    }
    const std::size_t semi = value.find(';', i + 1);
    if (semi == std::string_view::npos || semi - i > 12) return std::nullopt;
    const std::string_view ref = value.substr(i + 1, semi - i - 1);
    if (!ref.empty() && ref[0] == '#') {
      const std::optional<uint32_t> cp = numeric_reference(ref.substr(1));
      if (!cp) return std::nullopt;
      append_utf8(out, *cp);
    } else if (ref == "amp") {
      out.push_back('&');
    } else if (ref == "lt") {
      out.push_back('<');
    } else if (ref == "gt") {
      out.push_back('>');
    } else if (ref == "quot") {
      out.push_back('"');
    } else if (ref == "apos") {
      out.push_back('\'');
    } else {
      return std::nullopt;
    }
    i = semi;
  }
  return out;
}

std::string rewrite_links(std::string_view html,
                          const std::function<std::optional<std::string>(const std::string& url)>& replacement,
                          std::size_t& rewritten) {
  rewritten = 0;
  std::string out;
  out.reserve(html.size() + html.size() / 4);
  std::size_t copied = 0, pos = 0;
  while ((pos = html.find('<', pos)) != std::string_view::npos) {
    const std::size_t name = pos + 1;
    if (name + 1 >= html.size() || lower(html[name]) != 'a' ||
        !(html_space(html[name + 1]) || html[name + 1] == '/' || html[name + 1] == '>')) {
      pos = name;
      continue;
    }
    std::optional<Attribute> href;
    bool notrack = false;
    const std::size_t tag_end = read_attributes(html, name + 1, [&](const Attribute& a) {
      if (equals_ci(a.name, "data-tp-notrack")) notrack = true;
      if (!href && equals_ci(a.name, "href")) href = a;  // HTML5: the first of duplicate attributes wins
    });
    if (tag_end == std::string_view::npos) break;  // an unterminated tag: the rest stays as it is
    pos = tag_end;
    if (notrack || !href || !href->has_value) continue;
    const std::optional<std::string> url = decode_attribute(href->value);
    if (!url) continue;
    const std::optional<std::string> to = replacement(trimmed(*url));
    if (!to) continue;
    out.append(html.substr(copied, href->begin - copied));
    out.push_back('"');
    for (const char c : *to) {
      if (c == '&')
        out += "&amp;";
      else if (c == '"')
        out += "&quot;";
      else
        out.push_back(c);
    }
    out.push_back('"');
    copied = href->end;
    ++rewritten;
  }
  out.append(html.substr(copied));
  return out;
}

std::string insert_before_body_end(std::string html, std::string_view tag) {
  constexpr std::string_view kBodyEnd = "</body";
  for (std::size_t i = html.size(); i >= kBodyEnd.size(); --i) {
    const std::size_t at = i - kBodyEnd.size();
    if (equals_ci(std::string_view(html).substr(at, kBodyEnd.size()), kBodyEnd)) {
      html.insert(at, tag);
      return html;
    }
  }
  html.append(tag);
  return html;
}

}  // namespace tp_email
