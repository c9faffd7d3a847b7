#include "store/sqlite_store.hpp"

#include <stdexcept>

#include "store/sqlite_conn.hpp"
#include "store/sqlite_reports.hpp"
#include "store/sqlite_schema.hpp"
#include "util/clock.hpp"

namespace touchpoint::core {
namespace {

void configure_reads(sqlite::Database& db) {
  // The read connection serves decisions and profile views: without this it
  // had SQLite's 2 MiB default cache.
  db.exec("PRAGMA cache_size=-65536");
}

void configure(sqlite::Database& db) {
  db.exec("PRAGMA journal_mode=WAL");
  // FULL: a commit is on disk before the journal segments it covers may be deleted.
  db.exec("PRAGMA synchronous=FULL");
  db.exec("PRAGMA cache_size=-65536");
  db.exec("PRAGMA temp_store=MEMORY");
  // Checkpoint every ~64 MiB of WAL instead of every 4 MiB: far fewer
  // checkpoint fsyncs, and pages rewritten in between are copied once.
  db.exec("PRAGMA wal_autocheckpoint=16384");
  db.exec("PRAGMA journal_size_limit=134217728");
}

int64_t data_version(sqlite::Conn& c) {
  sqlite::Statement q(c.db(), "PRAGMA data_version");
  return q.step() ? q.column_int(0) : 0;
}

}  // namespace

// Reads on the shared read connection: one at a time, each call locked.
class SqliteStore::SharedReads final : public StoreReads {
 public:
  explicit SharedReads(const std::filesystem::path& path) : path_(path), conn_(path, true) {
    configure_reads(conn_.db());
  }
  sqlite::Conn& conn() { return conn_; }
  std::mutex& mu() { return mu_; }

#define TP_LOCKED(call)                \
  std::lock_guard<std::mutex> lk(mu_); \
  return conn_.call
  std::optional<int64_t> identity_profile(std::string_view kind, std::string_view value) override {
    TP_LOCKED(identity_profile(kind, value));
  }
  std::vector<IdentityRow> identities_of(int64_t p) override { TP_LOCKED(identities_of(p)); }
  std::vector<IdentityRow> identities_with_origin(const std::vector<int64_t>& o) override {
    TP_LOCKED(identities_with_origin(o));
  }
  std::optional<ProfileRow> profile(int64_t id) override { TP_LOCKED(profile(id)); }
  std::vector<int64_t> merged_into(int64_t s) override { TP_LOCKED(merged_into(s)); }
  std::vector<RecordRow> records_of(int64_t p, size_t limit, bool newest_first) override {
    TP_LOCKED(records_of(p, limit, newest_first));
  }
  std::vector<RecordRow> records_with_origin(const std::vector<int64_t>& o) override {
    TP_LOCKED(records_with_origin(o));
  }
  std::vector<EventRow> events_of(int64_t p, int64_t since) override { TP_LOCKED(events_of(p, since)); }
  std::vector<SuppressionRow> suppressions_for(const std::vector<std::string>& s) override {
    TP_LOCKED(suppressions_for(s));
  }
  std::vector<SuppressionRow> suppressions(std::string_view list, size_t limit) override {
    TP_LOCKED(suppressions(list, limit));
  }
  std::vector<MergeRow> merges_of(int64_t p) override { TP_LOCKED(merges_of(p)); }
  std::optional<MergeRow> merge(int64_t id) override { TP_LOCKED(merge(id)); }
  std::vector<ConflictRow> conflicts_of(int64_t p) override { TP_LOCKED(conflicts_of(p)); }
  std::vector<DecisionRow> decisions_of(int64_t p, size_t limit) override { TP_LOCKED(decisions_of(p, limit)); }
  std::vector<AuditRow> audit(size_t limit) override { TP_LOCKED(audit(limit)); }
  std::optional<ContactRow> contact(std::string_view id) override { TP_LOCKED(contact(id)); }
  std::optional<ContactRow> contact_by_provider(std::string_view p) override { TP_LOCKED(contact_by_provider(p)); }
  std::vector<ContactEventRow> contact_events(std::string_view id) override { TP_LOCKED(contact_events(id)); }
  std::vector<ContactRow> contacts_of(int64_t p, size_t n) override { TP_LOCKED(contacts_of(p, n)); }
  bool tombstoned(std::string_view h) override { TP_LOCKED(tombstoned(h)); }
  bool has_tombstones() override { TP_LOCKED(has_tombstones()); }
  void each_profile(const std::function<bool(const ProfileRow&)>& fn) override {
    // Not locked for the whole scan: a simulation over a million profiles
    // must not starve the admin API. Its own connection gives it a snapshot.
    sqlite::Conn scan(path_, true);
    scan.each_profile(fn);
  }
#undef TP_LOCKED

