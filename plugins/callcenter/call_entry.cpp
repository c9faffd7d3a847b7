#include "call_entry.hpp"

#include <simdjson.h>

#include <optional>

#include "text.hpp"

namespace touchpoint::callcenter {

namespace {

namespace dom = simdjson::dom;

// Field values go into CSV cells and provider systems: keep them single-line and bounded.
constexpr size_t kMaxFieldBytes = 1024;

// A string or number member as text; "" when missing, null or of another type.
std::string text_of(dom::object obj, std::string_view key) {
  dom::element e;
  if (obj.at_key(key).get(e) != simdjson::SUCCESS) return {};
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  int64_t i = 0;
  if (e.get_int64().get(i) == simdjson::SUCCESS) return std::to_string(i);
  double d = 0;
  if (e.get_double().get(d) == simdjson::SUCCESS) return simdjson::to_string(e);
  return {};
}

std::optional<dom::object> object_of(dom::object obj, std::string_view key) {
  dom::object o;
  if (obj.at_key(key).get_object().get(o) != simdjson::SUCCESS) return std::nullopt;
  return o;
}

// Control characters (tabs and line breaks too) become spaces: a call list row is one line for
// the agent's screen, and a value can never break the row.
std::string clean(std::string s) {
  if (s.size() > kMaxFieldBytes) {
    size_t cut = kMaxFieldBytes;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0u) == 0x80u) --cut;
    s.resize(cut);
  }
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20u || c == 0x7F) c = ' ';
  return s;
}

}  // namespace

std::string_view CallEntry::column(std::string_view n) const {
  if (n == "contact_id") return contact_id;
  if (n == "phone") return phone;
  if (n == "name") return name;
  if (n == "first_name") return first_name;
  if (n == "last_name") return last_name;
  if (n == "campaign") return campaign;
  if (n == "script") return script;
  if (n == "priority") return priority;
  if (n == "window_from") return window_from;
  if (n == "window_to") return window_to;
  if (n == "timezone") return timezone;
  return {};
}

bool is_e164(std::string_view s) noexcept {
  if (s.size() < 8 || s.size() > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9') return false;
  for (size_t i = 2; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

std::variant<CallEntry, std::string> parse_call_entry(std::string_view id, std::string_view data,
                                                      std::string_view meta) {
  dom::parser parser;
  dom::element root;
  if (parser.parse(data.data(), data.size()).get(root) != simdjson::SUCCESS)
    return std::string("data is not valid JSON");
  dom::object d;
  if (root.get_object().get(d) != simdjson::SUCCESS) return std::string("data is not a JSON object");

  const std::string channel = text_of(d, "channel");
  if (!channel.empty() && channel != "phone")
    return "the contact is for channel '" + excerpt(channel, 32) + "', not 'phone'";

  CallEntry e;
  e.contact_id = text_of(d, "contact_id");
  if (e.contact_id.empty()) e.contact_id = std::string(id);
  if (e.contact_id.empty()) return std::string("no contact_id and no record id");
  if (e.contact_id.size() > 256 || has_control(e.contact_id, false) || !valid_utf8(e.contact_id))
    return std::string("contact_id is longer than 256 bytes or holds control characters");

  dom::element to;
  std::string_view phone;
  if (d.at_key("to").get(to) != simdjson::SUCCESS || to.is_null())
    return std::string("no phone number (data.to is missing)");
  if (to.get_string().get(phone) != simdjson::SUCCESS) return std::string("data.to is not a string");
  if (!is_e164(phone))
    return "data.to '" + mask_phone(excerpt(phone, 32)) + "' is not an E.164 number (+ and 7-15 digits)";
  e.phone = std::string(phone);

  if (auto customer = object_of(d, "customer")) {
    e.first_name = clean(text_of(*customer, "first_name"));
    e.last_name = clean(text_of(*customer, "last_name"));
    e.name = clean(text_of(*customer, "name"));
  }
  if (e.name.empty()) {
    e.name = e.first_name;
    if (!e.name.empty() && !e.last_name.empty()) e.name += ' ';
    e.name += e.last_name;
  }
  e.campaign = clean(text_of(d, "campaign"));
  e.script = clean(text_of(d, "template"));
  if (auto vars = object_of(d, "vars")) e.priority = clean(text_of(*vars, "priority"));
  if (auto window = object_of(d, "calling_window")) {
    e.timezone = clean(text_of(*window, "timezone"));
    e.window_from = clean(text_of(*window, "from"));
    e.window_to = clean(text_of(*window, "to"));
  }
  if (!meta.empty()) {
    dom::parser meta_parser;
    dom::element m;
    bool flag = false;
    if (meta_parser.parse(meta.data(), meta.size()).get(m) == simdjson::SUCCESS &&
        m["in_doubt"].get_bool().get(flag) == simdjson::SUCCESS)
      e.in_doubt = flag;
  }
  return e;
}

std::string to_json(const CallEntry& e) {
  std::string out = "{";
  bool first = true;
  auto field = [&](std::string_view key, std::string_view value) {
    if (value.empty()) return;
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, key);
    out.push_back(':');
    append_json_string(out, value);
  };
  field("contact_id", e.contact_id);
  field("phone", e.phone);
  field("name", e.name);
  field("first_name", e.first_name);
  field("last_name", e.last_name);
  field("campaign", e.campaign);
  field("script", e.script);
  field("priority", e.priority);
  if (!e.timezone.empty() || !e.window_from.empty() || !e.window_to.empty()) {
    out.append(",\"calling_window\":{");
    first = true;
    field("timezone", e.timezone);
    field("from", e.window_from);
    field("to", e.window_to);
    out.push_back('}');
  }
  if (e.in_doubt) out.append(",\"in_doubt\":true");
  out.push_back('}');
  return out;
}

}  // namespace touchpoint::callcenter
