// touchpoint report <kind>: the reports of docs/reports.md from the store,
// as a table, JSON (exactly what GET /v1/reports/<kind> answers) or CSV.
#include <cstdlib>
#include <iomanip>
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/local_store.hpp"
#include "config/hub_config.hpp"
#include "report/report_service.hpp"

namespace touchpoint::cli {
namespace {

constexpr const char* kHelp =
    "usage: touchpoint report <kind> [--from DATE] [--to DATE] [--campaign NAME] [--channel NAME]\n"
    "                         [--model MODEL] [--json | --csv] [--refresh] [--config FILE]\n\n"
    "kinds: campaigns (funnel, suppression reasons, uplift), channels, attribution (--model first_touch,\n"
    "last_touch, linear, position_based, time_decay or treatment), control (control groups), quality\n"
    "(data quality; --refresh recomputes it now). Dates are UTC days (2026-12-01), both inclusive.\n"
    "The hub's own figures are on the admin API: GET /v1/reports/pipelines. See docs/reports.md.\n"
    "Exit: 0 ok, 2 usage or invalid configuration.\n";

using Table = std::vector<std::vector<std::string>>;

std::string num(const core::Json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    std::ostringstream s;
    s << std::setprecision(10) << v.get<double>();
    return s.str();
  }
  if (v.is_string()) return v.get<std::string>();
  return v.is_null() ? "" : v.dump();
}

const std::vector<std::string> kFunnelColumns = {"requested", "suppressed", "holdout",          "contacted", "sent",
                                                 "failed",    "delivered",  "bounced",          "opened",    "clicked",
                                                 "responded", "converted",  "converted_target", "revenue"};

void funnel_rows(Table& t, const std::string& a, const std::string& b, const core::Json& funnel) {
  std::vector<std::string> row{a, b};
  for (const std::string& c : kFunnelColumns) row.push_back(num(funnel.value(c, core::Json(0))));
  t.push_back(std::move(row));
}

Table as_table(const std::string& kind, const core::Json& r) {
  Table t;
  if (kind == "campaigns" || kind == "channels") {
    std::vector<std::string> head{kind == "campaigns" ? "campaign" : "channel", kind == "campaigns" ? "channel" : ""};
    head.insert(head.end(), kFunnelColumns.begin(), kFunnelColumns.end());
    if (kind == "channels") head.erase(head.begin() + 1);
    t.push_back(head);
    for (const core::Json& c : r[kind]) {
      if (kind == "campaigns") {
        funnel_rows(t, c["campaign"].get<std::string>(), "*", c["funnel"]);
        for (const core::Json& ch : c["channels"])
          funnel_rows(t, c["campaign"].get<std::string>(), ch["channel"], ch["funnel"]);
      } else {
        funnel_rows(t, c["channel"].get<std::string>(), "", c["funnel"]);
        t.back().erase(t.back().begin() + 1);
      }
    }
  } else if (kind == "attribution") {
    t.push_back({"model", "campaign", "channel", "conversions", "revenue"});
    const std::string model = r["query"]["model"];
    for (const core::Json& row : r["rows"])
      t.push_back({model, row["campaign"].get<std::string>().empty() ? "(unattributed)" : num(row["campaign"]),
                   num(row["channel"]), num(row["conversions"]), num(row["revenue"])});
    t.push_back({model, "(total)", "", num(r["total"]["conversions"]), num(r["total"]["revenue"])});
  } else if (kind == "control") {
    t.push_back({"campaign", "conversion", "treated", "treated_converted", "treated_rate", "control",
                 "control_converted", "control_rate", "uplift", "ci95_low", "ci95_high", "p_value", "verdict"});
    for (const core::Json& c : r["campaigns"])
      for (const char* scope : {"target", "any"}) {
        const core::Json& u = c[scope];
        const bool ci = u["ci95"].is_array();  // null when the groups are too small to tell
        t.push_back({num(c["campaign"]), scope, num(u["treated"]), num(u["treated_converted"]), num(u["treated_rate"]),
                     num(u["control"]), num(u["control_converted"]), num(u["control_rate"]), num(u["uplift"]),
                     ci ? num(u["ci95"][0]) : "", ci ? num(u["ci95"][1]) : "", num(u["p_value"]), num(u["verdict"])});
      }
  } else if (kind == "quality") {
    t.push_back({"section", "key", "figure", "value"});
    t.push_back({"profiles", "", "live", num(r["profiles"])});
    for (const auto& [k, v] : r["completeness"].items()) t.push_back({"completeness", k, "share", num(v["share"])});
    for (const auto& [k, v] : r["validity"].items()) t.push_back({"validity", k, "valid_share", num(v["valid_share"])});
    for (const auto& [k, v] : r["consent_marketing"].items())
      t.push_back({"consent_marketing", k, "share", num(v["share"])});
    for (const auto& [k, v] : r["merges"].items()) t.push_back({"merges", k, "count", num(v)});
    for (const auto& [k, v] : r["conflicts"].items()) t.push_back({"conflicts", k, "count", num(v)});
    for (const core::Json& d : r["dead_letters"]["by_step"])
      t.push_back({"dead_letters", num(d["pipeline"]) + " " + num(d["step"]), num(d["error_class"]), num(d["count"])});
    for (const core::Json& s : r["sources"]) {
      t.push_back({"freshness", num(s["source"]), "last_record", num(s["last_record"])});
      t.push_back({"freshness", num(s["source"]), "age_s", num(s["age_s"])});
    }
  }
  return t;
}

/// A campaign name is somebody's input: no terminal escape sequences on the
/// way out, and no spreadsheet formula in a CSV cell ('=HYPERLINK(...)').
std::string safe_text(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}
bool is_number(const std::string& s) {
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

std::string csv_field(std::string s) {
  if (!s.empty() && std::string_view("=+-@").find(s[0]) != std::string_view::npos && !is_number(s)) s = "'" + s;
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void print(Table t, bool csv) {
  for (auto& row : t)
    for (std::string& cell : row) cell = safe_text(cell);
  std::vector<size_t> width;
  for (const auto& row : t)
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  for (const auto& row : t) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (csv) {
        std::cout << (i ? "," : "") << csv_field(row[i]);
      } else {
        std::cout << (i ? "  " : "") << row[i];
        if (i + 1 < row.size()) std::cout << std::string(width[i] - row[i].size(), ' ');
      }
    }
    std::cout << "\n";
  }
}

}  // namespace

