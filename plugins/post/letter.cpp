#include "letter.hpp"

#include <array>

namespace touchpoint::post {
namespace {

using Json = nlohmann::json;

constexpr std::array<std::string_view, 19> kFields{
    "contact_id",     "profile_id",     "salutation", "name", "first_name", "last_name", "address_line_1",
    "address_line_2", "address_line_3", "street",     "zip",  "city",       "country",   "campaign",
    "offer",          "template",       "in_doubt",   "row",  "purpose"};

constexpr std::array<std::string_view, 3> kPrefixes{"vars.", "to.", "customer."};

std::string text(const Json* v) {
  if (v == nullptr) return {};
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number() || v->is_boolean()) return v->dump();
  return {};
}

const Json* member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string join(std::initializer_list<std::string> parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out.push_back(' ');
    out += p;
  }
  return out;
}

// A letter shop prints what it gets: a control character in an address is a data error.
bool has_control(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7F) return true;
  return false;
}

}  // namespace

bool is_export_field(std::string_view field) {
  for (std::string_view f : kFields)
    if (f == field) return true;
  for (std::string_view p : kPrefixes)
    if (field.size() > p.size() && field.substr(0, p.size()) == p) return true;
  return false;
}

bool Letter::parse(std::string_view record_id, std::string_view record_key, std::string_view data,
                   std::string_view meta, std::string& error) {
  data_ = Json::parse(data, nullptr, false);
  if (data_.is_discarded() || !data_.is_object()) {
    error = "data is not a JSON object";
    return false;
  }
  in_doubt_ = false;
  if (!meta.empty()) {
    const Json m = Json::parse(meta, nullptr, false);
    const Json* d = m.is_discarded() ? nullptr : member(m, "in_doubt");
    in_doubt_ = d != nullptr && d->is_boolean() && d->get<bool>();
  }
  contact_id_ = text(member(data_, "contact_id"));
  if (contact_id_.empty()) contact_id_ = std::string(record_id);
  if (contact_id_.empty()) {
    error = "no contact id (data.contact_id and the record id are empty)";
    return false;
  }
  profile_id_ = std::string(record_key);
  if (profile_id_.empty()) profile_id_ = text(member(data_.value("customer", Json::object()), "profile_id"));
  if (const Json* ch = member(data_, "channel"); ch != nullptr && ch->is_string() && ch->get<std::string>() != "post") {
    error = "channel is \"" + ch->get<std::string>() + "\", not post";
    return false;
  }
  const Json* to = member(data_, "to");
  if (to == nullptr || !to->is_object()) {
    error = "no usable postal address: data.to is not an address object";
    return false;
  }
  for (const char* k : {"street", "zip", "city"}) {
    const Json* v = member(*to, k);
    if (v == nullptr || !v->is_string() ||
        v->get_ref<const std::string&>().find_first_not_of(" \t") == std::string::npos) {
      error = std::string("no usable postal address: data.to.") + k + " is missing or empty";
      return false;
    }
  }
  for (const char* k : {"street", "zip", "city", "country"})
    if (has_control(address(k))) {
      error = std::string("data.to.") + k + " contains control characters";
      return false;
    }
  for (const char* k : {"salutation", "first_name", "last_name"})
    if (has_control(customer(k))) {
      error = std::string("data.customer.") + k + " contains control characters";
      return false;
    }
  return true;
}

std::string Letter::customer(const char* key) const {
  const Json* c = member(data_, "customer");
  return c == nullptr ? std::string() : text(member(*c, key));
}

std::string Letter::address(const char* key) const {
  const Json* a = member(data_, "to");
  return a == nullptr ? std::string() : text(member(*a, key));
}

std::string Letter::value(std::string_view f, uint64_t row) const {
  if (f == "contact_id") return contact_id_;
  if (f == "profile_id") return profile_id_;
  if (f == "salutation" || f == "first_name" || f == "last_name") return customer(std::string(f).c_str());
  if (f == "name") return join({customer("first_name"), customer("last_name")});
  if (f == "address_line_1") return join({customer("salutation"), customer("first_name"), customer("last_name")});
  if (f == "address_line_2") return address("street");
  if (f == "address_line_3") return join({address("zip"), address("city")});
  if (f == "street" || f == "zip" || f == "city" || f == "country") return address(std::string(f).c_str());
  if (f == "campaign" || f == "offer" || f == "template" || f == "purpose") return text(member(data_, std::string(f)));
  if (f == "in_doubt") return in_doubt_ ? "1" : "";
  if (f == "row") return std::to_string(row);
  for (std::string_view p : kPrefixes) {
    if (f.substr(0, p.size()) != p) continue;
    const std::string_view rest = f.substr(p.size());
    const Json* parent = member(data_, p.substr(0, p.size() - 1));
    return parent == nullptr ? std::string() : text(member(*parent, rest));
  }
  return {};
}

}  // namespace touchpoint::post
