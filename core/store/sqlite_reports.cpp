#include "store/sqlite_reports.hpp"

namespace touchpoint::core::sqlite {
namespace {

void bump_funnel(Conn& c, const std::string& campaign, const std::string& channel, const char* metric, int64_t day,
                 double n) {
  Query q(
      c.st("INSERT INTO report_funnel(campaign, channel, metric, day, n) VALUES(?,?,?,?,?) "
           "ON CONFLICT DO UPDATE SET n = n + excluded.n"));
  q->bind_static(1, campaign).bind_static(2, channel).bind_static(3, metric).bind(4, day);
  // Counts stay integers in the untyped column, revenue is real.
  if (n == static_cast<double>(static_cast<int64_t>(n)) && std::string_view(metric) != "revenue")
    q->bind(5, static_cast<int64_t>(n));
  else
    q->bind_double(5, n);
  q->run();
}

/// The report filter as bound parameters 1..4 of the queries below.
void bind_filter(Statement& s, const ReportFilter& f) {
  s.bind(1, f.from_day).bind(2, f.to_day).bind(3, f.campaign).bind(4, f.channel);
}
constexpr const char* kFilter = "day BETWEEN ?1 AND ?2 AND (?3 = '' OR campaign = ?3) AND (?4 = '' OR channel = ?4)";

}  // namespace

void add_conversion(Conn& c, const ConversionRows& rows) {
  {
    Query q(c.st("INSERT OR IGNORE INTO report_credited(record_seq) VALUES(?)"));
    q->bind(1, rows.record_seq).run();
    if (c.db().changes() == 0) return;  // applied again (a profile rebuilt after an unmerge): counted once
  }
  for (const ConversionRows::Credit& k : rows.credits) {
    if (k.share == 0) continue;
    Query q(
        c.st("INSERT INTO report_attribution(model, campaign, channel, day, conversions, revenue) VALUES(?,?,?,?,?,?) "
             "ON CONFLICT DO UPDATE SET conversions = conversions + excluded.conversions, "
             "revenue = revenue + excluded.revenue"));
    q->bind_static(1, k.model).bind_static(2, k.campaign).bind_static(3, k.channel).bind(4, rows.day);
    q->bind_double(5, k.share).bind_double(6, k.share * rows.revenue).run();
  }
  for (const ConversionRows::Contact& t : rows.contacts) {
    {
      // The row exists since the contact was decided (trigger report_contact_requested).
      Query q(
          c.st("INSERT INTO report_members(campaign, grp, profile_id, day, converted, converted_target) "
               "VALUES(?,?,?,?,1,?) ON CONFLICT DO UPDATE SET converted = 1, "
               "converted_target = max(converted_target, excluded.converted_target)"));
      q->bind_static(1, t.campaign).bind_static(2, t.treated ? "treated" : "control").bind(3, t.profile_id);
      q->bind(4, t.contact_day).bind(5, int64_t{t.target}).run();
    }
    if (!t.treated) continue;
    // The funnel counts a contact as converted once, however often it buys.
    int64_t conversions = 0, targets = 0;
    {
      Query q(c.st(
          "INSERT INTO report_contact_conversions(contact_id, conversions, target_conversions, revenue) "
          "VALUES(?,1,?,?) ON CONFLICT DO UPDATE SET conversions = conversions + 1, "
          "target_conversions = target_conversions + excluded.target_conversions, revenue = revenue + excluded.revenue "
          "RETURNING conversions, target_conversions"));
      q->bind_static(1, t.contact_id).bind(2, int64_t{t.target}).bind_double(3, rows.revenue);
      if (q->step()) {
        conversions = q->column_int(0);
        targets = q->column_int(1);
      }
    }
    if (conversions == 1) bump_funnel(c, t.campaign, t.channel, "converted", t.contact_day, 1);
    if (t.target && targets == 1) bump_funnel(c, t.campaign, t.channel, "converted_target", t.contact_day, 1);
    if (rows.revenue != 0) bump_funnel(c, t.campaign, t.channel, "revenue", t.contact_day, rows.revenue);
  }
}

size_t refresh_report_sources(Conn& c, size_t max_records) {
  int64_t after = 0;
  {
    Query q(c.st("SELECT value FROM report_state WHERE name = 'sources_seq'"));
    if (q->step()) after = q->column_int(0);
  }
  // The next records applied since the last refresh: a range of the primary
  // key at most max_records long, so that one refresh never holds the writer
  // for long (NOT INDEXED: grouping along the (source, id) index would read them all).
  int64_t last = after;
  size_t counted = 0;
  {
    Query q(
        c.st("SELECT MAX(seq), COUNT(*) FROM /* scan */ (SELECT seq FROM records WHERE seq > ? ORDER BY seq LIMIT ?)"));
    q->bind(1, after).bind(2, static_cast<int64_t>(max_records));
    if (q->step() && !q->column_is_null(0)) {
      last = q->column_int(0);
      counted = static_cast<size_t>(q->column_int(1));
    }
  }
  if (counted == 0) return 0;
  {
    Query q(
        c.st("INSERT INTO report_sources(source, pipeline, records, last_ts_ms, last_applied_ms) "
             "SELECT source, pipeline, COUNT(*), MAX(ts_ms), MAX(applied_ms) FROM records NOT INDEXED "
             "WHERE seq > ? AND seq <= ? GROUP BY source, pipeline ON CONFLICT DO UPDATE SET "
             "records = records + excluded.records, last_ts_ms = max(last_ts_ms, excluded.last_ts_ms), "
             "last_applied_ms = max(last_applied_ms, excluded.last_applied_ms)"));
    q->bind(1, after).bind(2, last).run();
  }
  Query q(
      c.st("INSERT INTO report_state(name, value) VALUES('sources_seq', ?) ON CONFLICT DO UPDATE SET value = "
           "excluded.value"));
  q->bind(1, last).run();
  return counted;
}

void put_report_snapshot(Conn& c, const std::string& kind, int64_t computed_ms, const std::string& body) {
  Query q(c.st("INSERT OR REPLACE INTO report_snapshots(kind, computed_ms, body) VALUES(?,?,?)"));
  q->bind_static(1, kind).bind(2, computed_ms).bind_static(3, body).run();
}

ReportReadsConn::ReportReadsConn(const std::filesystem::path& path) : path_(path), conn_(path, true) {}

std::vector<FunnelCount> ReportReadsConn::funnel(const ReportFilter& f) {
  std::lock_guard<std::mutex> lk(mu_);
  static const std::string sql =
      std::string("SELECT campaign, channel, metric, SUM(n) FROM report_funnel /* scan */ WHERE ") + kFilter +
      " GROUP BY campaign, channel, metric";
  Query q(conn_.st(sql.c_str()));
  bind_filter(*q, f);
  std::vector<FunnelCount> out;
  while (q->step())
    out.push_back(FunnelCount{q->column_text(0), q->column_text(1), q->column_text(2), q->column_double(3)});
  return out;
}

std::vector<ReasonCount> ReportReadsConn::suppressed(const ReportFilter& f) {
  std::lock_guard<std::mutex> lk(mu_);
  static const std::string sql =
      std::string("SELECT campaign, channel, reason, SUM(n) FROM report_suppressed /* scan */ WHERE ") + kFilter +
      " GROUP BY campaign, channel, reason";
  Query q(conn_.st(sql.c_str()));
  bind_filter(*q, f);
  std::vector<ReasonCount> out;
  while (q->step())
    out.push_back(ReasonCount{q->column_text(0), q->column_text(1), q->column_text(2), q->column_int(3)});
  return out;
}

std::vector<AttributionTotal> ReportReadsConn::attribution(const ReportFilter& f, const std::string& model) {
  std::lock_guard<std::mutex> lk(mu_);
  // The unattributed row ('' campaign) passes any campaign or channel filter:
  // a filtered report still shows what nobody earned.
  static const std::string sql =
      "SELECT campaign, channel, SUM(conversions), SUM(revenue) FROM report_attribution "
      "WHERE model = ?5 AND day BETWEEN ?1 AND ?2 AND (?3 = '' OR campaign = ?3 OR campaign = '') "
      "AND (?4 = '' OR channel = ?4 OR campaign = '') GROUP BY campaign, channel";
  Query q(conn_.st(sql.c_str()));
  bind_filter(*q, f);
  q->bind_static(5, model);
  std::vector<AttributionTotal> out;
  while (q->step())
    out.push_back(AttributionTotal{q->column_text(0), q->column_text(1), q->column_double(2), q->column_double(3)});
  return out;
}

std::vector<MemberCount> ReportReadsConn::members(const ReportFilter& f) {
  std::lock_guard<std::mutex> lk(mu_);
  Query q(conn_.st(
      "SELECT campaign, grp, SUM(members), SUM(converted), SUM(converted_target) FROM report_groups /* scan */ "
      "WHERE day BETWEEN ?1 AND ?2 AND (?3 = '' OR campaign = ?3) GROUP BY campaign, grp"));
  q->bind(1, f.from_day).bind(2, f.to_day).bind(3, f.campaign);
  std::vector<MemberCount> out;
  while (q->step())
    out.push_back(
        MemberCount{q->column_text(0), q->column_text(1), q->column_int(2), q->column_int(3), q->column_int(4)});
  return out;
}

std::vector<SourceFreshness> ReportReadsConn::sources() {
  std::lock_guard<std::mutex> lk(mu_);
  Query q(
      conn_.st("SELECT source, pipeline, records, last_ts_ms, last_applied_ms FROM report_sources /* scan */ "
               "ORDER BY source, pipeline"));
  std::vector<SourceFreshness> out;
  while (q->step())
    out.push_back(
        SourceFreshness{q->column_text(0), q->column_text(1), q->column_int(2), q->column_int(3), q->column_int(4)});
  return out;
}

QualityCounts ReportReadsConn::quality(const std::vector<std::string>& attributes) {
  // A scan of every profile on a connection of its own (a snapshot), so the
  // shared report connection is not held for seconds.
  Conn scan(path_, true);
  QualityCounts out;
  std::string sql = "SELECT COUNT(*)";
  for (size_t i = 0; i < attributes.size(); ++i)
    sql += ", SUM(COALESCE(json_type(attributes, ?" + std::to_string(i + 1) + "), 'null') != 'null')";
  static const char* kValidity[][3] = {{"email", "$.email", "$.email_valid"},
                                       {"phone", "$.phone", "$.phone_valid"},
                                       {"post", "$.address", "$.address_valid"}};
  for (const auto& v : kValidity)
    sql += std::string(", SUM(COALESCE(json_type(attributes, '") + v[1] +
           "'), 'null') != 'null'), SUM(COALESCE(json_type(attributes, '" + v[1] +
           "'), 'null') != 'null' AND json_extract(attributes, '" + v[2] + "') IS 0)";
  static const char* kConsents[] = {"email", "phone", "sms", "post"};
  for (const char* ch : kConsents)
    sql +=
        std::string(", SUM(json_valid(state) AND json_extract(state, '$.k.\"") + ch + "/marketing\"[0]') = 'granted')";
  sql += " FROM profiles /* scan */ WHERE COALESCE(merged_into, 0) = 0";
  Statement q(scan.db(), sql);
  for (size_t i = 0; i < attributes.size(); ++i) q.bind(static_cast<int>(i + 1), "$." + attributes[i]);
  if (q.step()) {
    int col = 0;
    out.profiles = q.column_int(col++);
    for (const std::string& a : attributes) out.present[a] = q.column_int(col++);
    for (const auto& v : kValidity) {
      const int64_t with = q.column_int(col++);
      out.validity[v[0]] = {with, q.column_int(col++)};
    }
    for (const char* ch : kConsents) out.consent_granted[ch] = q.column_int(col++);
  }
  Statement m(scan.db(), "SELECT state, COUNT(*) FROM merges /* scan */ GROUP BY state");
  while (m.step()) out.merges[m.column_text(0)] = m.column_int(1);
  Statement k(scan.db(), "SELECT kind, COUNT(*) FROM conflicts /* scan */ GROUP BY kind");
  while (k.step()) out.conflicts[k.column_text(0)] = k.column_int(1);
  Statement d(scan.db(),
              "SELECT pipeline, step, error_class, COUNT(*) FROM dead_letters /* scan */ GROUP BY pipeline, step, "
              "error_class ORDER BY 4 DESC LIMIT 1000");
  while (d.step())
    out.dead_letters.push_back(
        QualityCounts::DeadLetters{d.column_text(0), d.column_text(1), d.column_text(2), d.column_int(3)});
  return out;
}

std::pair<int64_t, std::string> ReportReadsConn::snapshot(const std::string& kind) {
  std::lock_guard<std::mutex> lk(mu_);
  Query q(conn_.st("SELECT computed_ms, body FROM report_snapshots WHERE kind = ?"));
  q->bind_static(1, kind);
  if (q->step()) return {q->column_int(0), q->column_text(1)};
  return {0, ""};
}

}  // namespace touchpoint::core::sqlite
