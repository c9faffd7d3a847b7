#include "admin/customer_routes.hpp"

#include "contact/contact_view.hpp"
#include "util/time_text.hpp"

namespace touchpoint::core {
namespace {

customer::Actor actor_of(const AdminRequest& r) { return customer::Actor{r.token_name, r.remote}; }

/// The body as a JSON object, or a 400 answer.
std::optional<AdminResponse> object_body(const AdminRequest& r, Json& out) {
  out = Json::parse(r.body, nullptr, false);
  if (out.is_discarded()) return AdminResponse::error(400, "the body is not valid JSON");
  if (!out.is_object()) return AdminResponse::error(400, "the body must be a JSON object");
  return std::nullopt;
}

std::optional<AdminResponse> string_field(const Json& body, const char* key, std::string& out, bool required) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (required) return AdminResponse::error(400, std::string(key) + ": is required");
    return std::nullopt;
  }
  if (!it->is_string()) return AdminResponse::error(400, std::string(key) + ": must be a string");
  out = it->get<std::string>();
  if (out.size() > 1024) return AdminResponse::error(400, std::string(key) + ": is longer than 1024 bytes");
  return std::nullopt;
}

Json suppression_json(const SuppressionRow& s) {
  Json j{{"list", s.list},
         {"subject", s.subject},
         {"reason", s.reason},
         {"channels", s.channels},
         {"added", format_rfc3339_ms(s.added_ms)},
         {"source", s.source}};
  if (s.until_ms) j["until"] = format_rfc3339_ms(s.until_ms);
  return j;
}

}  // namespace

