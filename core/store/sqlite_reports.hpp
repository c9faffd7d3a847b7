#pragma once
// The report tables of the SQLite backend (migration 6): the writes the
// customer model makes inside its transaction, and the report reads.

#include <filesystem>
#include <mutex>

#include "store/report_rows.hpp"
#include "store/sqlite_conn.hpp"

namespace touchpoint::core::sqlite {

void add_conversion(Conn& c, const ConversionRows& rows);
size_t refresh_report_sources(Conn& c, size_t max_records);
void put_report_snapshot(Conn& c, const std::string& kind, int64_t computed_ms, const std::string& body);

class ReportReadsConn final : public ReportReads {
 public:
  explicit ReportReadsConn(const std::filesystem::path& path);
  std::vector<FunnelCount> funnel(const ReportFilter& f) override;
  std::vector<ReasonCount> suppressed(const ReportFilter& f) override;
  std::vector<AttributionTotal> attribution(const ReportFilter& f, const std::string& model) override;
  std::vector<MemberCount> members(const ReportFilter& f) override;
  std::vector<SourceFreshness> sources() override;
  QualityCounts quality(const std::vector<std::string>& attributes) override;
  std::pair<int64_t, std::string> snapshot(const std::string& kind) override;

 private:
  std::filesystem::path path_;
  std::mutex mu_;
  Conn conn_;
};

}  // namespace touchpoint::core::sqlite
