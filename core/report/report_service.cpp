#include "report/report_service.hpp"

#include <map>

#include "report/attribution.hpp"
#include "report/uplift.hpp"
#include "util/clock.hpp"
#include "util/time_text.hpp"

namespace touchpoint::core::report {
namespace {

/// The funnel's steps in the order a contact goes through them.
const std::vector<std::string> kSteps = {
    "requested", "suppressed", "holdout",   "contacted", "sent",        "failed",    "delivered",        "bounced",
    "opened",    "clicked",    "responded", "complaint", "unsubscribe", "converted", "converted_target", "revenue"};

std::optional<int64_t> parse_day(const std::string& text) {
  std::optional<int64_t> ms = text.size() == 10 ? parse_rfc3339_ms(text + "T00:00:00Z") : parse_rfc3339_ms(text);
  if (!ms) return std::nullopt;
  return *ms >= 0 ? *ms / kDayMs : (*ms - kDayMs + 1) / kDayMs;
}

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

/// Metrics by name -> the funnel object with the rates a reader asks for.
Json funnel_json(std::map<std::string, double> m, const std::map<std::string, int64_t>& reasons) {
  Json out = Json::object();
  for (const std::string& s : kSteps) {
    const double v = m[s];
    if (s == "revenue")
      out[s] = v;
    else
      out[s] = static_cast<int64_t>(v);
  }
  out["bounce_hard"] = static_cast<int64_t>(m["bounce_hard"]);
  out["bounce_soft"] = static_cast<int64_t>(m["bounce_soft"]);
  out["suppressed_by_reason"] = reasons;
  out["rates"] = Json{{"delivery", ratio(m["delivered"], m["sent"])},
                      {"bounce", ratio(m["bounced"], m["sent"])},
                      {"open", ratio(m["opened"], m["delivered"])},
                      {"click", ratio(m["clicked"], m["delivered"])},
                      {"response", ratio(m["responded"], m["sent"])},
                      {"conversion", ratio(m["converted"], m["contacted"])},
                      {"target_conversion", ratio(m["converted_target"], m["contacted"])}};
  return out;
}

Json uplift_json(const Uplift& u) {
  // Too small to tell: no interval and no test, rather than numbers that look like one.
  const bool tested = u.verdict != "too_small";
  return Json{{"treated", u.treated},
              {"treated_converted", u.treated_converted},
              {"control", u.control},
              {"control_converted", u.control_converted},
              {"treated_rate", u.treated_rate},
              {"control_rate", u.control_rate},
              {"uplift", u.uplift},
              {"ci95", tested ? Json::array({u.ci_low, u.ci_high}) : Json()},
              {"z", tested ? Json(u.z) : Json()},
              {"p_value", tested ? Json(u.p_value) : Json()},
              {"verdict", u.verdict}};
}

Json query_json(const ReportQuery& q) {
  Json j = Json::object();
  if (!q.from_text.empty()) j["from"] = q.from_text;
  if (!q.to_text.empty()) j["to"] = q.to_text;
  if (!q.filter.campaign.empty()) j["campaign"] = q.filter.campaign;
  if (!q.filter.channel.empty()) j["channel"] = q.filter.channel;
  return j;
}

}  // namespace

std::optional<ReportQuery> parse_report_query(const std::string& from, const std::string& to,
                                              const std::string& campaign, const std::string& channel,
                                              const std::string& model, std::string* error) {
  ReportQuery q;
  if (!from.empty()) {
    auto d = parse_day(from);
    if (!d) return *error = "from must be a date (2026-12-01) or an RFC 3339 date-time", std::nullopt;
    q.filter.from_day = *d;
    q.from_text = from;
  }
  if (!to.empty()) {
    auto d = parse_day(to);
    if (!d) return *error = "to must be a date (2026-12-31) or an RFC 3339 date-time", std::nullopt;
    q.filter.to_day = *d;
    q.to_text = to;
  }
  if (campaign.size() > 256 || channel.size() > 64) return *error = "campaign or channel name too long", std::nullopt;
  q.filter.campaign = campaign;
  q.filter.channel = channel;
  if (!model.empty()) {
    if (!model_from_string(model))
      return *error = "model must be first_touch, last_touch, linear, position_based, time_decay or treatment",
             std::nullopt;
    q.model = model;
  }
  return q;
}

const std::vector<std::string>& ReportService::kinds() {
  static const std::vector<std::string> k = {"campaigns", "channels", "attribution", "control", "quality"};
  return k;
}

std::optional<Json> ReportService::report(const std::string& kind, const ReportQuery& q) {
  if (kind == "campaigns") return campaigns(q);
  if (kind == "channels") return channels(q);
  if (kind == "attribution") return attribution(q);
  if (kind == "control") return control(q);
  if (kind == "quality") return quality();
  return std::nullopt;
}

Json ReportService::campaigns(const ReportQuery& q) {
  ReportReads& r = store_.report_reads();
  std::map<std::string, std::map<std::string, double>> by_campaign;
  std::map<std::pair<std::string, std::string>, std::map<std::string, double>> by_pair;
  for (const FunnelCount& f : r.funnel(q.filter)) {
    by_campaign[f.campaign][f.metric] += f.n;
    by_pair[{f.campaign, f.channel}][f.metric] += f.n;
  }
  std::map<std::string, std::map<std::string, int64_t>> reasons;
  std::map<std::pair<std::string, std::string>, std::map<std::string, int64_t>> pair_reasons;
  for (const ReasonCount& c : r.suppressed(q.filter)) {
    reasons[c.campaign][c.reason] += c.n;
    pair_reasons[{c.campaign, c.channel}][c.reason] += c.n;
  }
  const Json control_report = control(q);
  Json rows = Json::array();
  for (const auto& [campaign, metrics] : by_campaign) {
    Json row{{"campaign", campaign}, {"funnel", funnel_json(metrics, reasons[campaign])}};
    Json channels = Json::array();
    for (const auto& [key, m] : by_pair)
      if (key.first == campaign)
        channels.push_back(Json{{"channel", key.second}, {"funnel", funnel_json(m, pair_reasons[key])}});
    row["channels"] = std::move(channels);
    for (const Json& c : control_report["campaigns"])
      if (c["campaign"] == campaign) row["control"] = c;
    rows.push_back(std::move(row));
  }
  return Json{{"report", "campaigns"}, {"query", query_json(q)}, {"campaigns", rows}, {"computed_ms", now_ms()}};
}

Json ReportService::channels(const ReportQuery& q) {
  ReportReads& r = store_.report_reads();
  std::map<std::string, std::map<std::string, double>> by_channel;
  for (const FunnelCount& f : r.funnel(q.filter)) by_channel[f.channel][f.metric] += f.n;
  std::map<std::string, std::map<std::string, int64_t>> reasons;
  for (const ReasonCount& c : r.suppressed(q.filter)) reasons[c.channel][c.reason] += c.n;
  Json rows = Json::array();
  for (const auto& [channel, metrics] : by_channel)
    rows.push_back(Json{{"channel", channel}, {"funnel", funnel_json(metrics, reasons[channel])}});
  return Json{{"report", "channels"}, {"query", query_json(q)}, {"channels", rows}, {"computed_ms", now_ms()}};
}

Json ReportService::attribution(const ReportQuery& q) {
  ReportReads& r = store_.report_reads();
  Json rows = Json::array();
  std::map<std::string, std::pair<double, double>> by_channel;
  double conversions = 0, revenue = 0;
  for (const AttributionTotal& a : r.attribution(q.filter, q.model)) {
    rows.push_back(
        Json{{"campaign", a.campaign}, {"channel", a.channel}, {"conversions", a.conversions}, {"revenue", a.revenue}});
    auto& c = by_channel[a.campaign.empty() ? "(unattributed)" : a.channel];
    c.first += a.conversions;
    c.second += a.revenue;
    conversions += a.conversions;
    revenue += a.revenue;
  }
  Json channels = Json::array();
  for (const auto& [channel, v] : by_channel)
    channels.push_back(Json{{"channel", channel}, {"conversions", v.first}, {"revenue", v.second}});
  Json models = Json::array();
  for (Model m : kModels) models.push_back(to_string(m));
  Json query = query_json(q);
  query["model"] = q.model;
  return Json{{"report", "attribution"},
              {"query", query},
              {"models", models},
              {"half_life_days", static_cast<double>(conversions_.half_life_ms) / kDayMs},
              {"rows", rows},
              {"channels", channels},
              {"total", Json{{"conversions", conversions}, {"revenue", revenue}}},
              {"computed_ms", now_ms()}};
}

Json ReportService::control(const ReportQuery& q) {
  ReportReads& r = store_.report_reads();
  // Per campaign and group: its members (people decided "send" or held out,
  // counted when decided) and how many of them converted in their window.
  std::map<std::string, std::map<std::string, MemberCount>> groups;
  for (const MemberCount& m : r.members(q.filter)) groups[m.campaign][m.group] = m;
  Json rows = Json::array();
  for (auto& [campaign, g] : groups) {
    const MemberCount t = g["treated"], c = g["control"];
    if (c.members == 0) continue;  // no control group: nothing to compare
    auto u = [](int64_t n) { return static_cast<uint64_t>(n); };
    rows.push_back(Json{
        {"campaign", campaign},
        {"any", uplift_json(uplift(u(t.members), u(t.converted), u(c.members), u(c.converted)))},
        {"target", uplift_json(uplift(u(t.members), u(t.converted_target), u(c.members), u(c.converted_target)))}});
  }
  return Json{{"report", "control"}, {"query", query_json(q)}, {"campaigns", rows}, {"computed_ms", now_ms()}};
}

Json ReportService::refresh_quality() {
  // Freshness, in slices of 100,000 records, each its own short transaction.
  for (;;) {
    std::unique_ptr<StoreTxn> t = store_.begin();
    const size_t n = t->refresh_report_sources(100'000);
    t->commit();
    if (n < 100'000) break;
  }
  ReportReads& r = store_.report_reads();
  const int64_t now = now_ms();
  QualityCounts qc = r.quality(kKeyAttributes);
  const double n = static_cast<double>(qc.profiles);
  Json completeness = Json::object();
  for (const auto& [attribute, present] : qc.present)
    completeness[attribute] = Json{{"profiles", present}, {"share", ratio(static_cast<double>(present), n)}};
  Json validity = Json::object();
  for (const auto& [channel, v] : qc.validity)
    validity[channel] =
        Json{{"with_value", v.first},
             {"invalid", v.second},
             {"valid_share", ratio(static_cast<double>(v.first - v.second), static_cast<double>(v.first))}};
  Json consent = Json::object();
  for (const auto& [channel, granted] : qc.consent_granted)
    consent[channel] = Json{{"granted", granted}, {"share", ratio(static_cast<double>(granted), n)}};
  Json dead = Json::array();
  int64_t dead_total = 0;
  for (const auto& d : qc.dead_letters) {
    dead.push_back(Json{{"pipeline", d.pipeline}, {"step", d.step}, {"error_class", d.error_class}, {"count", d.n}});
    dead_total += d.n;
  }
  Json sources = Json::array();
  for (const SourceFreshness& s : r.sources())
    sources.push_back(Json{{"source", s.source},
                           {"pipeline", s.pipeline},
                           {"records", s.records},
                           {"last_record", format_rfc3339_ms(s.last_ts_ms)},
                           {"last_applied", format_rfc3339_ms(s.last_applied_ms)},
                           {"age_s", static_cast<double>(now - s.last_applied_ms) / 1000.0},
                           {"lag_s", static_cast<double>(s.last_applied_ms - s.last_ts_ms) / 1000.0}});
  Json body{{"report", "quality"},
            {"profiles", qc.profiles},
            {"completeness", completeness},
            {"validity", validity},
            {"consent_marketing", consent},
            {"merges", qc.merges},
            {"conflicts", qc.conflicts},
            {"dead_letters", Json{{"total", dead_total}, {"by_step", dead}}},
            {"sources", sources},
            {"computed_ms", now},
            {"computed_at", format_rfc3339_ms(now)}};
  std::unique_ptr<StoreTxn> t = store_.begin();
  t->put_report_snapshot("quality", now, body.dump());
  t->commit();
  return body;
}

Json ReportService::quality() {
  auto [computed, body] = store_.report_reads().snapshot("quality");
  if (computed == 0) return refresh_quality();
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) return refresh_quality();
  j["age_s"] = static_cast<double>(now_ms() - computed) / 1000.0;
  return j;
}

}  // namespace touchpoint::core::report
