#include "store/sqlite_conn.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace touchpoint::core::sqlite {
namespace {

std::string json_list(const std::vector<std::string>& v) { return Json(v).dump(); }

std::vector<std::string> parse_list(const std::string& text) {
  std::vector<std::string> out;
  Json j = Json::parse(text, nullptr, false);
  if (j.is_array())
    for (const Json& x : j)
      if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

/// "?,?,?" for n values starting at parameter index `first`.
std::string placeholders(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ",?" : "?";
  return s;
}

constexpr const char* kRecordColumns =
    "seq, id, type, source, pipeline, key, profile_id, origin_profile, ts_ms, applied_ms, data, meta";

RecordRow record_row(Statement& q) {
  RecordRow r;
  r.seq = q.column_int(0);
  r.id = q.column_text(1);
  r.type = q.column_text(2);
  r.source = q.column_text(3);
  r.pipeline = q.column_text(4);
  r.key = q.column_text(5);
  r.profile_id = q.column_int(6);
  r.origin_profile = q.column_int(7);
  r.ts_ms = q.column_int(8);
  r.applied_ms = q.column_int(9);
  r.data = q.column_text(10);
  r.meta = q.column_text(11);
  return r;
}

constexpr const char* kIdentityColumns = "kind, value, profile_id, origin_profile, source, first_seen_ms";

IdentityRow identity_row(Statement& q) {
  return IdentityRow{q.column_text(0), q.column_text(1), q.column_int(2),
                     q.column_int(3),  q.column_text(4), q.column_int(5)};
}

SuppressionRow suppression_row(Statement& q) {
  SuppressionRow s;
  s.list = q.column_text(0);
  s.subject = q.column_text(1);
  s.reason = q.column_text(2);
  s.channels = parse_list(q.column_text(3));
  s.until_ms = q.column_int(4);
  s.added_ms = q.column_int(5);
  s.source = q.column_text(6);
  return s;
}

MergeRow merge_row(Statement& q) {
  MergeRow m;
  m.id = q.column_int(0);
  m.survivor = q.column_int(1);
  m.merged = q.column_int(2);
  m.record_source = q.column_text(3);
  m.record_id = q.column_text(4);
  m.at = q.column_int(5);
  m.state = q.column_text(6);
  return m;
}

}  // namespace

Statement Conn::one_off(const std::string& sql) {
  if (plan_check_enabled()) check_plan(sql.c_str());
  return Statement(db_, sql);
}

bool Conn::plan_check_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("TOUCHPOINT_SQLITE_PLAN_CHECK");
    return v != nullptr && *v != '\0' && std::string_view(v) != "0";
  }();
  return on;
}

// A statement that scans a whole table costs time in proportion to the store's
// size: one such lookup on the apply path made a 200,000-record import take
// hours instead of seconds (a partial index that a bound parameter cannot
// use). The test suite turns this check on, so every statement any test
// prepares is checked against a real schema. Statements that are meant to walk
// a table (exports, listings, tiny tables) say so with a scan comment.
void Conn::check_plan(const char* sql) {
  if (std::string_view(sql).find("/* scan */") != std::string_view::npos) return;
  Statement plan(db_, std::string("EXPLAIN QUERY PLAN ") + sql);
  while (plan.step()) {
    const std::string detail = plan.column_text(3);
    if (detail.rfind("SCAN ", 0) == 0 && detail.rfind("SCAN CONSTANT ROW", 0) != 0)
      throw std::logic_error("store statement scans a table (" + detail + "): " + sql);
  }
}

Conn::Conn(const std::filesystem::path& path, bool read_only) : db_(path) {
  if (read_only) db_.exec("PRAGMA query_only=1");
}

Statement& Conn::st(const char* sql) {
  auto it = statements_.find(std::string_view(sql));
  if (it == statements_.end()) {
    if (plan_check_enabled()) check_plan(sql);
    it = statements_.emplace(std::string(sql), Statement(db_, sql)).first;
  }
  it->second.reset();  // a use that ended in an exception may have left it mid-step
  return it->second;
}

// ------------------------------------------------------------------ reads

std::optional<int64_t> Conn::identity_profile(std::string_view kind, std::string_view value) {
  Query q(st("SELECT profile_id FROM identities WHERE kind=? AND value=?"));
  q->bind_static(1, kind).bind_static(2, value);
  if (!q->step()) return std::nullopt;
  return q->column_int(0);
}

