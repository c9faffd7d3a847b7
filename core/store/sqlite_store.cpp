#include "store/sqlite_store.hpp"

#include <algorithm>
#include <stdexcept>

#include "store/identity.hpp"
#include "store/sqlite_schema.hpp"
#include "util/clock.hpp"

namespace touchpoint::core {
namespace {

constexpr size_t kIdentityCacheMax = 2'000'000;
constexpr const char* kApplierConsumer = "store";

std::string cache_key(const IdentityKey& k) {
  std::string s;
  s.reserve(k.kind.size() + 1 + k.value.size());
  s.append(k.kind).push_back('\0');
  s.append(k.value);
  return s;
}

/// True if an object member anywhere below (through objects, not arrays) is
/// null: RFC 7396 merge patches remove those members.
bool has_null_member(const Json& j) {
  if (!j.is_object()) return false;
  for (const auto& [k, v] : j.items()) {
    if (v.is_null()) return true;
    if (v.is_object() && has_null_member(v)) return true;
  }
  return false;
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

}  // namespace

struct SqliteStore::Writer {
  explicit Writer(sqlite::Database& db)
      : insert_record(db,
                      "INSERT INTO records(id, profile_id, type, source, pipeline, key, ts_ms, applied_ms, data, meta) "
                      "VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT(source, id) DO NOTHING"),
        find_identity(db, "SELECT profile_id FROM identities WHERE kind=? AND value=?"),
        insert_identity(db,
                        "INSERT INTO identities(kind, value, profile_id, source, first_seen_ms) VALUES(?,?,?,?,?) "
                        "ON CONFLICT(kind, value) DO NOTHING"),
        insert_profile(db, "INSERT INTO profiles(id, created_ms, updated_ms, attributes) VALUES(?,?,?,?)"),
        insert_profile_patched(
            db, "INSERT INTO profiles(id, created_ms, updated_ms, attributes) VALUES(?,?,?,json_patch('{}',?))"),
        patch_profile(db, "UPDATE profiles SET attributes=json_patch(attributes, ?), updated_ms=? WHERE id=?"),
        touch_profile(db, "UPDATE profiles SET updated_ms=? WHERE id=?"),
        set_position(db,
                     "INSERT INTO journal_position(consumer, seq) VALUES(?, ?) "
                     "ON CONFLICT(consumer) DO UPDATE SET seq=excluded.seq"),
        set_checkpoint(db,
                       "INSERT INTO checkpoints(instance, cursor, updated_ms) VALUES(?,?,?) "
                       "ON CONFLICT(instance) DO UPDATE SET cursor=excluded.cursor, updated_ms=excluded.updated_ms"),
        insert_dead(db,
                    "INSERT INTO dead_letters(record_id, pipeline, step, error_class, reason, location, payload, "
                    "attempts, first_ms, last_ms, state) VALUES(?,?,?,?,?,?,?,?,?,?,'new')"),
        delete_dead(db, "DELETE FROM dead_letters WHERE id=?"),
        insert_outbox(db,
                      "INSERT INTO outbox(sink, pipeline, record_id, envelope, attempts, next_ms, first_ms) "
                      "VALUES(?,?,?,?,?,?,?)"),
        delete_outbox(db, "DELETE FROM outbox WHERE id=?"),
        retry_outbox(db, "UPDATE outbox SET attempts=?, next_ms=?, last_error=? WHERE id=?") {}

