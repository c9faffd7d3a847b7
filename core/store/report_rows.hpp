#pragma once
// The rows of the report tables (migration 6, docs/reports.md): counters the
// store keeps beside the data they count, and what a report reads back.

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace touchpoint::core {

/// Everything one applied conversion adds to the reports.
struct ConversionRows {
  int64_t record_seq = 0;  ///< the conversion event's record: credited once, however often it is applied
  int64_t day = 0;         ///< UTC day of the conversion
  double revenue = 0;
  struct Credit {
    std::string model, campaign, channel;  ///< campaign "" : unattributed
    double share = 0;
  };
  std::vector<Credit> credits;
  /// A contact whose window the conversion fell into.
  struct Contact {
    std::string contact_id, campaign, channel;
    int64_t profile_id = 0;
    int64_t contact_day = 0;  ///< the contact's creation day: the funnel counts there
    bool treated = true;      ///< decided "send"; false: held out (the control group)
    bool target = false;      ///< it bought what the contact offered
  };
  std::vector<Contact> contacts;
};

/// Which rows a report covers: days are UTC days (ms / 86,400,000), inclusive.
struct ReportFilter {
  int64_t from_day = std::numeric_limits<int64_t>::min();
  int64_t to_day = std::numeric_limits<int64_t>::max();
  std::string campaign;  ///< empty: all
  std::string channel;   ///< empty: all
};

struct FunnelCount {
  std::string campaign, channel, metric;
  double n = 0;
};

struct ReasonCount {
  std::string campaign, channel, reason;
  int64_t n = 0;
};

struct AttributionTotal {
  std::string campaign, channel;
  double conversions = 0, revenue = 0;
};

/// A campaign's group: its members (people, not contacts) and how many converted.
struct MemberCount {
  std::string campaign, group;
  int64_t members = 0, converted = 0, converted_target = 0;
};

struct SourceFreshness {
  std::string source, pipeline;
  int64_t records = 0, last_ts_ms = 0, last_applied_ms = 0;
};

/// The figures of the data-quality report, counted over live profiles.
struct QualityCounts {
  int64_t profiles = 0;
  std::map<std::string, int64_t> present;  ///< attribute -> profiles that have it
  /// channel ("email", "phone", "post") -> {with a value, of those marked invalid}
  std::map<std::string, std::pair<int64_t, int64_t>> validity;
  std::map<std::string, int64_t> consent_granted;  ///< channel -> profiles with marketing consent granted
  std::map<std::string, int64_t> merges;           ///< state ("merged", "split") -> count
  std::map<std::string, int64_t> conflicts;        ///< kind -> count
  struct DeadLetters {
    std::string pipeline, step, error_class;
    int64_t n = 0;
  };
  std::vector<DeadLetters> dead_letters;
};

/// Reads of the report tables, on a connection of their own.
class ReportReads {
 public:
  virtual ~ReportReads() = default;
  virtual std::vector<FunnelCount> funnel(const ReportFilter& f) = 0;
  virtual std::vector<ReasonCount> suppressed(const ReportFilter& f) = 0;
  virtual std::vector<AttributionTotal> attribution(const ReportFilter& f, const std::string& model) = 0;
  /// The groups of each campaign (the channel filter does not apply: a group is per campaign).
  virtual std::vector<MemberCount> members(const ReportFilter& f) = 0;
  virtual std::vector<SourceFreshness> sources() = 0;
  /// Scans the live profiles (seconds on a million: run on a schedule).
  virtual QualityCounts quality(const std::vector<std::string>& attributes) = 0;
  /// The newest stored snapshot of a kind: {computed_ms, body}; computed_ms 0 when none.
  virtual std::pair<int64_t, std::string> snapshot(const std::string& kind) = 0;
};

}  // namespace touchpoint::core
