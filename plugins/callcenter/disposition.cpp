#include "disposition.hpp"

#include <charconv>
#include <cmath>
#include <optional>

#include "outcomes.hpp"
#include "text.hpp"
#include "tp_common/rfc3339.hpp"

namespace touchpoint::callcenter {

namespace {

// 9999-12-31T23:59:59.999Z: RFC 3339 has four-digit years, so epoch values stay within them too.
constexpr int64_t kMaxEpochMs = 253402300799999;
constexpr double kMaxRevenue = 1e12;

using Result = std::variant<Disposition, DispositionError>;

const FieldValue* find(const Fields& f, std::string_view key) {
  auto it = f.find(key);
  if (it == f.end() || (it->second.type == FieldValue::Type::text && it->second.text.empty())) return nullptr;
  return &it->second;
}

std::optional<DispositionError> check_text(std::string_view key, const FieldValue& v, size_t max, bool multiline) {
  if (v.type == FieldValue::Type::other) return DispositionError{std::string(key), std::string(key) + " must be text"};
  if (v.text.size() > max)
    return DispositionError{std::string(key), std::string(key) + " is " + std::to_string(v.text.size()) +
                                                  " bytes (at most " + std::to_string(max) + ")"};
  if (!valid_utf8(v.text)) return DispositionError{std::string(key), std::string(key) + " is not valid UTF-8"};
  if (has_control(v.text, multiline))
    return DispositionError{std::string(key), std::string(key) + " holds control characters (NUL, ESC, ...)"};
  return std::nullopt;
}

// RFC 3339 text or epoch milliseconds; returns the JSON value to write.
std::variant<std::string, DispositionError> check_time(std::string_view key, const FieldValue& v) {
  auto bad = [&] {
    return DispositionError{std::string(key), std::string(key) + " '" + excerpt(v.text, 40) +
                                                  "' is not an RFC 3339 time (YYYY-MM-DDTHH:MM:SSZ, years up to "
                                                  "9999) or epoch milliseconds"};
  };
  if (v.type == FieldValue::Type::other) return bad();
  if (v.text.size() > 64) return bad();
  const bool all_digits = !v.text.empty() && v.text.find_first_not_of("0123456789") == std::string::npos;
  if (all_digits) {
    int64_t ms = 0;
    auto [ptr, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), ms);
    if (ec != std::errc() || ptr != v.text.data() + v.text.size() || ms > kMaxEpochMs) return bad();
    return v.text;
  }
  if (v.type == FieldValue::Type::number || !tp_common::parse_rfc3339_ms(v.text)) return bad();
  std::string out;
  append_json_string(out, v.text);
  return out;
}

std::variant<std::string, DispositionError> check_revenue(const FieldValue& v) {
  auto bad = [&](const std::string& why) { return DispositionError{"revenue", "revenue " + why}; };
  if (v.type == FieldValue::Type::other) return bad("must be a number");
  std::string_view s = v.text;
  if (s.size() > 64) return bad("is not a number");
  // from_chars also takes "nan" and "inf": only plain decimal notation is a sum of money.
  if (s.find_first_not_of("+-0123456789.eE") != std::string_view::npos)
    return bad("'" + excerpt(s, 40) + "' is not a number (digits, '.' as the decimal separator)");
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec == std::errc::result_out_of_range) return bad("'" + excerpt(s, 40) + "' is out of range");
  if (ec != std::errc() || ptr != s.data() + s.size()) return bad("'" + excerpt(s, 40) + "' is not a number");
  if (!std::isfinite(value) || std::fabs(value) > kMaxRevenue)
    return bad("'" + excerpt(s, 40) + "' is out of range (at most 1e12)");
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, res.ptr);
}

void add(std::string& out, std::string_view key, std::string_view json_value) {
  out.push_back(',');
  append_json_string(out, key);
  out.push_back(':');
  out.append(json_value);
}

std::string quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string allowed_outcomes() {
  std::string out;
  for (auto o : kOutcomes) {
    if (!out.empty()) out += ", ";
    out += o;
  }
  return out;
}

}  // namespace

Result build_disposition(const Fields& fields, const OutcomeMap& outcome_map) {
  const FieldValue* contact = find(fields, "contact_id");
  if (contact == nullptr) return DispositionError{"contact_id", "contact_id is missing"};
  if (auto e = check_text("contact_id", *contact, kMaxIdBytes, false)) return *e;

  const FieldValue* outcome_field = find(fields, "outcome");
  if (outcome_field == nullptr) return DispositionError{"outcome", "outcome is missing"};
  if (auto e = check_text("outcome", *outcome_field, kMaxShortText, false)) return *e;
  const std::string& code = outcome_field->text;
  std::string outcome;
  if (auto it = outcome_map.find(code); it != outcome_map.end()) {
    outcome = it->second;
  } else if (is_outcome(code)) {
    outcome = code;
  } else {
    return DispositionError{"outcome", "unknown outcome '" + excerpt(code, 64) + "' (known: " + allowed_outcomes() +
                                           "; map provider codes with outcome_map)"};
  }

  std::string data = "{\"contact_id\":" + quoted(contact->text) + ",\"channel\":\"phone\",\"kind\":\"call_outcome\"";
  if (const FieldValue* at = find(fields, "at")) {
    auto t = check_time("at", *at);
    if (auto* e = std::get_if<DispositionError>(&t)) return *e;
    add(data, "at", std::get<std::string>(t));
  }
  std::string detail = "{\"outcome\":" + quoted(outcome);
  if (outcome != code) add(detail, "provider_outcome", quoted(code));
  const FieldValue* callback = find(fields, "callback_at");
  if (callback != nullptr) {
    auto t = check_time("callback_at", *callback);
    if (auto* e = std::get_if<DispositionError>(&t)) return *e;
    add(detail, "callback_at", std::get<std::string>(t));
  } else if (outcome == "callback") {
    return DispositionError{"callback_at", "callback_at is required for outcome callback"};
  }
  for (std::string_view key : {"product", "category"}) {
    if (const FieldValue* v = find(fields, key)) {
      if (v->type == FieldValue::Type::number) {
        add(detail, key, quoted(v->text));
        continue;
      }
      if (auto e = check_text(key, *v, kMaxShortText, false)) return *e;
      add(detail, key, quoted(v->text));
    }
  }
  if (const FieldValue* v = find(fields, "revenue")) {
    auto r = check_revenue(*v);
    if (auto* e = std::get_if<DispositionError>(&r)) return *e;
    add(detail, "revenue", std::get<std::string>(r));
  }
  if (const FieldValue* v = find(fields, "note")) {
    if (auto e = check_text("note", *v, kMaxNoteBytes, true)) return *e;
    add(detail, "note", quoted(v->text));
  }
  if (const FieldValue* v = find(fields, "agent")) {
    if (auto e = check_text("agent", *v, kMaxShortText, false)) return *e;
    add(detail, "agent", quoted(v->text));
  }
  detail.push_back('}');
  add(data, "detail", detail);
  data.push_back('}');
  return Disposition{contact->text, std::move(data)};
}

}  // namespace touchpoint::callcenter
