#pragma once
// The reports (docs/reports.md) as JSON, for GET /v1/reports/<kind>, the
// `touchpoint report` command and the dashboard: campaign and channel
// funnels, attribution under each model, control-group uplift and the
// health of the customer data. Every figure is read from counters the store
// keeps beside the data (or from the quality snapshot refreshed on a
// schedule), so a report of a million-profile store reads a few thousand rows.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "record/record.hpp"
#include "report/conversion.hpp"
#include "store/store.hpp"

namespace touchpoint::core::report {

/// A report's parameters as the API and the CLI take them.
struct ReportQuery {
  ReportFilter filter;
  std::string model = "last_touch";  ///< attribution only
  std::string from_text, to_text;    ///< as given, echoed back
};

/// Parses from/to (YYYY-MM-DD or RFC 3339), campaign, channel and model;
/// nullopt with *error set when one is malformed.
std::optional<ReportQuery> parse_report_query(const std::string& from, const std::string& to,
                                              const std::string& campaign, const std::string& channel,
                                              const std::string& model, std::string* error);

/// The attributes whose completeness the quality report shows.
inline const std::vector<std::string> kKeyAttributes = {"email",      "phone",     "address",
                                                        "first_name", "last_name", "birth_date"};

class ReportService {
 public:
  ReportService(Store& store, const ConversionConfig& conversions) : store_(store), conversions_(conversions) {}

  static const std::vector<std::string>& kinds();  ///< campaigns, channels, attribution, control, quality

  /// A report by kind; nullopt for an unknown kind.
  std::optional<Json> report(const std::string& kind, const ReportQuery& q);

  Json campaigns(const ReportQuery& q);
  Json channels(const ReportQuery& q);
  Json attribution(const ReportQuery& q);
  Json control(const ReportQuery& q);
  /// The newest quality snapshot (computed now when there is none yet).
  Json quality();
  /// Recomputes the quality snapshot and the source freshness; returns it.
  Json refresh_quality();

 private:
  Store& store_;
  ConversionConfig conversions_;
};

}  // namespace touchpoint::core::report
