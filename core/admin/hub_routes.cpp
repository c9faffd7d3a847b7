#include "admin/hub_routes.hpp"

namespace touchpoint::core {
namespace {

/// A query parameter that must be a positive decimal integer (no sign, no junk).
bool positive_integer(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::stoull(s);
  return out > 0;
}

AdminResponse text(int status, std::string body, std::string type = "application/json") {
  AdminResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(type);
  return r;
}

}  // namespace

void add_hub_routes(AdminServer& server, HubRouteHandlers h) {
  server.route(
      "GET", "/health", [](const AdminRequest&) { return text(200, R"({"status":"ok"})"); }, true);
  server.route(
      "GET", "/ready",
      [h](const AdminRequest&) {
        const bool ready = h.ready();
        return text(ready ? 200 : 503, ready ? R"({"ready":true})" : R"({"ready":false})");
      },
      true);
  server.route(
      "GET", "/metrics", [h](const AdminRequest&) { return text(200, h.metrics(), "text/plain; version=0.0.4"); },
      true);
  server.route(
      "GET", "/status", [h](const AdminRequest&) { return text(200, h.status_json()); }, true);
  server.route("GET", "/dlq", [h](const AdminRequest& r) {
    const std::string limit = r.query_value("limit");
    uint64_t n = 100;
    if (!limit.empty() && !positive_integer(limit, n))
      return AdminResponse::error(400, "limit must be a positive integer");
    return text(200, h.dlq_json(r.query_value("pipeline"), static_cast<size_t>(std::min<uint64_t>(n, 10000))));
  });
  server.route("POST", "/dlq/replay", [h](const AdminRequest& r) {
    const std::string id = r.query_value("id");
    uint64_t parsed = 0;
    if (!id.empty() && !positive_integer(id, parsed)) return AdminResponse::error(400, "id must be a positive integer");
    // Like the CLI's --all: replaying everything must be asked for explicitly.
    if (id.empty() && r.query_value("pipeline").empty() && r.query_value("all") != "true")
      return AdminResponse::error(400, "give id=N, pipeline=P or all=true");
    const size_t n = h.dlq_replay(id, r.query_value("pipeline"));
    if (h.audit) h.audit(r, "dlq.replay", Json{{"id", id}, {"pipeline", r.query_value("pipeline")}, {"requested", n}});
    if (!id.empty() && n == 0)
      return AdminResponse::error(
          404, "no replayable dead letter with id " + id + " (raw source rejects cannot be replayed)");
    return AdminResponse::json(202, Json{{"requested", n}});
  });
  server.route("POST", "/reload", [h](const AdminRequest& r) {
    h.reload();
    if (h.audit) h.audit(r, "reload", Json::object());
    return text(202, R"({"reload":"requested"})");
  });
}

}  // namespace touchpoint::core
