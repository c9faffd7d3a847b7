#pragma once
// GET /v1/tap: a live view of the records passing one point of a running
// pipeline, streamed as NDJSON (core/pipeline/tap.hpp).
//
//   GET /v1/tap?pipeline=P[&step=N][&limit=N][&seconds=S][&pii=allow]
//
// step: after this many steps (0: as the source gave them; default: after
// the last step, what goes into the store and the sinks). The first line
// describes the tap, each further line is one record, an empty line is a
// heartbeat, and the last line says why the tap ended and how many records
// were dropped because the watcher fell behind. Admin tokens only; pii=allow
// is audited.

#include <functional>

#include "admin/admin_server.hpp"
#include "config/pipeline_config.hpp"

namespace touchpoint::core {

struct TapRouteHandlers {
  /// The running pipeline of that name, or null.
  std::function<PipelinePtr(const std::string& name)> pipeline;
  std::function<void(const AdminRequest& who, const std::string& action, const Json& detail)> audit;
};

void add_tap_routes(AdminServer& server, TapRouteHandlers handlers);

}  // namespace touchpoint::core
