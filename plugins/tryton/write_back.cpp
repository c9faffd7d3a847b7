#include "write_back.hpp"

#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "tryton_rows.hpp"
#include "tryton_time.hpp"

namespace touchpoint::tryton {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr size_t kMaxText = 256;  // of each value taken from the record into Tryton

std::string str(const Json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  std::string s = it->get<std::string>();
  if (s.size() > kMaxText) s.resize(kMaxText);
  return s;
}

std::string lower_trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  s.erase(0, i);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string channel_label(const std::string& channel) {
  if (channel == "email") return "e-mail";
  if (channel == "sms") return "SMS";
  return channel;
}

std::string decimal_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// Midnight UTC of an RFC 3339 date-time's day; 0 (1970-01-01) when it is none.
int64_t day_ms(const std::string& at) {
  int y = 0, m = 0, d = 0;
  if (at.size() < 10 || std::sscanf(at.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
    return 0;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  return std::max<int64_t>(0, static_cast<int64_t>(timegm(&tm)) * 1000);
}

std::vector<int64_t> ints(const Json& v) {
  std::vector<int64_t> out;
  if (v.is_array())
    for (const Json& x : v)
      if (x.is_number_integer()) out.push_back(x.get<int64_t>());
  return out;
}

}  // namespace

bool same_phone(std::string_view a, std::string_view b, const std::string& region) {
  // Longer than any phone number: not one (and not worth parsing).
  if (a.size() > 64 || b.size() > 64) return false;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  auto e164 = [&](std::string_view raw) {
    PhoneNumber n;
    std::string out;
    if (util.Parse(std::string(raw), region, &n) == PhoneNumberUtil::NO_PARSING_ERROR)
      util.Format(n, PhoneNumberUtil::E164, &out);
    return out;
  };
  const std::string x = e164(a), y = e164(b);
  return !x.empty() && x == y;
}

std::string note_text(const Json& feedback) {
  const Json& response = feedback["response"];
  const Json& contact = feedback["contact"];
  const Json& detail = response.value("detail", Json::object());
  const std::string kind = str(response, "kind");
  std::string sub = str(detail, "outcome");
  if (sub.empty()) sub = str(detail, "reason");
  std::string text = "[touchpoint " + str(response, "id") + "] " + kind + (sub.empty() ? "" : " " + sub) + " on " +
                     channel_label(str(contact, "channel")) + " at " + str(response, "at");
  if (std::string c = str(contact, "campaign"); !c.empty()) text += ", campaign " + c;
  if (std::string o = str(contact, "offer"); !o.empty()) text += ", offer " + o;
  if (std::string s = str(detail, "status"); !s.empty()) text += "\nstatus " + s;
  if (std::string d = str(detail, "diagnostic"); !d.empty()) text += ": " + d;
  if (std::string n = str(detail, "note"); !n.empty()) text += "\nnote: " + n;
  if (std::string cb = str(detail, "callback_at"); !cb.empty()) text += "\ncallback at " + cb;
  if (std::string p = str(detail, "product"); !p.empty()) text += "\nproduct " + p;
  if (auto it = detail.find("revenue"); it != detail.end() && it->is_number())
    text += ", revenue " + decimal_text(it->get<double>());
  text += "\ncontact " + str(contact, "id");
  return text;
}

WriteBackResult WriteBack::apply(std::string_view feedback_json) {
  const Json f = Json::parse(feedback_json, nullptr, false);
  if (f.is_discarded() || !f.is_object()) throw BadFeedback("the feedback record's data is not a JSON object");
  for (const char* key : {"customer", "response", "contact"})
    if (!f.contains(key) || !f[key].is_object()) throw BadFeedback("data." + std::string(key) + " must be an object");
  if (f.contains("effects") && !f["effects"].is_array()) throw BadFeedback("data.effects must be a list");
  if (str(f["response"], "id").empty() || str(f["response"], "kind").empty())
    throw BadFeedback("data.response needs an id and a kind");
  WriteBackResult result;
  const Json& identities = f["customer"].value("identities", Json::object());
  if (auto it = identities.find("ext:" + config_.system); it != identities.end() && it->is_array())
    for (const Json& v : *it) {
      if (!v.is_string()) continue;
      const std::string& s = v.get_ref<const std::string&>();
      if (s.empty() || s.size() > 18 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw BadFeedback("ext:" + config_.system + " identity '" + s.substr(0, 64) + "' is not a Tryton party id");
      result.parties.push_back(std::stoll(s));
    }
  for (int64_t party : result.parties) result.writes += apply_to_party(party, f);
  return result;
}

int WriteBack::apply_to_party(int64_t party, const Json& f) {
  const Json found =
      rpc_.model("party.party", "search", Json::array({Json::array({Json::array({"id", "=", party})}), 0, 1, Json()}),
                 Json{{"active_test", false}});
  if (!found.is_array() || found.empty())
    throw TrytonError("MissingParty", "tryton: party " + std::to_string(party) + " is not in Tryton (deleted?)");
  int writes = 0;
  for (const Json& e : f.value("effects", Json::array())) {
    const std::string what = str(e, "effect");
    if (what == "invalidate_channel") {
      writes += invalidate(party, e, f);
    } else if (what == "revoke_consent" && config_.write_back.consent_categories) {
      writes += add_category(
          party, config_.write_back.category_prefix + "no " + channel_label(str(e, "channel")) + " marketing");
    } else if (what == "purchase") {
      writes += opportunity(party, e, f);
    }
  }
  if (config_.write_back.notes.count(str(f["response"], "kind"))) writes += note(party, f);
  return writes;
}

int WriteBack::invalidate(int64_t party, const Json& e, const Json& f) {
  const std::string channel = str(e, "channel");
  const Json value = e.value("value", Json());
  const std::string marker =
      "touchpoint: invalid since " + str(f["response"], "at").substr(0, 10) + " (" + str(e, "reason") + ")";
  const Json context{{"active_test", false}};
  if (channel == "post") {
    if (!value.is_object()) return 0;  // which address is unknown: the note says it
    const Json rows = rpc_.model("party.address", "search_read",
                                 Json::array({Json::array({Json::array({"party", "=", party})}), 0, 1000, Json(),
                                              Json::array({"street", "postal_code", "city", "active"})}),
                                 context);
    int writes = 0;
    for (const Json& a : rows) {
      if (!a.is_object() || !a.value("id", Json()).is_number_integer() || !is_active(a)) continue;
      if (lower_trimmed(str(a, "street")) != lower_trimmed(str(value, "street")) ||
          lower_trimmed(str(a, "postal_code")) != lower_trimmed(str(value, "zip")) ||
          lower_trimmed(str(a, "city")) != lower_trimmed(str(value, "city")))
        continue;
      if (config_.write_back.invalid == WriteBackConfig::Invalid::comment) continue;  // addresses have no comment
      rpc_.model("party.address", "write", Json::array({Json::array({a.value("id", Json())}), Json{{"active", false}}}),
                 context);
      ++writes;
    }
    return writes;
  }
  if (!value.is_string()) return 0;
  const std::string wanted = value.get<std::string>();
  const Json rows = rpc_.model("party.contact_mechanism", "search_read",
                               Json::array({Json::array({Json::array({"party", "=", party})}), 0, 1000, Json(),
                                            Json::array({"type", "value", "active", "comment"})}),
                               context);
  int writes = 0;
  for (const Json& m : rows) {
    if (!m.is_object() || !m.value("id", Json()).is_number_integer()) continue;
    const std::string type = str(m, "type");
    const bool match = channel == "email" ? type == "email" && lower_trimmed(str(m, "value")) == lower_trimmed(wanted)
                                          : (type == "phone" || type == "mobile") &&
                                                same_phone(str(m, "value"), wanted, config_.default_region);
    if (!match) continue;
    const std::string comment = m.value("comment", Json()).is_string() ? m["comment"].get<std::string>() : "";
    const bool commented = comment.find(marker) != std::string::npos;
    Json change = Json::object();
    if (config_.write_back.invalid == WriteBackConfig::Invalid::deactivate && is_active(m)) change["active"] = false;
    if (!commented && (is_active(m) || config_.write_back.invalid == WriteBackConfig::Invalid::comment))
      change["comment"] = comment.empty() ? marker : comment + "\n" + marker;
    if (change.empty()) continue;  // done before
    rpc_.model("party.contact_mechanism", "write", Json::array({Json::array({m.value("id", Json())}), change}),
               context);
    ++writes;
  }
  return writes;
}

int WriteBack::add_category(int64_t party, const std::string& name) {
  int64_t id = 0;
  if (auto it = categories_.find(name); it != categories_.end()) {
    id = it->second;
  } else {
    const Json found = rpc_.model("party.category", "search",
                                  Json::array({Json::array({Json::array({"name", "=", name})}), 0, 1, Json()}),
                                  Json{{"active_test", false}});
    if (found.is_array() && !found.empty() && found[0].is_number_integer()) {
      id = found[0].get<int64_t>();
    } else {
      const Json made = rpc_.model("party.category", "create", Json::array({Json::array({Json{{"name", name}}})}));
      if (!made.is_array() || made.empty() || !made[0].is_number_integer())
        throw TrytonUnavailable("tryton: party.category.create answered no id");
      id = made[0].get<int64_t>();
    }
    categories_[name] = id;
  }
  const Json rows = rpc_.model("party.party", "read", Json::array({Json::array({party}), Json::array({"categories"})}),
                               Json{{"active_test", false}});
  if (rows.is_array() && !rows.empty()) {
    const std::vector<int64_t> has = ints(rows[0].value("categories", Json()));
    if (std::find(has.begin(), has.end(), id) != has.end()) return 0;
  }
  rpc_.model("party.party", "write",
             Json::array({Json::array({party}), Json{{"categories", Json::array({Json::array({"add", {id}})})}}}));
  return 1;
}

bool WriteBack::opportunities_available() {
  if (!opportunities_) {
    const Json found = rpc_.model("ir.module", "search",
                                  Json::array({Json::array({Json::array({"name", "=", "sale_opportunity"}),
                                                            Json::array({"state", "=", "activated"})}),
                                               0, 1, Json()}));
    opportunities_ = found.is_array() && !found.empty();
  }
  return *opportunities_;
}

int64_t WriteBack::company() {
  if (config_.write_back.company > 0) return config_.write_back.company;
  if (company_ == 0) {
    const Json found = rpc_.model("company.company", "search",
                                  Json::array({Json::array(), 0, 1, Json::array({Json::array({"id", "ASC"})})}));
    if (!found.is_array() || found.empty() || !found[0].is_number_integer())
      throw TrytonError("NoCompany",
                        "tryton: no company.company to file the opportunity under (set write_back.company)");
    company_ = found[0].get<int64_t>();
  }
  return company_;
}

int WriteBack::opportunity(int64_t party, const Json& e, const Json& f) {
  using Opp = WriteBackConfig::Opportunities;
  if (config_.write_back.opportunities == Opp::off) return 0;
  if (!opportunities_available()) {
    if (config_.write_back.opportunities == Opp::on)
      throw TrytonError("NoModule",
                        "tryton: the sale_opportunity module is not activated (write_back.opportunities: on)");
    return 0;
  }
  const std::string reference = "touchpoint:" + str(f["response"], "id") + ":" + std::to_string(party);
  const Json found = rpc_.model("sale.opportunity", "search",
                                Json::array({Json::array({Json::array({"reference", "=", reference})}), 0, 1, Json()}));
  if (found.is_array() && !found.empty()) return 0;
  std::string product = str(e, "product");
  if (product.empty()) product = str(e, "offer");
  Json values{{"party", party},
              {"company", company()},
              {"reference", reference},
              {"description", (product.empty() ? std::string("sale") : product) + " (sold on a " +
                                  channel_label(str(f["contact"], "channel")) + " contact)"},
              {"start_date", date_json(day_ms(str(f["response"], "at")))},
              {"comment", note_text(f)}};
  if (auto it = e.find("revenue");
      it != e.end() && it->is_number() && std::isfinite(it->get<double>()) && std::fabs(it->get<double>()) < 1e12)
    values["amount"] = Json{{"__class__", "Decimal"}, {"decimal", decimal_text(it->get<double>())}};
  rpc_.model("sale.opportunity", "create", Json::array({Json::array({values})}));
  return 1;
}

int WriteBack::note(int64_t party, const Json& f) {
  const std::string message = note_text(f);
  const std::string resource = "party.party," + std::to_string(party);
  const Json found = rpc_.model(
      "ir.note", "search",
      Json::array({Json::array({Json::array({"resource", "=", resource}), Json::array({"message", "=", message})}), 0,
                   1, Json()}));
  if (found.is_array() && !found.empty()) return 0;
  rpc_.model("ir.note", "create", Json::array({Json::array({Json{{"resource", resource}, {"message", message}}})}));
  return 1;
}

}  // namespace touchpoint::tryton