 private:
  std::filesystem::path path_;
  std::mutex mu_;
  sqlite::Conn conn_;
};

// The write transaction: holds the writer connection for its lifetime.
class SqliteStore::Txn final : public StoreTxn {
 public:
  Txn(SqliteStore& store) : store_(store), lock_(store.write_mu_), w_(*store.writer_), tx_(w_.db()) {
    const int64_t v = data_version(w_);
    changed_ = store_.data_version_ >= 0 && v != store_.data_version_;
    version_ = v;
  }

  bool changed_elsewhere() override { return changed_; }
  void commit() override {
    tx_.commit();
    // Our own commit does not change data_version for this connection.
    store_.data_version_ = version_;
    lock_.unlock();  // the transaction is over: the next begin() need not wait for our destructor
  }

  std::optional<int64_t> identity_profile(std::string_view k, std::string_view v) override {
    return w_.identity_profile(k, v);
  }
  std::vector<IdentityRow> identities_of(int64_t p) override { return w_.identities_of(p); }
  std::vector<IdentityRow> identities_with_origin(const std::vector<int64_t>& o) override {
    return w_.identities_with_origin(o);
  }
  std::optional<ProfileRow> profile(int64_t id) override { return w_.profile(id); }
  std::vector<int64_t> merged_into(int64_t s) override { return w_.merged_into(s); }
  std::vector<RecordRow> records_of(int64_t p, size_t limit, bool newest_first) override {
    return w_.records_of(p, limit, newest_first);
  }
  std::vector<RecordRow> records_with_origin(const std::vector<int64_t>& o) override {
    return w_.records_with_origin(o);
  }
  std::vector<EventRow> events_of(int64_t p, int64_t since) override { return w_.events_of(p, since); }
  std::vector<SuppressionRow> suppressions_for(const std::vector<std::string>& s) override {
    return w_.suppressions_for(s);
  }
  std::vector<SuppressionRow> suppressions(std::string_view l, size_t n) override { return w_.suppressions(l, n); }
  std::vector<MergeRow> merges_of(int64_t p) override { return w_.merges_of(p); }
  std::optional<MergeRow> merge(int64_t id) override { return w_.merge(id); }
  std::vector<ConflictRow> conflicts_of(int64_t p) override { return w_.conflicts_of(p); }
  std::vector<DecisionRow> decisions_of(int64_t p, size_t n) override { return w_.decisions_of(p, n); }
  std::vector<AuditRow> audit(size_t n) override { return w_.audit(n); }
  std::optional<ContactRow> contact(std::string_view id) override { return w_.contact(id); }
  std::optional<ContactRow> contact_by_provider(std::string_view p) override { return w_.contact_by_provider(p); }
  std::vector<ContactEventRow> contact_events(std::string_view id) override { return w_.contact_events(id); }
  std::vector<ContactRow> contacts_of(int64_t p, size_t n) override { return w_.contacts_of(p, n); }
  bool tombstoned(std::string_view h) override { return w_.tombstoned(h); }
  bool has_tombstones() override { return w_.has_tombstones(); }
  void each_profile(const std::function<bool(const ProfileRow&)>& fn) override { w_.each_profile(fn); }