  sqlite::Statement insert_record, find_identity, insert_identity, insert_profile, insert_profile_patched,
      patch_profile, touch_profile, set_position, set_checkpoint, insert_dead, delete_dead, insert_outbox,
      delete_outbox, retry_outbox;
};

SqliteStore::SqliteStore(const std::filesystem::path& path) : path_(path) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  wdb_ = std::make_unique<sqlite::Database>(path);
  configure(*wdb_);
  schema_version_ = sqlite::migrate(*wdb_);
  w_ = std::make_unique<Writer>(*wdb_);
  rdb_ = std::make_unique<sqlite::Database>(path);
  rdb_->exec("PRAGMA query_only=1");
  sqlite::Statement max_id(*wdb_, "SELECT COALESCE(MAX(id), 0) FROM profiles");
  if (max_id.step()) next_profile_id_ = max_id.column_int(0) + 1;
}

SqliteStore::~SqliteStore() = default;

uint64_t SqliteStore::journal_position() {
  std::lock_guard<std::mutex> lk(write_mu_);
  sqlite::Statement q(*wdb_, "SELECT seq FROM journal_position WHERE consumer=?");
  q.bind(1, std::string_view(kApplierConsumer));
  return q.step() ? static_cast<uint64_t>(q.column_int(0)) : 0;
}

SqliteStore::Resolution SqliteStore::find_profile(const Record& record) {
  Resolution res;
  res.ids = extract_identities(record);
  for (size_t i = 0; i < res.ids.size(); ++i) {
    const IdentityKey& k = res.ids[i];
    std::string ck = cache_key(k);
    int64_t found = 0;
    if (auto it = identity_cache_.find(ck); it != identity_cache_.end()) {
      found = it->second;
    } else {
      auto& q = w_->find_identity;
      q.bind_static(1, k.kind).bind_static(2, k.value);
      if (q.step()) found = q.column_int(0);
      q.reset();
      if (found != 0) {
        if (identity_cache_.size() >= kIdentityCacheMax) identity_cache_.clear();
        identity_cache_.emplace(std::move(ck), found);
      }
    }
    if (found == 0) {
      res.missing.push_back(i);
    } else if (res.profile == 0) {
      res.profile = found;
    } else if (found != res.profile) {
      // Two identities name two different people. Merging is a later
      // capability; until then the first (highest precedence) wins and the
      // conflict is counted, never silently re-pointed.
      ++res.conflicts;
    }
  }
  return res;
}

void SqliteStore::write_profile(const Record& record, const std::string& data, const Resolution& res, int64_t profile,
                                int64_t now, ApplyStats& stats) {
  const bool is_profile = record.type == "profile";
  if (res.profile == 0) {
    // A new profile: its attributes are the record's data without null members,
    // which is what json_patch('{}', data) gives. Only data with nulls needs it.
    std::string_view attributes = is_profile ? std::string_view(data) : std::string_view("{}");
    auto& ins = is_profile && has_null_member(record.data) ? w_->insert_profile_patched : w_->insert_profile;
    ins.bind(1, profile).bind(2, now).bind(3, now).bind_static(4, attributes).run();
    ++stats.profiles_created;
  } else if (is_profile) {
    w_->patch_profile.bind_static(1, data).bind(2, now).bind(3, profile).run();
  } else {
    w_->touch_profile.bind(1, now).bind(2, profile).run();
  }
  for (size_t i : res.missing) {
    const IdentityKey& k = res.ids[i];
    w_->insert_identity.bind_static(1, k.kind)
        .bind_static(2, k.value)
        .bind(3, profile)
        .bind_static(4, record.source)
        .bind(5, now)
        .run();
    if (identity_cache_.size() >= kIdentityCacheMax) identity_cache_.clear();
    identity_cache_.emplace(cache_key(k), profile);
  }
}

void SqliteStore::insert_dead_letter(const DeadLetter& d) {
  w_->insert_dead.bind_static(1, d.record_id)
      .bind_static(2, d.pipeline)
      .bind_static(3, d.step)
      .bind_static(4, d.error_class)
      .bind_static(5, d.reason)
      .bind_static(6, d.location)
      .bind_static(7, d.payload)
      .bind(8, int64_t{d.attempts})
      .bind(9, d.first_ms)
      .bind(10, d.last_ms)
      .run();
}

ApplyStats SqliteStore::apply(const ApplyBatch& batch) {
  std::lock_guard<std::mutex> lk(write_mu_);
  ApplyStats stats;
  const int64_t now = now_ms();
  int64_t saved_next_profile = next_profile_id_;
  try {
    sqlite::Transaction tx(*wdb_);
    std::string data, meta;
    for (const ApplyBatch::Item& item : batch.records) {
      const Record& r = item.record;
      data = r.data.dump();
      meta = r.meta.empty() ? std::string("{}") : r.meta.dump();
      // Look the identities up first (read only), so the record row is
      // written once, already linked to its profile. A new profile takes the
      // next id, which is only consumed if the record is not a duplicate.
      Resolution res = find_profile(r);
      const int64_t profile = res.profile != 0 ? res.profile : next_profile_id_;
      auto& ins = w_->insert_record;
      ins.bind_static(1, r.id)
          .bind(2, profile)
          .bind_static(3, r.type)
          .bind_static(4, r.source)
          .bind_static(5, item.pipeline)
          .bind_static(6, r.key)
          .bind(7, r.ts_ms)
          .bind(8, now)
          .bind_static(9, data)
          .bind_static(10, meta)
          .run();
      if (wdb_->changes() == 0) {
        ++stats.duplicates;  // already applied before a crash or a replay
        continue;
      }
      if (res.profile == 0) ++next_profile_id_;
      stats.identity_conflicts += res.conflicts;
      write_profile(r, data, res, profile, now, stats);
      ++stats.applied;
    }
    for (const DeadLetter& d : batch.dead_letters) insert_dead_letter(d);
    for (int64_t id : batch.resolved_dead_letters) w_->delete_dead.bind(1, id).run();
    for (const OutboxItem& o : batch.outbox) {
      w_->insert_outbox.bind_static(1, o.sink)
          .bind_static(2, o.pipeline)
          .bind_static(3, o.record_id)
          .bind_static(4, o.envelope)
          .bind(5, int64_t{o.attempts})
          .bind(6, o.next_ms)
          .bind(7, o.first_ms)
          .run();
    }
    for (const auto& [instance, cursor] : batch.checkpoints)
      w_->set_checkpoint.bind_static(1, instance).bind_static(2, cursor).bind(3, now).run();
    if (batch.journal_seq > 0)
      w_->set_position.bind(1, std::string_view(kApplierConsumer))
          .bind(2, static_cast<int64_t>(batch.journal_seq))
          .run();
    tx.commit();
  } catch (...) {
    identity_cache_.clear();
    next_profile_id_ = saved_next_profile;
    throw;
  }
  return stats;
}

std::map<std::string, std::string> SqliteStore::checkpoints() {
  std::lock_guard<std::mutex> lk(read_mu_);
  std::map<std::string, std::string> out;
  sqlite::Statement q(*rdb_, "SELECT instance, cursor FROM checkpoints");
  while (q.step()) out[q.column_text(0)] = q.column_text(1);
  return out;
}

std::vector<DeadLetter> SqliteStore::query_dead_letters(sqlite::Database& db, const DlqFilter& f,
                                                        const char* select_prefix) {
  std::string sql = select_prefix;
  sql += " WHERE 1=1";
  if (f.id) sql += " AND id=?1";
  if (f.pipeline) sql += " AND pipeline=?2";
  if (f.state) sql += " AND state=?3";
  sql += " ORDER BY id LIMIT ?4";
  sqlite::Statement q(db, sql);
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

static constexpr const char* kDeadLetterColumns =
    "SELECT id, record_id, pipeline, step, error_class, reason, location, payload, attempts, first_ms, last_ms, "
    "state FROM dead_letters";

std::vector<DeadLetter> SqliteStore::dlq_list(const DlqFilter& filter) {
  std::lock_guard<std::mutex> lk(read_mu_);
  return query_dead_letters(*rdb_, filter, kDeadLetterColumns);
}

size_t SqliteStore::dlq_request_replay(const DlqFilter& f) {
  std::lock_guard<std::mutex> lk(write_mu_);
  // Raw source rejects are not envelopes: fix the input and deliver it again instead.
  std::string sql = "UPDATE dead_letters SET state='replay' WHERE state='new' AND step NOT IN ('source', 'journal')";
  if (f.id) sql += " AND id=?1";
  if (f.pipeline) sql += " AND pipeline=?2";
  sqlite::Statement q(*wdb_, sql);
  if (f.id) q.bind(1, *f.id);
  if (f.pipeline) q.bind(2, *f.pipeline);
  q.run();
  return static_cast<size_t>(wdb_->changes());
}

std::vector<DeadLetter> SqliteStore::dlq_replay_requests(size_t limit) {
  std::lock_guard<std::mutex> lk(write_mu_);
  DlqFilter f;
  f.state = "replay";
  f.limit = limit;
  return query_dead_letters(*wdb_, f, kDeadLetterColumns);
}

size_t SqliteStore::dlq_purge(const DlqFilter& f) {
  std::lock_guard<std::mutex> lk(write_mu_);
  std::string sql = "DELETE FROM dead_letters WHERE 1=1";
  if (f.id) sql += " AND id=?1";
  if (f.pipeline) sql += " AND pipeline=?2";
  if (f.state) sql += " AND state=?3";
  sqlite::Statement q(*wdb_, sql);
  if (f.id) q.bind(1, *f.id);
  if (f.pipeline) q.bind(2, *f.pipeline);
  if (f.state) q.bind(3, *f.state);
  q.run();
  return static_cast<size_t>(wdb_->changes());
}

std::vector<OutboxItem> SqliteStore::outbox_due(const std::string& sink, int64_t now, int64_t latest, size_t limit) {
  std::lock_guard<std::mutex> lk(read_mu_);
  sqlite::Statement q(*rdb_,
                      "SELECT id, sink, pipeline, record_id, envelope, attempts, next_ms, first_ms, last_error "
                      "FROM outbox WHERE sink=?1 AND (next_ms<=?2 OR next_ms>?3) ORDER BY next_ms, id LIMIT ?4");
  q.bind(1, sink).bind(2, now).bind(3, latest).bind(4, static_cast<int64_t>(limit));
  std::vector<OutboxItem> out;
  while (q.step()) {
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
    out.push_back(std::move(o));
  }
  return out;
}

void SqliteStore::outbox_settle(const OutboxSettlement& s) {
  std::lock_guard<std::mutex> lk(write_mu_);
  sqlite::Transaction tx(*wdb_);
  for (int64_t id : s.delivered) w_->delete_outbox.bind(1, id).run();
  for (const OutboxItem& o : s.retry)
    w_->retry_outbox.bind(1, int64_t{o.attempts}).bind(2, o.next_ms).bind_static(3, o.last_error).bind(4, o.id).run();
  for (const auto& [id, dead] : s.dead) {
    w_->delete_outbox.bind(1, id).run();
    insert_dead_letter(dead);
  }
  tx.commit();
}

uint64_t SqliteStore::outbox_depth(const std::string& sink) {
  std::lock_guard<std::mutex> lk(read_mu_);
  sqlite::Statement q(*rdb_, "SELECT COUNT(*) FROM outbox WHERE sink=?");
  q.bind(1, sink);
  return q.step() ? static_cast<uint64_t>(q.column_int(0)) : 0;
}

std::optional<ProfileView> SqliteStore::profile_find(const std::string& query, size_t recent) {
  std::lock_guard<std::mutex> lk(read_mu_);
  int64_t id = 0;
  bool numeric = !query.empty() && query.find_first_not_of("0123456789") == std::string::npos;
  if (numeric) {
    id = std::stoll(query);
  } else {
    std::string kind = "email", value = query;
    if (query.rfind("email:", 0) == 0 || query.rfind("phone:", 0) == 0) {
      // "email:jane@example.com", "phone:+49...": the value may hold anything.
      kind = query.substr(0, 5);
      value = query.substr(6);
    } else if (query.rfind("ext:", 0) == 0 && query.find(':', 4) != std::string::npos) {
      // "ext:crm:42": the system is the second part, the key everything after it.
      auto second = query.find(':', 4);
      kind = query.substr(0, second);
      value = query.substr(second + 1);
    } else if (query[0] == '+') {
      kind = "phone";  // an E.164 number as stored: "+4930123456"
    } else if (auto colon = query.find(':'); query.find('@') == std::string::npos && colon != std::string::npos) {
      auto last = query.rfind(':');
      kind = query.substr(0, last);
      value = query.substr(last + 1);
    }
    if (kind == "email") {
      for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    sqlite::Statement q(*rdb_, "SELECT profile_id FROM identities WHERE kind=? AND value=?");
    q.bind(1, kind).bind(2, value);
    if (q.step()) id = q.column_int(0);
  }
  if (id == 0) return std::nullopt;
  sqlite::Statement p(*rdb_, "SELECT id, created_ms, updated_ms, attributes FROM profiles WHERE id=?");
  p.bind(1, id);
  if (!p.step()) return std::nullopt;
  ProfileView v;
  v.id = p.column_int(0);
  v.created_ms = p.column_int(1);
  v.updated_ms = p.column_int(2);
  v.attributes = Json::parse(p.column_text(3));
  sqlite::Statement ids(*rdb_, "SELECT kind, value, source FROM identities WHERE profile_id=? ORDER BY kind, value");
  ids.bind(1, id);
  while (ids.step()) v.identities.push_back({ids.column_text(0), ids.column_text(1), ids.column_text(2)});
  sqlite::Statement recs(*rdb_,
                         "SELECT id, type, source, key, ts_ms, data, meta FROM records WHERE profile_id=? "
                         "ORDER BY ts_ms DESC, seq DESC LIMIT ?");
  recs.bind(1, id).bind(2, static_cast<int64_t>(recent));
  while (recs.step()) {
    Record r;
    r.id = recs.column_text(0);
    r.type = recs.column_text(1);
    r.source = recs.column_text(2);
    r.key = recs.column_text(3);
    r.ts_ms = recs.column_int(4);
    r.data = Json::parse(recs.column_text(5));
    r.meta = Json::parse(recs.column_text(6));
    v.recent.push_back(std::move(r));
  }
  return v;
}

StoreStats SqliteStore::stats() {
  std::lock_guard<std::mutex> lk(read_mu_);
  StoreStats s;
  sqlite::Statement q(*rdb_, "SELECT name, value FROM store_counters");
  while (q.step()) {
    const std::string name = q.column_text(0);
    const auto value = static_cast<uint64_t>(std::max<int64_t>(0, q.column_int(1)));
    if (name == "profiles") s.profiles = value;
    if (name == "dead_letters") s.dead_letters = value;
    if (name == "outbox") s.outbox = value;
  }
  sqlite::Statement records(*rdb_, "SELECT COALESCE(MAX(seq), 0) FROM records");  // never deleted: MAX is COUNT
  if (records.step()) s.records = static_cast<uint64_t>(records.column_int(0));
  return s;
}

std::string SqliteStore::describe() {
  return "sqlite store " + path_.string() + " at schema version " + std::to_string(schema_version_);
}

}  // namespace touchpoint::core