int cmd_report(const Argv& argv) {
  Args args(argv, {"config", "from", "to", "campaign", "channel", "model"}, {"help", "json", "csv", "refresh"});
  const auto& pos = args.positionals();
  if (args.flag("help") || pos.size() != 1) {
    std::cout << kHelp;
    return args.flag("help") ? kExitOk : kExitUsage;
  }
  const std::string kind = pos[0];
  if (kind == "pipelines")
    throw UsageError("the hub's own figures come from the running hub: GET /v1/reports/pipelines");
  const auto& kinds = core::report::ReportService::kinds();
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
    throw UsageError("unknown report '" + kind + "' (campaigns, channels, attribution, control, quality)");
  if (args.flag("json") && args.flag("csv")) throw UsageError("--json and --csv exclude each other");
  std::string error;
  auto q = core::report::parse_report_query(args.get("from").value_or(""), args.get("to").value_or(""),
                                            args.get("campaign").value_or(""), args.get("channel").value_or(""),
                                            args.get("model").value_or(""), &error);
  if (!q) throw UsageError(error);
  core::HubConfig hub = core::load_hub_config(config_path(args));
  LocalStore local(hub);
  core::report::ReportService reports(local.store(), hub.customer.conversions);
  const core::Json out =
      kind == "quality" && args.flag("refresh") ? reports.refresh_quality() : *reports.report(kind, *q);
  if (args.flag("json")) {
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  print(as_table(kind, out), args.flag("csv"));
  return kExitOk;
}

}  // namespace touchpoint::cli