  int64_t new_profile_id() override {
    if (next_profile_ == 0) next_profile_ = w_.max_profile_id() + 1;
    return next_profile_++;
  }
  void put_profile(const ProfileRow& r) override { w_.put_profile(r); }
  void delete_profile(int64_t id) override { w_.delete_profile(id); }
  void add_identity(const IdentityRow& r) override { w_.add_identity(r); }
  void set_identity_profile(std::string_view k, std::string_view v, int64_t p) override {
    w_.set_identity_profile(k, v, p);
  }
  void move_identities(int64_t from, int64_t to) override { w_.move_identities(from, to); }
  void delete_identities_of(int64_t p) override { w_.delete_identities_of(p); }
  bool insert_record(RecordRow& r) override { return w_.insert_record(r); }
  void move_records(int64_t from, int64_t to) override { w_.move_records(from, to); }
  void set_record_profile(int64_t seq, int64_t p) override { w_.set_record_profile(seq, p); }
  void delete_records_of(int64_t p) override { w_.delete_records_of(p); }
  void add_event(const EventRow& e) override { w_.add_event(e); }
  void move_events(int64_t from, int64_t to) override { w_.move_events(from, to); }
  void delete_events_of(int64_t p) override { w_.delete_events_of(p); }
  void put_suppression(const SuppressionRow& s) override { w_.put_suppression(s); }
  size_t remove_suppression(std::string_view l, std::string_view s) override { return w_.remove_suppression(l, s); }
  void move_suppressions(std::string_view from, std::string_view to) override { w_.move_suppressions(from, to); }
  size_t delete_suppressions_of(std::string_view s) override { return w_.delete_suppressions_of(s); }
  int64_t add_merge(const MergeRow& m) override { return w_.add_merge(m); }
  void set_merge_state(int64_t id, std::string_view s) override { w_.set_merge_state(id, s); }
  void add_conflict(const ConflictRow& c) override { w_.add_conflict(c); }
  void add_decision(const DecisionRow& d) override { w_.add_decision(d); }
  void delete_decisions_of(int64_t p) override { w_.delete_decisions_of(p); }
  void add_audit(const AuditRow& a) override { w_.add_audit(a); }
  void put_contact(const ContactRow& c) override { w_.put_contact(c); }
  void add_contact_event(const ContactEventRow& e) override { w_.add_contact_event(e); }
  void move_contacts(int64_t from, int64_t to) override { w_.move_contacts(from, to); }
  size_t delete_contacts_of(int64_t p) override { return w_.delete_contacts_of(p); }
  void add_tombstone(std::string_view h, int64_t at) override { w_.add_tombstone(h, at); }
  size_t delete_payloads_mentioning(const std::vector<std::string>& n) override {
    return w_.delete_payloads_mentioning(n);
  }
  std::vector<ContactRow> contacts_in_window(int64_t p, int64_t from, int64_t to, size_t limit) override {
    return w_.contacts_in_window(p, from, to, limit);
  }
  void add_conversion(const ConversionRows& c) override { sqlite::add_conversion(w_, c); }
  size_t refresh_report_sources(size_t max) override { return sqlite::refresh_report_sources(w_, max); }
  void put_report_snapshot(const std::string& kind, int64_t at, const std::string& body) override {
    sqlite::put_report_snapshot(w_, kind, at, body);
  }
  void add_dead_letter(const DeadLetter& d) override { w_.add_dead_letter(d); }
  void delete_dead_letter(int64_t id) override { w_.delete_dead_letter(id); }
  void add_outbox(const OutboxItem& o) override { w_.add_outbox(o); }
  void set_checkpoint(std::string_view i, std::string_view c, int64_t now) override { w_.set_checkpoint(i, c, now); }
  void set_journal_position(uint64_t seq) override { w_.set_journal_position(seq); }

