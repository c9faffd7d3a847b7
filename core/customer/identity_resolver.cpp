#include "customer/identity_resolver.hpp"

#include <algorithm>
#include <cctype>

namespace touchpoint::core::customer {
namespace {

constexpr size_t kMaxIdentityBytes = 1024;

// Values that identify nobody, whatever the kind (compared lower-cased).
constexpr std::string_view kPlaceholders[] = {"null", "none", "nil",   "unknown",  "n/a",       "na",
                                              "-",    "--",   "-1",    "0",        "undefined", "test",
                                              "xxx",  "tbd",  "keine", "unbekannt"};
// E-mail addresses that identify nobody.
constexpr std::string_view kPlaceholderEmails[] = {
    "test@test.com", "test@test.de", "test@example.com", "noreply@example.com", "no-reply@example.com",
    "a@b.c",         "x@x.x",        "info@example.com"};

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool all_same_digit(std::string_view digits) {
  return !digits.empty() && std::all_of(digits.begin(), digits.end(), [&](char c) { return c == digits[0]; });
}

/// E.164: '+', then 7 to 15 digits, no leading zero. Separators that people
/// type (spaces, dashes, dots, slashes, parentheses) are dropped; a leading
/// "00" is the international prefix.
std::optional<std::string> e164(std::string_view raw, std::string* why) {
  if (raw.size() > 64) {
    if (why) *why = "longer than a phone number can be";
    return std::nullopt;
  }
  std::string out;
  for (char c : raw) {
    if (c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')') continue;
    out.push_back(c);
  }
  if (out.rfind("00", 0) == 0) out = "+" + out.substr(2);
  if (out.size() < 8 || out.size() > 16 || out[0] != '+' || out[1] == '0' ||
      !std::all_of(out.begin() + 1, out.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (why) *why = "not an E.164 number (normalise it with normalize_phone in the pipeline)";
    return std::nullopt;
  }
  if (all_same_digit(std::string_view(out).substr(1)) || all_same_digit(std::string_view(out).substr(3))) {
    if (why) *why = "a placeholder number";
    return std::nullopt;
  }
  return out;
}

bool plausible_email(const std::string& s) {
  const size_t at = s.find('@');
  return s.size() <= 254 && at != std::string::npos && at > 0 && at + 1 < s.size() &&
         s.find('@', at + 1) == std::string::npos && s.find_first_of(" \t\r\n\"<>,;") == std::string::npos;
}

}  // namespace

IdentityResolver::IdentityResolver(const CustomerConfig& config) {
  for (const auto& [name, spec] : config.identities) {
    Kind k;
    k.spec = spec;
    for (std::string& b : k.spec.blocked) b = lower(trim(b));
    for (const std::string& p : spec.blocked_patterns) k.patterns.push_back(std::make_unique<RE2>(p, RE2::Quiet));
    kinds_.emplace_back(name, std::move(k));
  }
}

const IdentityResolver::Kind* IdentityResolver::kind_of(std::string_view kind) const {
  const Kind* wildcard = nullptr;
  for (const auto& [name, k] : kinds_) {
    if (name == kind) return &k;
    if (name == "ext:*" && kind.rfind("ext:", 0) == 0) wildcard = &k;
  }
  return wildcard;
}

int IdentityResolver::max_per_profile(std::string_view kind) const {
  const Kind* k = kind_of(kind);
  return k ? k->spec.max_per_profile : 0;
}

bool IdentityResolver::blocked(const Kind* k, const std::string& value) const {
  const std::string l = lower(value);
  for (std::string_view p : kPlaceholders)
    if (l == p) return true;
  if (k == nullptr) return false;
  for (const std::string& b : k->spec.blocked)
    if (l == b) return true;
  for (const auto& re : k->patterns)
    if (re->ok() && RE2::FullMatch(value, *re)) return true;
  return false;
}

std::optional<IdentityKey> IdentityResolver::normalize(std::string_view kind, std::string_view raw,
                                                       std::string* why) const {
  if (raw.size() > kMaxIdentityBytes) {
    if (why) *why = "longer than an identity can be";
    return std::nullopt;
  }
  std::string value = trim(raw);
  if (kind == "email") {
    value = lower(std::move(value));
    if (!plausible_email(value)) {
      if (why) *why = "not an e-mail address";
      return std::nullopt;
    }
    for (std::string_view p : kPlaceholderEmails)
      if (value == p) {
        if (why) *why = "a placeholder address";
        return std::nullopt;
      }
  } else if (kind == "phone") {
    std::optional<std::string> n = e164(value, why);
    if (!n) return std::nullopt;
    value = std::move(*n);
  } else if (kind.rfind("ext:", 0) != 0 || kind.size() == 4) {
    if (why) *why = "unknown identity kind";
    return std::nullopt;
  }
  if (value.empty()) {
    if (why) *why = "empty";
    return std::nullopt;
  }
  if (blocked(kind_of(kind), value)) {
    if (why) *why = "a blocked value";
    return std::nullopt;
  }
  return IdentityKey{std::string(kind), std::move(value)};
}

std::vector<IdentityKey> IdentityResolver::extract(const Record& r, size_t* blocked_count) const {
  std::vector<IdentityKey> out;
  auto add = [&](std::string_view kind, std::string_view value) {
    std::optional<IdentityKey> k = normalize(kind, value);
    if (!k) {
      if (blocked_count && !trim(value).empty()) ++*blocked_count;
      return;
    }
    if (std::find(out.begin(), out.end(), *k) == out.end()) out.push_back(std::move(*k));
  };
  auto string_of = [](const Json& j) -> std::optional<std::string> {
    if (j.is_string()) return j.get<std::string>();
    if (j.is_number_integer()) return j.dump();
    return std::nullopt;
  };
  if (!r.key.empty()) add("ext:" + r.source, r.key);
  if (auto it = r.data.find("external_ids"); it != r.data.end() && it->is_object()) {
    for (const auto& [system, id] : it->items())
      if (auto s = string_of(id)) add("ext:" + system, *s);
  }
  if (auto it = r.data.find("customer"); it != r.data.end()) {
    if (auto s = string_of(*it)) {
      CustomerRef ref = parse_reference(*s);
      if (ref.identity && std::find(out.begin(), out.end(), *ref.identity) == out.end())
        out.push_back(std::move(*ref.identity));
    }
  }
  if (auto it = r.data.find("email"); it != r.data.end() && it->is_string()) add("email", it->get<std::string>());
  if (auto it = r.data.find("phone"); it != r.data.end() && it->is_string()) add("phone", it->get<std::string>());
  return out;
}

CustomerRef IdentityResolver::parse_reference(std::string_view ref_raw) const {
  CustomerRef out;
  const std::string ref = trim(ref_raw);
  if (ref.empty()) {
    out.error = "the customer reference is empty";
    return out;
  }
  if (ref.size() > 1024) {
    out.error = "the customer reference is longer than 1024 bytes";
    return out;
  }
  std::string kind, value;
  if (ref.find_first_not_of("0123456789") == std::string::npos) {
    if (ref.size() > 18) {
      out.error = "profile id out of range";
      return out;
    }
    out.profile_id = std::stoll(ref);
    if (out.profile_id == 0) out.error = "profile id 0 does not exist";
    return out;
  }
  if (ref.rfind("email:", 0) == 0 || ref.rfind("phone:", 0) == 0) {
    kind = ref.substr(0, 5);
    value = ref.substr(6);
  } else if (ref.rfind("ext:", 0) == 0) {
    const size_t second = ref.find(':', 4);
    if (second == std::string::npos) {
      out.error = "an external id reference needs the form ext:<system>:<id>";
      return out;
    }
    kind = ref.substr(0, second);
    value = ref.substr(second + 1);
  } else if (ref.rfind("profile:", 0) == 0) {
    return parse_reference(ref.substr(8));
  } else if (ref[0] == '+') {
    kind = "phone";
    value = ref;
  } else if (ref.find('@') != std::string::npos) {
    kind = "email";
    value = ref;
  } else {
    out.error = "'" + ref.substr(0, 64) +
                "' is not an e-mail address, a phone number (+...), kind:value (ext:crm:K-1) or a profile id";
    return out;
  }
  std::string why;
  out.identity = normalize(kind, value, &why);
  if (!out.identity) out.error = kind + " '" + value.substr(0, 64) + "' cannot identify a customer: " + why;
  return out;
}

}  // namespace touchpoint::core::customer