std::vector<IdentityRow> Conn::identities_of(int64_t profile) {
  Query q(
      st("SELECT kind, value, profile_id, origin_profile, source, first_seen_ms FROM identities "
         "WHERE profile_id=? ORDER BY kind, value"));
  q->bind(1, profile);
  std::vector<IdentityRow> out;
  while (q->step()) out.push_back(identity_row(*q));
  return out;
}

std::vector<IdentityRow> Conn::identities_with_origin(const std::vector<int64_t>& origins) {
  std::vector<IdentityRow> out;
  for (int64_t o : origins) {
    Query q(
        st("SELECT kind, value, profile_id, origin_profile, source, first_seen_ms FROM identities "
           "WHERE origin_profile=? ORDER BY kind, value"));
    q->bind(1, o);
    while (q->step()) out.push_back(identity_row(*q));
  }
  return out;
}

std::optional<ProfileRow> Conn::profile(int64_t id) {
  Query q(
      st("SELECT id, created_ms, updated_ms, attributes, state, COALESCE(merged_into, 0) FROM profiles "
         "WHERE id=?"));
  q->bind(1, id);
  if (!q->step()) return std::nullopt;
  return ProfileRow{q->column_int(0),  q->column_int(1),  q->column_int(2),
                    q->column_text(3), q->column_text(4), q->column_int(5)};
}

std::vector<int64_t> Conn::merged_into(int64_t survivor) {
  // "AND merged_into != 0" lets SQLite use the partial index (a bound value alone
  // could be 0 or NULL, which the index leaves out).
  Query q(st("SELECT id FROM profiles WHERE merged_into=? AND merged_into != 0 ORDER BY id"));
  q->bind(1, survivor);
  std::vector<int64_t> out;
  while (q->step()) out.push_back(q->column_int(0));
  return out;
}

std::vector<RecordRow> Conn::records_of(int64_t profile, size_t limit, bool newest_first) {
  const int64_t n = limit == 0 ? -1 : static_cast<int64_t>(limit);
  Query q(st(newest_first ? "SELECT seq, id, type, source, pipeline, key, profile_id, origin_profile, ts_ms, "
                            "applied_ms, data, meta FROM records WHERE profile_id=? ORDER BY seq DESC LIMIT ?"
                          : "SELECT seq, id, type, source, pipeline, key, profile_id, origin_profile, ts_ms, "
                            "applied_ms, data, meta FROM records WHERE profile_id=? ORDER BY seq LIMIT ?"));
  q->bind(1, profile).bind(2, n);
  std::vector<RecordRow> out;
  while (q->step()) out.push_back(record_row(*q));
  return out;
}

std::vector<RecordRow> Conn::records_with_origin(const std::vector<int64_t>& origins) {
  std::vector<RecordRow> out;
  if (origins.empty()) return out;
  Statement q = one_off(std::string("SELECT ") + kRecordColumns + " FROM records WHERE origin_profile IN (" +
                        placeholders(origins.size()) + ") ORDER BY seq");
  for (size_t i = 0; i < origins.size(); ++i) q.bind(static_cast<int>(i + 1), origins[i]);
  while (q.step()) out.push_back(record_row(q));
  return out;
}