 private:
  SqliteStore& store_;
  std::unique_lock<std::mutex> lock_;
  sqlite::Conn& w_;
  sqlite::Transaction tx_;
  bool changed_ = false;
  int64_t version_ = 0;
  int64_t next_profile_ = 0;
};

SqliteStore::SqliteStore(const std::filesystem::path& path) : path_(path) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  writer_ = std::make_unique<sqlite::Conn>(path, false);
  configure(writer_->db());
  schema_version_ = sqlite::migrate(writer_->db());
  reads_ = std::make_unique<SharedReads>(path);
  report_reads_ = std::make_unique<sqlite::ReportReadsConn>(path);
}

SqliteStore::~SqliteStore() = default;

uint64_t SqliteStore::journal_position() {
  std::lock_guard<std::mutex> lk(write_mu_);
  return writer_->journal_position();
}

std::unique_ptr<StoreTxn> SqliteStore::begin() { return std::make_unique<Txn>(*this); }

StoreReads& SqliteStore::reads() { return *reads_; }

ReportReads& SqliteStore::report_reads() { return *report_reads_; }

std::map<std::string, std::string> SqliteStore::checkpoints() {
  std::lock_guard<std::mutex> lk(reads_->mu());
  return reads_->conn().checkpoints();
}

std::vector<DeadLetter> SqliteStore::dlq_list(const DlqFilter& filter) {
  std::lock_guard<std::mutex> lk(reads_->mu());
  return reads_->conn().dead_letters(filter);
}

size_t SqliteStore::dlq_request_replay(const DlqFilter& f) {
  std::lock_guard<std::mutex> lk(write_mu_);
  // Raw source rejects are not envelopes: fix the input and deliver it again instead.
  std::string sql = "UPDATE dead_letters SET state='replay' WHERE state='new' AND step NOT IN ('source', 'journal')";
  if (f.id) sql += " AND id=?1";
  if (f.pipeline) sql += " AND pipeline=?2";
  sqlite::Statement q(writer_->db(), sql);
  if (f.id) q.bind(1, *f.id);
  if (f.pipeline) q.bind(2, *f.pipeline);
  q.run();
  return static_cast<size_t>(writer_->db().changes());
}

std::vector<DeadLetter> SqliteStore::dlq_replay_requests(size_t limit) {
  std::lock_guard<std::mutex> lk(write_mu_);
  DlqFilter f;
  f.state = "replay";
  f.limit = limit;
  return writer_->dead_letters(f);
}

size_t SqliteStore::dlq_purge(const DlqFilter& f) {
  std::lock_guard<std::mutex> lk(write_mu_);
  std::string sql = "DELETE FROM dead_letters WHERE 1=1";
  if (f.id) sql += " AND id=?1";
  if (f.pipeline) sql += " AND pipeline=?2";
  if (f.state) sql += " AND state=?3";
  sqlite::Statement q(writer_->db(), sql);
  if (f.id) q.bind(1, *f.id);
  if (f.pipeline) q.bind(2, *f.pipeline);
  if (f.state) q.bind(3, *f.state);
  q.run();
  return static_cast<size_t>(writer_->db().changes());
}

namespace {
constexpr const char* kOutboxColumns =
    "id, sink, pipeline, record_id, envelope, attempts, next_ms, first_ms, last_error, contact_id, sending_ms";

OutboxItem outbox_row(sqlite::Statement& q) {
  OutboxItem o;
  o.id = q.column_int(0);
  o.sink = q.column_text(1);
  o.pipeline = q.column_text(2);
  o.record_id = q.column_text(3);
  o.envelope = q.column_text(4);
  o.attempts = static_cast<int>(q.column_int(5));
  o.next_ms = q.column_int(6);
  o.first_ms = q.column_int(7);
  o.last_error = q.column_text(8);
  o.contact_id = q.column_text(9);
  o.sending_ms = q.column_int(10);
  return o;
}
}  // namespace

