#pragma once
// The reports (docs/reports.md) and the dashboard on the admin listener:
//
//   GET  /v1/reports                         the kinds
//   GET  /v1/reports/<kind>?from=&to=&campaign=&channel=&model=
//        kind: campaigns, channels, attribution, control, quality, pipelines  (role read too)
//   POST /v1/reports/quality/refresh         recompute the data-quality snapshot now
//   GET  /dashboard, /dashboard/app.js, /dashboard/style.css, /dashboard/chart.js
//        the page (public: it holds no data; it asks for a token and calls the API)

#include <functional>
#include <string>

#include "admin/admin_server.hpp"
#include "report/report_service.hpp"

namespace touchpoint::core {

/// Where Debian's libjs-chart.js puts the UMD build the dashboard draws with.
inline constexpr const char* kChartJsPath = "/usr/share/javascript/chart.js/chart.min.js";

struct ReportRouteHandlers {
  report::ReportService* reports = nullptr;
  /// The hub's own figures for the "pipelines" report (status, outbox, metrics).
  std::function<Json()> pipelines;
  std::string chart_js_path = kChartJsPath;
};

void add_report_routes(AdminServer& server, ReportRouteHandlers handlers);

}  // namespace touchpoint::core