std::vector<EventRow> Conn::events_of(int64_t profile, int64_t since_ms) {
  Query q(
      st("SELECT profile_id, at, event_type, channel, purpose, product, category, campaign, offer, revenue, "
         "record_seq FROM timeline WHERE profile_id=? AND at>=? ORDER BY at DESC, record_seq DESC"));
  q->bind(1, profile).bind(2, since_ms);
  std::vector<EventRow> out;
  while (q->step()) {
    EventRow e;
    e.profile_id = q->column_int(0);
    e.at = q->column_int(1);
    e.event_type = q->column_text(2);
    e.channel = q->column_text(3);
    e.purpose = q->column_text(4);
    e.product = q->column_text(5);
    e.category = q->column_text(6);
    e.campaign = q->column_text(7);
    e.offer = q->column_text(8);
    e.has_revenue = !q->column_is_null(9);
    e.revenue = e.has_revenue ? q->column_double(9) : 0;
    e.record_seq = q->column_int(10);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<SuppressionRow> Conn::suppressions_for(const std::vector<std::string>& subjects) {
  std::vector<SuppressionRow> out;
  for (const std::string& s : subjects) {
    Query q(
        st("SELECT list, subject, reason, channels, until_ms, added_ms, source FROM suppressions "
           "WHERE subject=? ORDER BY list"));
    q->bind_static(1, s);
    while (q->step()) out.push_back(suppression_row(*q));
  }
  return out;
}

std::vector<SuppressionRow> Conn::suppressions(std::string_view list, size_t limit) {
  Query q(
      st("/* scan */ SELECT list, subject, reason, channels, until_ms, added_ms, source FROM suppressions "
         "WHERE (?1 = '' OR list = ?1) ORDER BY list, subject LIMIT ?2"));
  q->bind_static(1, list).bind(2, static_cast<int64_t>(limit));
  std::vector<SuppressionRow> out;
  while (q->step()) out.push_back(suppression_row(*q));
  return out;
}

std::vector<MergeRow> Conn::merges_of(int64_t profile) {
  Query q(
      st("SELECT id, survivor, merged, record_source, record_id, at, state FROM merges "
         "WHERE survivor=?1 OR merged=?1 ORDER BY id"));
  q->bind(1, profile);
  std::vector<MergeRow> out;
  while (q->step()) out.push_back(merge_row(*q));
  return out;
}

std::optional<MergeRow> Conn::merge(int64_t id) {
  Query q(st("SELECT id, survivor, merged, record_source, record_id, at, state FROM merges WHERE id=?"));
  q->bind(1, id);
  if (!q->step()) return std::nullopt;
  return merge_row(*q);
}

std::vector<ConflictRow> Conn::conflicts_of(int64_t profile) {
  Query q(
      st("SELECT id, profile_a, profile_b, kind, detail, record_source, record_id, at FROM conflicts "
         "WHERE profile_a=?1 OR profile_b=?1 ORDER BY id"));
  q->bind(1, profile);
  std::vector<ConflictRow> out;
  while (q->step())
    out.push_back(ConflictRow{q->column_int(0), q->column_int(1), q->column_int(2), q->column_text(3),
                              q->column_text(4), q->column_text(5), q->column_text(6), q->column_int(7)});
  return out;
}

std::vector<DecisionRow> Conn::decisions_of(int64_t profile, size_t limit) {
  Query q(
      st("SELECT id, at, profile_id, customer, proposal, decision, channel, reasons, rulebook, recorded_ms "
         "FROM decisions WHERE profile_id=? ORDER BY id DESC LIMIT ?"));
  q->bind(1, profile).bind(2, static_cast<int64_t>(limit));
  std::vector<DecisionRow> out;
  while (q->step())
    out.push_back(DecisionRow{q->column_int(0), q->column_int(1), q->column_int(2), q->column_text(3),
                              q->column_text(4), q->column_text(5), q->column_text(6), q->column_text(7),
                              q->column_text(8), q->column_int(9)});
  return out;
}

std::vector<AuditRow> Conn::audit(size_t limit) {
  Query q(st("/* scan */ SELECT id, at, actor, action, target, address, detail FROM audit ORDER BY id DESC LIMIT ?"));
  q->bind(1, static_cast<int64_t>(limit));
  std::vector<AuditRow> out;
  while (q->step())
    out.push_back(AuditRow{q->column_int(0), q->column_int(1), q->column_text(2), q->column_text(3), q->column_text(4),
                           q->column_text(5), q->column_text(6)});
  return out;
}

bool Conn::tombstoned(std::string_view hash) {
  Query q(st("SELECT 1 FROM tombstones WHERE hash=?"));
  q->bind_static(1, hash);
  return q->step();
}

bool Conn::has_tombstones() {
  Query q(st("/* scan */ SELECT 1 FROM tombstones LIMIT 1"));  // stops at the first row
  return q->step();
}

void Conn::each_profile(const std::function<bool(const ProfileRow&)>& fn) {
  // Its own statement: fn may run other queries on this connection.
  Statement q = one_off(
      "/* scan */ SELECT id, created_ms, updated_ms, attributes, state FROM profiles "
      "WHERE COALESCE(merged_into, 0) = 0 ORDER BY id");
  while (q.step()) {
    ProfileRow r{q.column_int(0), q.column_int(1), q.column_int(2), q.column_text(3), q.column_text(4), 0};
    if (!fn(r)) break;
  }
}

std::vector<DeadLetter> Conn::dead_letters(const DlqFilter& f) {
  std::string sql =  // a listing: filters narrow it, none need an index
      "/* scan */ SELECT id, record_id, pipeline, step, error_class, reason, location, payload, attempts, first_ms, "
      "last_ms, state FROM dead_letters WHERE 1=1";
  if (f.id) sql += " AND id=?1";
  if (f.pipeline) sql += " AND pipeline=?2";
  if (f.state) sql += " AND state=?3";
  sql += " ORDER BY id LIMIT ?4";
  Statement q = one_off(sql);
  if (f.id) q.bind(1, *f.id);
  if (f.pipeline) q.bind(2, *f.pipeline);
  if (f.state) q.bind(3, *f.state);
  q.bind(4, static_cast<int64_t>(f.limit));
  std::vector<DeadLetter> out;
  while (q.step()) {
    DeadLetter d;
    d.id = q.column_int(0);
    d.record_id = q.column_text(1);
    d.pipeline = q.column_text(2);
    d.step = q.column_text(3);
    d.error_class = q.column_text(4);
    d.reason = q.column_text(5);
    d.location = q.column_text(6);
    d.payload = q.column_text(7);
    d.attempts = static_cast<int>(q.column_int(8));
    d.first_ms = q.column_int(9);
    d.last_ms = q.column_int(10);
    d.state = q.column_text(11);
    out.push_back(std::move(d));
  }
  return out;
}

uint64_t Conn::journal_position() {
  Query q(st("SELECT seq FROM journal_position WHERE consumer='store'"));
  return q->step() ? static_cast<uint64_t>(q->column_int(0)) : 0;
}

std::map<std::string, std::string> Conn::checkpoints() {
  Query q(st("/* scan */ SELECT instance, cursor FROM checkpoints"));
  std::map<std::string, std::string> out;
  while (q->step()) out[q->column_text(0)] = q->column_text(1);
  return out;
}

StoreStats Conn::stats() {
  StoreStats s;
  {
    Query q(st("/* scan */ SELECT name, value FROM store_counters"));
    while (q->step()) {
      const std::string name = q->column_text(0);
      const auto value = static_cast<uint64_t>(std::max<int64_t>(0, q->column_int(1)));
      if (name == "profiles") s.profiles = value;
      if (name == "dead_letters") s.dead_letters = value;
      if (name == "outbox") s.outbox = value;
      if (name == "records") s.records = value;
    }
  }
  return s;
}

// ------------------------------------------------------------------ writes

int64_t Conn::max_profile_id() {
  // The high-water mark, not MAX(id): an erased newest profile's id stays used.
  Query q(
      st("SELECT MAX((SELECT COALESCE(MAX(id), 0) FROM profiles), "
         "(SELECT value FROM store_counters WHERE name = 'profile_ids_issued'))"));
  return q->step() ? q->column_int(0) : 0;
}

void Conn::put_profile(const ProfileRow& r) {
  Query q(
      st("INSERT INTO profiles(id, created_ms, updated_ms, attributes, state, merged_into) VALUES(?,?,?,?,?,?) "
         "ON CONFLICT(id) DO UPDATE SET created_ms=excluded.created_ms, updated_ms=excluded.updated_ms, "
         "attributes=excluded.attributes, "
         "state=excluded.state, merged_into=excluded.merged_into"));
  q->bind(1, r.id).bind(2, r.created_ms).bind(3, r.updated_ms).bind_static(4, r.attributes).bind_static(5, r.state);
  if (r.merged_into != 0)
    q->bind(6, r.merged_into);
  else
    q->bind_null(6);
  q->run();
}

void Conn::delete_profile(int64_t id) {
  Query q(st("DELETE FROM profiles WHERE id=?"));
  q->bind(1, id).run();
}

void Conn::add_identity(const IdentityRow& r) {
  Query q(
      st("INSERT INTO identities(kind, value, profile_id, origin_profile, source, first_seen_ms) "
         "VALUES(?,?,?,?,?,?) ON CONFLICT(kind, value) DO NOTHING"));
  q->bind_static(1, r.kind)
      .bind_static(2, r.value)
      .bind(3, r.profile_id)
      .bind(4, r.origin_profile)
      .bind_static(5, r.source)
      .bind(6, r.first_seen_ms)
      .run();
}

void Conn::set_identity_profile(std::string_view kind, std::string_view value, int64_t profile) {
  Query q(st("UPDATE identities SET profile_id=? WHERE kind=? AND value=?"));
  q->bind(1, profile).bind_static(2, kind).bind_static(3, value).run();
}

void Conn::move_identities(int64_t from, int64_t to) {
  Query q(st("UPDATE identities SET profile_id=? WHERE profile_id=?"));
  q->bind(1, to).bind(2, from).run();
}

void Conn::delete_identities_of(int64_t profile) {
  Query q(st("DELETE FROM identities WHERE profile_id=?"));
  q->bind(1, profile).run();
}

bool Conn::insert_record(RecordRow& r) {
  Query q(
      st("INSERT INTO records(id, profile_id, origin_profile, type, source, pipeline, key, ts_ms, applied_ms, "
         "data, meta) VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(source, id) DO NOTHING"));
  q->bind_static(1, r.id).bind(2, r.profile_id).bind(3, r.origin_profile).bind_static(4, r.type);
  q->bind_static(5, r.source).bind_static(6, r.pipeline).bind_static(7, r.key).bind(8, r.ts_ms);
  q->bind(9, r.applied_ms).bind_static(10, r.data).bind_static(11, r.meta).run();
  if (db_.changes() == 0) return false;
  r.seq = db_.last_insert_rowid();
  return true;
}

void Conn::move_records(int64_t from, int64_t to) {
  Query q(st("UPDATE records SET profile_id=? WHERE profile_id=?"));
  q->bind(1, to).bind(2, from).run();
}

void Conn::set_record_profile(int64_t seq, int64_t profile) {
  Query q(st("UPDATE records SET profile_id=? WHERE seq=?"));
  q->bind(1, profile).bind(2, seq).run();
}

void Conn::delete_records_of(int64_t profile) {
  Query q(st("DELETE FROM records WHERE profile_id=?"));
  q->bind(1, profile).run();
}

void Conn::add_event(const EventRow& e) {
  Query q(
      st("INSERT INTO timeline(profile_id, at, event_type, channel, purpose, product, category, campaign, "
         "offer, revenue, record_seq) VALUES(?,?,?,?,?,?,?,?,?,?,?)"));
  q->bind(1, e.profile_id).bind(2, e.at).bind_static(3, e.event_type).bind_static(4, e.channel);
  q->bind_static(5, e.purpose).bind_static(6, e.product).bind_static(7, e.category).bind_static(8, e.campaign);
  q->bind_static(9, e.offer);
  if (e.has_revenue) q->bind_double(10, e.revenue);
  q->bind(11, e.record_seq).run();
}

void Conn::move_events(int64_t from, int64_t to) {
  Query q(st("UPDATE timeline SET profile_id=? WHERE profile_id=?"));
  q->bind(1, to).bind(2, from).run();
}

void Conn::delete_events_of(int64_t profile) {
  Query q(st("DELETE FROM timeline WHERE profile_id=?"));
  q->bind(1, profile).run();
}

void Conn::put_suppression(const SuppressionRow& s) {
  Query q(
      st("INSERT INTO suppressions(list, subject, reason, channels, until_ms, added_ms, source) "
         "VALUES(?,?,?,?,?,?,?) ON CONFLICT(list, subject) DO UPDATE SET reason=excluded.reason, "
         "channels=excluded.channels, until_ms=excluded.until_ms, added_ms=excluded.added_ms, "
         "source=excluded.source"));
  const std::string channels = json_list(s.channels);
  q->bind_static(1, s.list).bind_static(2, s.subject).bind_static(3, s.reason).bind_static(4, channels);
  q->bind(5, s.until_ms).bind(6, s.added_ms).bind_static(7, s.source).run();
}

size_t Conn::remove_suppression(std::string_view list, std::string_view subject) {
  Query q(st("DELETE FROM suppressions WHERE list=? AND subject=?"));
  q->bind_static(1, list).bind_static(2, subject).run();
  return static_cast<size_t>(db_.changes());
}

void Conn::move_suppressions(std::string_view from, std::string_view to) {
  // An entry the target already has on the same list wins; the rest move.
  Query q(st("UPDATE OR IGNORE suppressions SET subject=? WHERE subject=?"));
  q->bind_static(1, to).bind_static(2, from).run();
  Query d(st("DELETE FROM suppressions WHERE subject=?"));
  d->bind_static(1, from).run();
}

size_t Conn::delete_suppressions_of(std::string_view subject) {
  Query q(st("DELETE FROM suppressions WHERE subject=?"));
  q->bind_static(1, subject).run();
  return static_cast<size_t>(db_.changes());
}

int64_t Conn::add_merge(const MergeRow& m) {
  Query q(st("INSERT INTO merges(survivor, merged, record_source, record_id, at, state) VALUES(?,?,?,?,?,?)"));
  q->bind(1, m.survivor).bind(2, m.merged).bind_static(3, m.record_source).bind_static(4, m.record_id);
  q->bind(5, m.at).bind_static(6, m.state).run();
  return db_.last_insert_rowid();
}

void Conn::set_merge_state(int64_t id, std::string_view state) {
  Query q(st("UPDATE merges SET state=? WHERE id=?"));
  q->bind_static(1, state).bind(2, id).run();
}

void Conn::add_conflict(const ConflictRow& c) {
  Query q(
      st("INSERT INTO conflicts(profile_a, profile_b, kind, detail, record_source, record_id, at) "
         "VALUES(?,?,?,?,?,?,?)"));
  q->bind(1, c.profile_a).bind(2, c.profile_b).bind_static(3, c.kind).bind_static(4, c.detail);
  q->bind_static(5, c.record_source).bind_static(6, c.record_id).bind(7, c.at).run();
}

void Conn::add_decision(const DecisionRow& d) {
  Query q(
      st("INSERT INTO decisions(at, profile_id, customer, proposal, decision, channel, reasons, rulebook, "
         "recorded_ms) VALUES(?,?,?,?,?,?,?,?,?)"));
  q->bind(1, d.at).bind(2, d.profile_id).bind_static(3, d.customer).bind_static(4, d.proposal);
  q->bind_static(5, d.decision).bind_static(6, d.channel).bind_static(7, d.reasons).bind_static(8, d.rulebook);
  q->bind(9, d.recorded_ms).run();
}

void Conn::delete_decisions_of(int64_t profile) {
  Query q(st("DELETE FROM decisions WHERE profile_id=?"));
  q->bind(1, profile).run();
}

void Conn::add_audit(const AuditRow& a) {
  Query q(st("INSERT INTO audit(at, actor, action, target, address, detail) VALUES(?,?,?,?,?,?)"));
  q->bind(1, a.at).bind_static(2, a.actor).bind_static(3, a.action).bind_static(4, a.target);
  q->bind_static(5, a.address).bind_static(6, a.detail).run();
}

void Conn::add_tombstone(std::string_view hash, int64_t at) {
  Query q(st("INSERT INTO tombstones(hash, erased_ms) VALUES(?,?) ON CONFLICT(hash) DO NOTHING"));
  q->bind_static(1, hash).bind(2, at).run();
}

namespace {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool continues_address(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/// Whether `text` holds `needle` (both lower case) not as the tail of a
/// longer address: erasing a@example.de must leave anna@example.de alone.
bool mentions(const std::string& text, const std::string& needle) {
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    if (at == 0 || !continues_address(text[at - 1])) return true;
  return false;
}

}  // namespace

size_t Conn::delete_payloads_mentioning(const std::vector<std::string>& needles) {
  size_t n = 0;
  for (const std::string& raw : needles) {
    if (raw.empty()) continue;
    const std::string needle = ascii_lower(raw);
    // instr() preselects (a plain substring search: no LIKE wildcards to
    // escape; case-insensitive because raw payloads hold addresses as people
    // typed them); mentions() then checks where each match starts.
    std::vector<int64_t> doomed;
    {
      Query q(
          st("/* scan */ SELECT id, payload, reason FROM dead_letters WHERE instr(lower(payload), ?1) > 0 OR "
             "instr(lower(reason), ?1) > 0"));
      q->bind_static(1, needle);
      while (q->step())
        if (mentions(ascii_lower(q->column_text(1)), needle) || mentions(ascii_lower(q->column_text(2)), needle))
          doomed.push_back(q->column_int(0));
    }
    for (int64_t id : doomed) delete_dead_letter(id);
    n += doomed.size();
    doomed.clear();
    {
      Query q(st("/* scan */ SELECT id, envelope FROM outbox WHERE instr(lower(envelope), ?1) > 0"));
      q->bind_static(1, needle);
      while (q->step())
        if (mentions(ascii_lower(q->column_text(1)), needle)) doomed.push_back(q->column_int(0));
    }
    for (int64_t id : doomed) {
      Query d(st("DELETE FROM outbox WHERE id=?"));
      d->bind(1, id).run();
    }
    n += doomed.size();
  }
  return n;
}

void Conn::add_dead_letter(const DeadLetter& d) {
  Query q(
      st("INSERT INTO dead_letters(record_id, pipeline, step, error_class, reason, location, payload, "
         "attempts, first_ms, last_ms, state) VALUES(?,?,?,?,?,?,?,?,?,?,'new')"));
  q->bind_static(1, d.record_id).bind_static(2, d.pipeline).bind_static(3, d.step).bind_static(4, d.error_class);
  q->bind_static(5, d.reason).bind_static(6, d.location).bind_static(7, d.payload).bind(8, int64_t{d.attempts});
  q->bind(9, d.first_ms).bind(10, d.last_ms).run();
}

void Conn::delete_dead_letter(int64_t id) {
  Query q(st("DELETE FROM dead_letters WHERE id=?"));
  q->bind(1, id).run();
}

void Conn::add_outbox(const OutboxItem& o) {
  Query q(
      st("INSERT INTO outbox(sink, pipeline, record_id, envelope, attempts, next_ms, first_ms, contact_id) "
         "VALUES(?,?,?,?,?,?,?,?)"));
  q->bind_static(1, o.sink).bind_static(2, o.pipeline).bind_static(3, o.record_id).bind_static(4, o.envelope);
  q->bind(5, int64_t{o.attempts}).bind(6, o.next_ms).bind(7, o.first_ms).bind_static(8, o.contact_id).run();
}

namespace {
constexpr const char* kContactColumns =
    "id, profile_id, channel, campaign, offer, offer_category, purpose, template, transactional, decision, "
    "reasons, state, provider_id, sink, request_source, request_id, created_ms, updated_ms";

ContactRow contact_row(Statement& q) {
  ContactRow c;
  c.id = q.column_text(0);
  c.profile_id = q.column_int(1);
  c.channel = q.column_text(2);
  c.campaign = q.column_text(3);
  c.offer = q.column_text(4);
  c.offer_category = q.column_text(5);
  c.purpose = q.column_text(6);
  c.template_name = q.column_text(7);
  c.transactional = q.column_int(8) != 0;
  c.decision = q.column_text(9);
  c.reasons = q.column_text(10);
  c.state = q.column_text(11);
  c.provider_id = q.column_text(12);
  c.sink = q.column_text(13);
  c.request_source = q.column_text(14);
  c.request_id = q.column_text(15);
  c.created_ms = q.column_int(16);
  c.updated_ms = q.column_int(17);
  return c;
}
}  // namespace

void Conn::put_contact(const ContactRow& c) {
  static const std::string sql = std::string("INSERT OR REPLACE INTO contacts(") + kContactColumns +
                                 ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  Query q(st(sql.c_str()));
  q->bind_static(1, c.id).bind(2, c.profile_id).bind_static(3, c.channel).bind_static(4, c.campaign);
  q->bind_static(5, c.offer).bind_static(6, c.offer_category).bind_static(7, c.purpose);
  q->bind_static(8, c.template_name).bind(9, int64_t{c.transactional ? 1 : 0}).bind_static(10, c.decision);
  q->bind_static(11, c.reasons).bind_static(12, c.state).bind_static(13, c.provider_id).bind_static(14, c.sink);
  q->bind_static(15, c.request_source).bind_static(16, c.request_id).bind(17, c.created_ms).bind(18, c.updated_ms);
  q->run();
}

void Conn::add_contact_event(const ContactEventRow& e) {
  Query q(st("INSERT INTO contact_events(contact_id, at, what, detail) VALUES(?,?,?,?)"));
  q->bind_static(1, e.contact_id).bind(2, e.at).bind_static(3, e.what).bind_static(4, e.detail).run();
}

void Conn::update_contact(const ContactUpdate& u) {
  if (u.provider_id.empty()) {
    Query q(st("UPDATE contacts SET state=?, updated_ms=? WHERE id=?"));
    q->bind_static(1, u.state).bind(2, u.event.at).bind_static(3, u.contact_id).run();
  } else {
    Query q(st("UPDATE contacts SET state=?, provider_id=?, updated_ms=? WHERE id=?"));
    q->bind_static(1, u.state).bind_static(2, u.provider_id).bind(3, u.event.at).bind_static(4, u.contact_id).run();
  }
  ContactEventRow e = u.event;
  e.contact_id = u.contact_id;
  add_contact_event(e);
}

void Conn::move_contacts(int64_t from, int64_t to) {
  Query q(st("UPDATE contacts SET profile_id=? WHERE profile_id=?"));
  q->bind(1, to).bind(2, from).run();
}

size_t Conn::delete_contacts_of(int64_t profile) {
  // The reports keep counts, but nothing that still names the person.
  {
    Query q(
        st("DELETE FROM report_contact_conversions WHERE contact_id IN (SELECT id FROM contacts WHERE profile_id=?)"));
    q->bind(1, profile).run();
  }
  {
    Query q(st("DELETE FROM report_members WHERE profile_id=?"));
    q->bind(1, profile).run();
  }
  {
    Query q(st("DELETE FROM contact_events WHERE contact_id IN (SELECT id FROM contacts WHERE profile_id=?)"));
    q->bind(1, profile).run();
  }
  Query q(st("DELETE FROM contacts WHERE profile_id=?"));
  q->bind(1, profile).run();
  return static_cast<size_t>(db_.changes());
}

std::optional<ContactRow> Conn::contact(std::string_view id) {
  static const std::string sql = std::string("SELECT ") + kContactColumns + " FROM contacts WHERE id=?";
  Query q(st(sql.c_str()));
  q->bind_static(1, id);
  if (!q->step()) return std::nullopt;
  return contact_row(*q);
}

std::optional<ContactRow> Conn::contact_by_provider(std::string_view provider_id) {
  if (provider_id.empty()) return std::nullopt;
  static const std::string sql = std::string("SELECT ") + kContactColumns +
                                 " FROM contacts WHERE provider_id=? AND provider_id != '' ORDER BY created_ms DESC "
                                 "LIMIT 1";
  Query q(st(sql.c_str()));
  q->bind_static(1, provider_id);
  if (!q->step()) return std::nullopt;
  return contact_row(*q);
}

std::vector<ContactEventRow> Conn::contact_events(std::string_view id) {
  Query q(st("SELECT contact_id, at, what, detail FROM contact_events WHERE contact_id=? ORDER BY at, rowid"));
  q->bind_static(1, id);
  std::vector<ContactEventRow> out;
  while (q->step())
    out.push_back(ContactEventRow{q->column_text(0), q->column_int(1), q->column_text(2), q->column_text(3)});
  return out;
}

std::vector<ContactRow> Conn::contacts_of(int64_t profile, size_t limit) {
  static const std::string sql = std::string("SELECT ") + kContactColumns +
                                 " FROM contacts WHERE profile_id=? ORDER BY created_ms DESC, id LIMIT ?";
  Query q(st(sql.c_str()));
  q->bind(1, profile).bind(2, static_cast<int64_t>(limit));
  std::vector<ContactRow> out;
  while (q->step()) out.push_back(contact_row(*q));
  return out;
}

std::vector<ContactRow> Conn::contacts_in_window(int64_t profile, int64_t from_ms, int64_t to_ms, size_t limit) {
  static const std::string sql =
      std::string("SELECT ") + kContactColumns +
      " FROM contacts WHERE profile_id=? AND created_ms BETWEEN ? AND ? ORDER BY created_ms DESC, id LIMIT ?";
  Query q(st(sql.c_str()));
  q->bind(1, profile).bind(2, from_ms).bind(3, to_ms).bind(4, static_cast<int64_t>(limit));
  std::vector<ContactRow> out;
  while (q->step()) out.push_back(contact_row(*q));
  return out;
}

void Conn::set_checkpoint(std::string_view instance, std::string_view cursor, int64_t now) {
  Query q(
      st("INSERT INTO checkpoints(instance, cursor, updated_ms) VALUES(?,?,?) "
         "ON CONFLICT(instance) DO UPDATE SET cursor=excluded.cursor, updated_ms=excluded.updated_ms"));
  q->bind_static(1, instance).bind_static(2, cursor).bind(3, now).run();
}

void Conn::set_journal_position(uint64_t seq) {
  Query q(
      st("INSERT INTO journal_position(consumer, seq) VALUES('store', ?) "
         "ON CONFLICT(consumer) DO UPDATE SET seq=excluded.seq"));
  q->bind(1, static_cast<int64_t>(seq)).run();
}

}  // namespace touchpoint::core::sqlite
