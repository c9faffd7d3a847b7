#include "admin/report_routes.hpp"

#include <fstream>
#include <mutex>
#include <sstream>

#include "admin/dashboard_assets.hpp"

namespace touchpoint::core {
namespace {

// The page loads nothing from elsewhere and runs no inline script: whatever
// a campaign name contains, it cannot become code on the page.
constexpr const char* kCsp =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'";

AdminResponse asset(std::string_view bytes, const char* type) {
  AdminResponse r;
  if (bytes.empty()) return AdminResponse::error(404, "not found");
  r.body.assign(bytes);
  r.content_type = type;
  r.headers.emplace_back("Content-Security-Policy", kCsp);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return in ? s.str() : std::string();
}

}  // namespace

void add_report_routes(AdminServer& server, ReportRouteHandlers h) {
  report::ReportService* reports = h.reports;
  auto pipelines = h.pipelines;
  server.route(
      "GET", "/v1/reports",
      [](const AdminRequest&) {
        Json kinds = report::ReportService::kinds();
        kinds.push_back("pipelines");
        return AdminResponse::json(200, Json{{"reports", kinds}});
      },
      true);
  server.route(
      "GET", "/v1/reports/",
      [reports, pipelines](const AdminRequest& r) {
        if (r.param == "pipelines") return AdminResponse::json(200, pipelines());
        std::string error;
        std::optional<report::ReportQuery> q =
            report::parse_report_query(r.query_value("from"), r.query_value("to"), r.query_value("campaign"),
                                       r.query_value("channel"), r.query_value("model"), &error);
        if (!q) return AdminResponse::error(400, error);
        std::optional<Json> out = reports->report(r.param, *q);
        if (!out)
          return AdminResponse::error(404, "no report '" + r.param.substr(0, 64) +
                                               "' (campaigns, channels, attribution, control, quality, pipelines)");
        return AdminResponse::json(200, *out);
      },
      true);
  server.route("POST", "/v1/reports/quality/refresh",
               [reports](const AdminRequest&) { return AdminResponse::json(200, reports->refresh_quality()); });

  server.public_route("GET", "/dashboard", [](const AdminRequest&) {
    return asset(dashboard::embedded_asset("index.html"), "text/html; charset=utf-8");
  });
  server.public_route("GET", "/dashboard/app.js", [](const AdminRequest&) {
    return asset(dashboard::embedded_asset("app.js"), "text/javascript; charset=utf-8");
  });
  server.public_route("GET", "/dashboard/style.css", [](const AdminRequest&) {
    return asset(dashboard::embedded_asset("style.css"), "text/css; charset=utf-8");
  });
  // Chart.js comes from its Debian package, read once.
  auto chart = std::make_shared<std::pair<std::once_flag, std::string>>();
  server.public_route("GET", "/dashboard/chart.js", [chart, path = h.chart_js_path](const AdminRequest&) {
    std::call_once(chart->first, [&] { chart->second = read_whole(path); });
    if (chart->second.empty())
      return AdminResponse::error(404, "Chart.js not found at " + path + " (Debian package libjs-chart.js)");
    return asset(chart->second, "text/javascript; charset=utf-8");
  });
}

}  // namespace touchpoint::core
