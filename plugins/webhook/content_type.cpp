#include "content_type.hpp"

#include <array>

namespace touchpoint::webhook {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

}  // namespace

bool is_accepted_content_type(std::string_view value) noexcept {
  // The media type is everything before the first ';', without surrounding whitespace.
  std::string_view type = value.substr(0, value.find(';'));
  while (!type.empty() && is_space(type.front())) type.remove_prefix(1);
  while (!type.empty() && is_space(type.back())) type.remove_suffix(1);
  if (type.empty()) return value.find_first_not_of(" \t") == std::string_view::npos;  // "; charset=x" is not a type
  // application/x-www-form-urlencoded is what `curl -d '{...}'` sends for a
  // JSON body: refusing it would fail the most common first try. A real form
  // body then gets the parser's 400, which names the offending byte.
  static constexpr std::array<std::string_view, 9> kAccepted = {
      "application/json",        "text/json",         "application/x-ndjson",
      "application/ndjson",      "application/jsonl", "application/x-jsonl",
      "application/x-jsonlines", "text/plain",        "application/x-www-form-urlencoded"};
  for (std::string_view accepted : kAccepted)
    if (iequals(type, accepted)) return true;
  // application/<subtype>+json (RFC 6839 structured syntax suffix), e.g. application/cloudevents+json.
  constexpr std::string_view kApplication = "application/";
  if (type.size() > kApplication.size() + 5 && iequals(type.substr(0, kApplication.size()), kApplication) &&
      iends_with(type, "+json")) {
    std::string_view subtype = type.substr(kApplication.size());
    return subtype.find('/') == std::string_view::npos && subtype.find_first_of(" \t") == std::string_view::npos;
  }
  return false;
}

}  // namespace touchpoint::webhook