void add_customer_routes(AdminServer& server, customer::CustomerStore& customers, contact::Decider& decider,
                         EraseConnectors erase_connectors) {
  server.route("POST", "/v1/decide", [&decider](const AdminRequest& r) {
    auto [status, answer] = decider.decide_body(r.body);
    return AdminResponse::json(status, answer);
  });

  server.route("GET", "/v1/profiles/", [&customers](const AdminRequest& r) {
    std::string error;
    std::optional<int64_t> id = customers.resolve(r.param, &error);
    if (!error.empty()) return AdminResponse::error(400, error);
    size_t events = 20;
    if (const std::string e = r.query_value("events"); !e.empty()) {
      if (e.find_first_not_of("0123456789") != std::string::npos || e.size() > 6)
        return AdminResponse::error(400, "events must be a positive integer");
      events = std::stoul(e);
    }
    std::optional<customer::ProfileView> v = id ? customers.view(*id, events) : std::nullopt;
    if (!v) return AdminResponse::error(404, "no profile matches the reference");
    return AdminResponse::json(200, customer::view_json(*v));
  });

  server.route("GET", "/v1/contacts/", [&customers](const AdminRequest& r) {
    if (r.param.empty() || r.param.size() > 64)
      return AdminResponse::error(400, "a contact id is c- and 24 hex digits");
    std::optional<Json> life = contact::contact_life(customers.store().reads(), r.param);
    if (!life) return AdminResponse::error(404, "no contact with this id");
    return AdminResponse::json(200, *life);
  });

  server.route("POST", "/v1/profiles/unmerge", [&customers](const AdminRequest& r) {
    const std::string m = r.query_value("merge");
    if (m.empty() || m.size() > 18 || m.find_first_not_of("0123456789") != std::string::npos)
      return AdminResponse::error(400, "merge must be the id of a merge (see the profile's merges)");
    try {
      auto [survivor, restored] = customers.unmerge(std::stoll(m), actor_of(r));
      return AdminResponse::json(200, Json{{"survivor", survivor}, {"restored", restored}});
    } catch (const std::invalid_argument& e) {
      return AdminResponse::error(404, e.what());
    }
  });

  server.route("GET", "/v1/suppressions", [&customers](const AdminRequest& r) {
    size_t limit = 1000;
    if (const std::string l = r.query_value("limit"); !l.empty()) {
      if (l.find_first_not_of("0123456789") != std::string::npos || l.size() > 6)
        return AdminResponse::error(400, "limit must be a positive integer");
      limit = std::stoul(l);
    }
    Json out = Json::array();
    for (const SuppressionRow& s : customers.store().reads().suppressions(r.query_value("list"), limit))
      out.push_back(suppression_json(s));
    return AdminResponse::json(200, out);
  });

  server.route("POST", "/v1/suppressions", [&customers](const AdminRequest& r) {
    Json body;
    if (auto bad = object_body(r, body)) return *bad;
    std::string reference;
    SuppressionRow entry;
    if (auto bad = string_field(body, "customer", reference, true)) return *bad;
    if (auto bad = string_field(body, "list", entry.list, true)) return *bad;
    if (auto bad = string_field(body, "reason", entry.reason, false)) return *bad;
    if (auto it = body.find("channels"); it != body.end() && !it->is_null()) {
      if (!it->is_array()) return AdminResponse::error(400, "channels: must be a list");
      for (const Json& c : *it) {
        if (!c.is_string() || !customer::known_channel(c.get<std::string>()))
          return AdminResponse::error(400, "channels: may only hold email, phone, sms, post");
        entry.channels.push_back(c.get<std::string>());
      }
    }
    if (auto it = body.find("until"); it != body.end() && !it->is_null()) {
      std::optional<int64_t> t = time_of(*it);
      if (!t) return AdminResponse::error(400, "until: must be an RFC 3339 date-time");
      entry.until_ms = *t;
    }
    try {
      customers.suppress_add(reference, entry, actor_of(r));
    } catch (const std::invalid_argument& e) {
      return AdminResponse::error(400, e.what());
    }
    return AdminResponse::json(201, Json{{"added", true}, {"list", entry.list}});
  });

  server.route("DELETE", "/v1/suppressions", [&customers](const AdminRequest& r) {
    const std::string list = r.query_value("list"), reference = r.query_value("customer");
    if (list.empty() || reference.empty()) return AdminResponse::error(400, "give list=L and customer=C");
    try {
      const size_t n = customers.suppress_remove(list, reference, actor_of(r));
      if (n == 0) return AdminResponse::error(404, "no such entry on list " + list);
      return AdminResponse::json(200, Json{{"removed", n}});
    } catch (const std::invalid_argument& e) {
      return AdminResponse::error(400, e.what());
    }
  });

  server.route("POST", "/v1/gdpr/erase", [&customers, erase_connectors](const AdminRequest& r) {
    Json body;
    if (auto bad = object_body(r, body)) return *bad;
    std::string reference;
    if (auto bad = string_field(body, "customer", reference, true)) return *bad;
    try {
      customer::EraseResult e = customers.erase(reference, actor_of(r));
      Json receipt{{"profile", e.profile_id},
                   {"profiles", e.profiles},
                   {"identities", e.identities},
                   {"records", e.records},
                   {"events", e.events},
                   {"decisions", e.decisions},
                   {"contacts", e.contacts},
                   {"suppressions", e.suppressions},
                   {"dead_letters_and_outbox", e.dead_letters_and_outbox},
                   {"tombstones", e.tombstones.size()}};
      receipt["connectors"] = erase_connectors ? erase_connectors(e) : Json::array();
      // The store's part is done either way; whether every connector's is too
      // is what a data-protection officer has to know.
      bool complete = true;
      for (const Json& c : receipt["connectors"])
        complete = complete && (c.value("status", "") == "erased" || c.value("status", "") == "holds_no_data");
      receipt["complete"] = complete;
      return AdminResponse::json(200, receipt);
    } catch (const std::invalid_argument& e) {
      return AdminResponse::error(400, e.what());
    } catch (const std::out_of_range& e) {
      return AdminResponse::error(404, e.what());
    }
  });

  server.route("GET", "/v1/gdpr/export", [&customers](const AdminRequest& r) {
    const std::string reference = r.query_value("customer");
    if (reference.empty()) return AdminResponse::error(400, "give customer=C");
    try {
      return AdminResponse::json(200, customers.export_person(reference, actor_of(r)));
    } catch (const std::invalid_argument& e) {
      return AdminResponse::error(400, e.what());
    } catch (const std::out_of_range& e) {
      return AdminResponse::error(404, e.what());
    }
  });

  server.route("GET", "/v1/audit", [&customers](const AdminRequest& r) {
    size_t limit = 100;
    if (const std::string l = r.query_value("limit"); !l.empty()) {
      if (l.find_first_not_of("0123456789") != std::string::npos || l.size() > 6)
        return AdminResponse::error(400, "limit must be a positive integer");
      limit = std::stoul(l);
    }
    Json out = Json::array();
    for (const AuditRow& a : customers.store().reads().audit(limit))
      out.push_back({{"id", a.id},
                     {"at", format_rfc3339_ms(a.at)},
                     {"actor", a.actor},
                     {"action", a.action},
                     {"target", a.target},
                     {"address", a.address},
                     {"detail", Json::parse(a.detail, nullptr, false)}});
    return AdminResponse::json(200, out);
  });
}

}  // namespace touchpoint::core
