#include "correlate.hpp"

#include "text_util.hpp"

namespace tp_email::intake::detail {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}
}  // namespace

bool is_contact_id(std::string_view s) {
  if (s.size() != 26 || s[0] != 'c' || s[1] != '-') return false;
  for (char c : s.substr(2))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string xtext_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string verp_contact(std::string_view text) {
  static constexpr std::string_view kPrefix = "bounces+";
  for (std::size_t at = ifind(text, kPrefix); at != std::string_view::npos; at = ifind(text, kPrefix, at + 1)) {
    const std::size_t start = at + kPrefix.size();
    const std::size_t end = text.find('@', start);
    if (end == std::string_view::npos) return {};
    // MTAs may change the case of a local part; contact ids are lower case.
    std::string token = to_lower(text.substr(start, end - start));
    if (is_contact_id(token)) return token;
  }
  return {};
}

std::string bare_message_id(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  return std::string(trim(s));
}

Correlation correlate(const RawReport& report) {
  Correlation c;
  const std::string original_id = bare_message_id(field(report.original, "message-id"));
  c.provider_id = original_id;

  const std::string envid = xtext_decode(trim(field(report.per_message, "original-envelope-id")));
  if (is_contact_id(envid)) {
    c.contact_id = envid;
    c.via = "envid";
    return c;
  }
  for (const auto& [name, value] : report.envelope) {
    std::string id = verp_contact(value);
    if (!id.empty()) {
      c.contact_id = std::move(id);
      c.via = "verp";
      return c;
    }
  }
  // ARF carries the envelope sender of the original, which is our VERP address.
  if (std::string id = verp_contact(field(report.per_message, "original-mail-from")); !id.empty()) {
    c.contact_id = std::move(id);
    c.via = "verp";
    return c;
  }
  if (const std::size_t at = original_id.find('@'); at != std::string::npos) {
    std::string local = original_id.substr(0, at);
    if (is_contact_id(local)) {
      c.contact_id = std::move(local);
      c.via = "message-id";
      return c;
    }
  }
  const std::string header = std::string(trim(field(report.original, "x-touchpoint-contact")));
  if (is_contact_id(header)) {
    c.contact_id = header;
    c.via = "header";
    return c;
  }
  if (std::string id = verp_contact(field(report.original, "return-path")); !id.empty()) {
    c.contact_id = std::move(id);
    c.via = "verp";
  }
  return c;
}

}  // namespace tp_email::intake::detail