std::vector<OutboxItem> SqliteStore::outbox_due(const std::string& sink, int64_t now, int64_t latest, size_t limit) {
  std::lock_guard<std::mutex> lk(reads_->mu());
  // Items marked sending are in doubt (outbox_in_doubt), never simply due again.
  static const std::string sql = std::string("SELECT ") + kOutboxColumns +
                                 " FROM outbox WHERE sink=?1 AND (next_ms<=?2 OR next_ms>?3) AND sending_ms=0 "
                                 "ORDER BY next_ms, id LIMIT ?4";
  sqlite::Statement& q = reads_->conn().st(sql.c_str());
  q.bind(1, sink).bind(2, now).bind(3, latest).bind(4, static_cast<int64_t>(limit));
  std::vector<OutboxItem> out;
  while (q.step()) out.push_back(outbox_row(q));
  q.reset();
  return out;
}

std::vector<OutboxItem> SqliteStore::outbox_in_doubt(const std::string& sink, size_t limit) {
  std::lock_guard<std::mutex> lk(reads_->mu());
  static const std::string sql =
      std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE sink=?1 AND sending_ms!=0 ORDER BY id LIMIT ?2";
  sqlite::Statement& q = reads_->conn().st(sql.c_str());
  q.bind(1, sink).bind(2, static_cast<int64_t>(limit));
  std::vector<OutboxItem> out;
  while (q.step()) out.push_back(outbox_row(q));
  q.reset();
  return out;
}

void SqliteStore::outbox_mark_sending(const std::vector<OutboxItem>& items, int64_t now) {
  std::lock_guard<std::mutex> lk(write_mu_);
  sqlite::Transaction tx(writer_->db());
  for (const OutboxItem& o : items) {
    sqlite::Statement& q = writer_->st("UPDATE outbox SET sending_ms=? WHERE id=?");
    q.bind(1, now).bind(2, o.id).run();
    if (!o.contact_id.empty())
      writer_->update_contact(ContactUpdate{o.contact_id, "sending", "", ContactEventRow{"", now, "sending", "{}"}});
  }
  tx.commit();
}

void SqliteStore::outbox_settle(const OutboxSettlement& s) {
  std::lock_guard<std::mutex> lk(write_mu_);
  sqlite::Transaction tx(writer_->db());
  for (int64_t id : s.delivered) {
    sqlite::Statement& q = writer_->st("DELETE FROM outbox WHERE id=?");
    q.bind(1, id).run();
  }
  for (const OutboxItem& o : s.retry) {
    sqlite::Statement& q =
        writer_->st("UPDATE outbox SET attempts=?, next_ms=?, last_error=?, sending_ms=0 WHERE id=?");
    q.bind(1, int64_t{o.attempts}).bind(2, o.next_ms).bind_static(3, o.last_error).bind(4, o.id).run();
  }
  for (const ContactUpdate& u : s.contacts) writer_->update_contact(u);
  for (const auto& [id, dead] : s.dead) {
    sqlite::Statement& q = writer_->st("DELETE FROM outbox WHERE id=?");
    q.bind(1, id).run();
    writer_->add_dead_letter(dead);
  }
  tx.commit();
}

uint64_t SqliteStore::outbox_depth(const std::string& sink) {
  std::lock_guard<std::mutex> lk(reads_->mu());
  sqlite::Statement& q = reads_->conn().st("SELECT COUNT(*) FROM outbox WHERE sink=?");
  q.bind(1, sink);
  const uint64_t n = q.step() ? static_cast<uint64_t>(q.column_int(0)) : 0;
  q.reset();
  return n;
}

StoreStats SqliteStore::stats() {
  std::lock_guard<std::mutex> lk(reads_->mu());
  return reads_->conn().stats();
}

std::string SqliteStore::describe() {
  return "sqlite store " + path_.string() + " at schema version " + std::to_string(schema_version_);
}

}  // namespace touchpoint::core
