#include "customer/record_fields.hpp"

#include <cmath>

#include "util/time_text.hpp"

namespace touchpoint::core::customer {
namespace {

constexpr size_t kMaxFieldBytes = 256;

bool name_like(const std::string& s) {
  if (s.empty() || s.size() > kMaxFieldBytes) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
          c == '.' || c == ':'))
      return false;
  return true;
}

/// An optional string field; false (with *problem) when present but not a short string.
bool text(const Json& data, const char* key, std::string& out, std::string* problem, bool name = false) {
  auto it = data.find(key);
  if (it == data.end() || it->is_null()) return true;
  if (!it->is_string()) {
    *problem = std::string("data.") + key + " must be a string, not " + it->type_name();
    return false;
  }
  out = it->get<std::string>();
  if (out.size() > kMaxFieldBytes) {
    *problem = std::string("data.") + key + " is longer than " + std::to_string(kMaxFieldBytes) + " bytes";
    return false;
  }
  if (name && !out.empty() && !name_like(out)) {
    *problem =
        std::string("data.") + key + " '" + out.substr(0, 64) + "' may only use letters, digits, '_', '-', '.', ':'";
    return false;
  }
  return true;
}

bool time_field(const Json& data, const char* key, int64_t& out, std::string* problem) {
  auto it = data.find(key);
  if (it == data.end() || it->is_null()) return true;
  std::optional<int64_t> t = time_of(*it);
  if (!t) {
    *problem = std::string("data.") + key + " must be an RFC 3339 date-time or integer milliseconds";
    return false;
  }
  out = *t;
  return true;
}

}  // namespace

bool known_channel(const std::string& c) { return c == "email" || c == "phone" || c == "sms" || c == "post"; }

TypedFields typed_fields(const Record& r, std::string* problem) {
  TypedFields f;
  f.at = r.ts_ms;
  const Json& d = r.data;
  problem->clear();
  if (r.type == "event") {
    if (!text(d, "event_type", f.event_type, problem, true) || !text(d, "channel", f.channel, problem, true) ||
        !text(d, "purpose", f.purpose, problem, true) || !text(d, "product", f.product, problem) ||
        !text(d, "category", f.category, problem) || !text(d, "campaign", f.campaign, problem) ||
        !text(d, "offer", f.offer, problem) || !time_field(d, "at", f.at, problem))
      return f;
    if (f.event_type.empty()) *problem = "an event needs data.event_type (purchase, branch_visit, web_visit, ...)";
    if (auto it = d.find("revenue"); it != d.end() && !it->is_null()) {
      if (!it->is_number()) {
        *problem = "data.revenue must be a number";
        return f;
      }
      f.revenue = it->get<double>();
      // Reports add revenues up: one hostile 1e308 would make every sum infinite.
      if (!std::isfinite(f.revenue) || std::fabs(f.revenue) > 1e15) {
        *problem = "data.revenue must be a number between -10^15 and 10^15";
        return f;
      }
      f.has_revenue = true;
    }
  } else if (r.type == "consent") {
    if (!text(d, "channel", f.channel, problem, true) || !text(d, "purpose", f.purpose, problem, true) ||
        !text(d, "status", f.status, problem) || !time_field(d, "at", f.at, problem))
      return f;
    if (!known_channel(f.channel))
      *problem = "data.channel must be email, phone, sms or post, not '" + f.channel.substr(0, 64) + "'";
    else if (f.purpose.empty())
      *problem = "a consent needs data.purpose (marketing, service, ...)";
    else if (f.status != "granted" && f.status != "denied" && f.status != "revoked")
      *problem = "data.status must be granted, denied or revoked, not '" + f.status.substr(0, 64) + "'";
    if (auto it = d.find("evidence"); it != d.end()) f.evidence = *it;
  } else if (r.type == "suppression") {
    if (!text(d, "list", f.list, problem, true) || !text(d, "reason", f.reason, problem) ||
        !text(d, "action", f.action, problem) || !time_field(d, "until", f.until, problem))
      return f;
    if (f.list.empty()) *problem = "a suppression needs data.list (the name of the list)";
    if (f.action.empty()) f.action = "add";
    if (f.action != "add" && f.action != "remove")
      *problem = "data.action must be add or remove, not '" + f.action.substr(0, 64) + "'";
    if (auto it = d.find("channels"); it != d.end() && !it->is_null()) {
      if (!it->is_array()) {
        *problem = "data.channels must be a list of channels";
        return f;
      }
      for (const Json& c : *it) {
        if (!c.is_string() || !known_channel(c.get<std::string>())) {
          *problem = "data.channels may only hold email, phone, sms, post";
          return f;
        }
        f.channels.push_back(c.get<std::string>());
      }
    }
    auto c = d.find("customer");
    if (c == d.end())
      *problem = "a suppression needs data.customer (an e-mail, kind:value or profile id)";
    else if (!c->is_string() && !c->is_number_integer())
      *problem = "data.customer must be a string (an e-mail, kind:value or profile:N) or a profile id";
  }
  return f;
}

}  // namespace touchpoint::core::customer
