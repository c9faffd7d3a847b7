#include "classify.hpp"

#include <array>
#include <cctype>

#include "text_util.hpp"

namespace tp_email::intake::detail {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

// Receivers that block for reputation or content often say so only in the
// text, under a generic 5.0.0 or even an address code.
constexpr std::array<std::string_view, 22> kPolicyPhrases = {"spam",
                                                             "blocklist",
                                                             "blacklist",
                                                             "block list",
                                                             "black list",
                                                             "denylist",
                                                             "reputation",
                                                             "spamhaus",
                                                             "barracuda",
                                                             "dnsbl",
                                                             "unsolicited",
                                                             "blocked",
                                                             "banned",
                                                             "rbl ",
                                                             "rbl:",
                                                             "sorbs",
                                                             "spamcop",
                                                             "junk mail",
                                                             "content rejected",
                                                             "policy violation",
                                                             "message rejected due to",
                                                             "listed at"};

// Texts that name a missing mailbox where the status code is generic.
constexpr std::array<std::string_view, 12> kUnknownPhrases = {
    "user unknown",     "unknown user",      "no such user",        "no such mailbox",
    "does not exist",   "mailbox not found", "invalid recipient",   "recipient unknown",
    "address rejected", "unknown recipient", "mailbox unavailable", "not a valid mailbox"};

template <std::size_t N>
bool contains_any(std::string_view text, const std::array<std::string_view, N>& phrases) {
  for (std::string_view p : phrases)
    if (ifind(text, p) != std::string_view::npos) return true;
  return false;
}

}  // namespace

std::string find_status(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '2' && c != '4' && c != '5') continue;
    if (i > 0 && (digit(text[i - 1]) || text[i - 1] == '.')) continue;
    std::size_t j = i + 1;
    if (j >= text.size() || text[j] != '.') continue;
    std::size_t k = j + 1;
    std::size_t subject_digits = 0;
    while (k < text.size() && digit(text[k]) && subject_digits < 4) ++k, ++subject_digits;
    if (subject_digits == 0 || subject_digits > 3 || k >= text.size() || text[k] != '.') continue;
    std::size_t m = k + 1;
    std::size_t detail_digits = 0;
    while (m < text.size() && digit(text[m]) && detail_digits < 4) ++m, ++detail_digits;
    if (detail_digits == 0 || detail_digits > 3) continue;
    if (m < text.size() && (digit(text[m]) || text[m] == '.')) continue;
    return std::string(text.substr(i, m - i));
  }
  return {};
}

bool looks_like_policy_block(std::string_view diagnostic) { return contains_any(diagnostic, kPolicyPhrases); }

std::string classify(std::string_view action_in, std::string_view status, std::string_view diagnostic) {
  const std::string action = to_lower(trim(action_in));
  if (action == "delivered" || action == "relayed" || action == "expanded") return "delivered";
  if (action == "delayed") return "bounce_soft";
  const char cls = status.empty() ? '\0' : status.front();
  if (action.empty()) {
    // No Action (a broken DSN): the status class alone decides.
    if (cls == '2') return "delivered";
    if (cls != '4' && cls != '5') return {};
  } else if (action != "failed") {
    return {};
  }
  if (looks_like_policy_block(diagnostic)) return "policy_block";
  if (cls == '4') return "bounce_soft";
  const std::string_view code = status.size() > 2 ? status.substr(2) : std::string_view();
  auto is = [&](std::string_view c) { return code == c; };
  auto subject = [&](std::string_view s) { return code.substr(0, s.size()) == s; };
  if (cls == '5') {
    if (subject("7.")) return "policy_block";
    if (is("1.7") || is("1.8")) return "policy_block";              // our sender address, not the recipient's
    if (is("2.2") || is("2.3") || is("3.4")) return "bounce_soft";  // mailbox full, message too large
    if (subject("1.") || is("4.4") || is("2.1")) return "bounce_hard";
  }
  if (contains_any(diagnostic, kUnknownPhrases)) return "bounce_hard";
  // A generic or unknown permanent failure is counted, not taken as proof
  // that the address is bad.
  return "bounce_soft";
}

}  // namespace tp_email::intake::detail
