#pragma once
// The hub's own admin routes: probes, metrics, status, the dead-letter
// store and reload. The runtime lends the callbacks.

#include <functional>
#include <string>

#include "admin/admin_server.hpp"

namespace touchpoint::core {

struct HubRouteHandlers {
  std::function<bool()> ready;
  std::function<std::string()> metrics;
  std::function<std::string()> status_json;
  std::function<std::string(const std::string& pipeline, size_t limit)> dlq_json;
  std::function<size_t(const std::string& id, const std::string& pipeline)> dlq_replay;
  std::function<void()> reload;
  /// Records an admin action (dlq replay, reload) in the audit log.
  std::function<void(const AdminRequest& who, const std::string& action, const Json& detail)> audit;
};

//   GET  /health          liveness
//   GET  /ready           200 when pipelines run, 503 while starting/stopping
//   GET  /metrics         Prometheus text format          (role read too)
//   GET  /status          pipelines, journal, applier, store as JSON   (role read too)
//   GET  /dlq?pipeline=&limit=   dead letters as JSON
//   POST /dlq/replay?id=|pipeline=|all=true   request replay
//   POST /reload          same as SIGHUP
void add_hub_routes(AdminServer& server, HubRouteHandlers handlers);

}  // namespace touchpoint::core
