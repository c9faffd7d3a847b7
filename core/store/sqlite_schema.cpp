#include "store/sqlite_schema.hpp"

#include <stdexcept>
#include <string>

#include "util/clock.hpp"

namespace touchpoint::core::sqlite {
namespace {

struct Migration {
  int version;
  const char* sql;
};

// Append only. Never edit a migration that has shipped: add a new one.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE profiles (
  id          INTEGER PRIMARY KEY,
  created_ms  INTEGER NOT NULL,
  updated_ms  INTEGER NOT NULL,
  attributes  TEXT    NOT NULL DEFAULT '{}',
  -- room for merging (later): a merged profile points at the survivor
  merged_into INTEGER
);
CREATE TABLE identities (
  kind          TEXT    NOT NULL,  -- 'email', 'phone', 'ext:<system>'
  value         TEXT    NOT NULL,
  profile_id    INTEGER NOT NULL,
  source        TEXT    NOT NULL,  -- connector instance that first reported it
  first_seen_ms INTEGER NOT NULL,
  PRIMARY KEY (kind, value)
) WITHOUT ROWID;
CREATE INDEX identities_by_profile ON identities(profile_id);
-- Every applied record (profiles and events/touchpoints). Its id makes
-- applying idempotent; it is also the lineage of each profile change.
CREATE TABLE records (
  seq        INTEGER PRIMARY KEY,
  id         TEXT    NOT NULL UNIQUE,
  profile_id INTEGER,
  type       TEXT    NOT NULL,
  source     TEXT    NOT NULL,
  pipeline   TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  ts_ms      INTEGER NOT NULL,
  applied_ms INTEGER NOT NULL,
  data       TEXT    NOT NULL,
  meta       TEXT    NOT NULL
);
CREATE INDEX records_by_profile ON records(profile_id, ts_ms);
CREATE TABLE journal_position (
  consumer TEXT PRIMARY KEY,
  seq      INTEGER NOT NULL
);
CREATE TABLE checkpoints (
  instance   TEXT PRIMARY KEY,
  cursor     TEXT    NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE dead_letters (
  id          INTEGER PRIMARY KEY,
  record_id   TEXT    NOT NULL,
  pipeline    TEXT    NOT NULL,
  step        TEXT    NOT NULL,
  error_class TEXT    NOT NULL,
  reason      TEXT    NOT NULL,
  location    TEXT    NOT NULL,
  payload     TEXT    NOT NULL,
  attempts    INTEGER NOT NULL,
  first_ms    INTEGER NOT NULL,
  last_ms     INTEGER NOT NULL,
  state       TEXT    NOT NULL DEFAULT 'new'
);
CREATE INDEX dead_letters_by_state ON dead_letters(state, id);
CREATE TABLE outbox (
  id         INTEGER PRIMARY KEY,
  sink       TEXT    NOT NULL,
  pipeline   TEXT    NOT NULL,
  record_id  TEXT    NOT NULL,
  envelope   TEXT    NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  next_ms    INTEGER NOT NULL,
  first_ms   INTEGER NOT NULL,
  last_error TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox(sink, next_ms);
)sql"},
    // Idempotency per source: a record id names one delivery of one source, so
    // two pipelines that both send id 1001 keep two records. And row counts
    // kept by triggers, so /metrics never scans a table.
    {2, R"sql(
CREATE TABLE records_v2 (
  seq        INTEGER PRIMARY KEY,
  id         TEXT    NOT NULL,
  profile_id INTEGER,
  type       TEXT    NOT NULL,
  source     TEXT    NOT NULL,
  pipeline   TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  ts_ms      INTEGER NOT NULL,
  applied_ms INTEGER NOT NULL,
  data       TEXT    NOT NULL,
  meta       TEXT    NOT NULL,
  UNIQUE (source, id)
);
INSERT INTO records_v2 SELECT seq, id, profile_id, type, source, pipeline, key, ts_ms, applied_ms, data, meta FROM records;
DROP TABLE records;
ALTER TABLE records_v2 RENAME TO records;
CREATE INDEX records_by_profile ON records(profile_id, ts_ms);
CREATE TABLE store_counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO store_counters(name, value) VALUES
  ('profiles', (SELECT COUNT(*) FROM profiles)),
  ('dead_letters', (SELECT COUNT(*) FROM dead_letters)),
  ('outbox', (SELECT COUNT(*) FROM outbox));
CREATE TRIGGER profiles_counted_insert AFTER INSERT ON profiles
  BEGIN UPDATE store_counters SET value = value + 1 WHERE name = 'profiles'; END;
CREATE TRIGGER profiles_counted_delete AFTER DELETE ON profiles
  BEGIN UPDATE store_counters SET value = value - 1 WHERE name = 'profiles'; END;
CREATE TRIGGER dead_letters_counted_insert AFTER INSERT ON dead_letters
  BEGIN UPDATE store_counters SET value = value + 1 WHERE name = 'dead_letters'; END;
CREATE TRIGGER dead_letters_counted_delete AFTER DELETE ON dead_letters
  BEGIN UPDATE store_counters SET value = value - 1 WHERE name = 'dead_letters'; END;
CREATE TRIGGER outbox_counted_insert AFTER INSERT ON outbox
  BEGIN UPDATE store_counters SET value = value + 1 WHERE name = 'outbox'; END;
CREATE TRIGGER outbox_counted_delete AFTER DELETE ON outbox
  BEGIN UPDATE store_counters SET value = value - 1 WHERE name = 'outbox'; END;
)sql"},
};

}  // namespace

int latest_schema_version() { return kMigrations[std::size(kMigrations) - 1].version; }

int migrate(Database& db) {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)");
  int current = 0;
  {
    Statement q(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (q.step()) current = static_cast<int>(q.column_int(0));
  }
  if (current > latest_schema_version())
    throw std::runtime_error("store schema version " + std::to_string(current) + " is newer than this build (" +
                             std::to_string(latest_schema_version()) + "): refusing to run an older hub on it");
  for (const Migration& m : kMigrations) {
    if (m.version <= current) continue;
    Transaction tx(db);
    db.exec(m.sql);
    Statement ins(db, "INSERT INTO schema_migrations(version, applied_ms) VALUES(?, ?)");
    ins.bind(1, int64_t{m.version}).bind(2, now_ms()).run();
    tx.commit();
    current = m.version;
  }
  return current;
}

}  // namespace touchpoint::core::sqlite
