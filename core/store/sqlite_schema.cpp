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
    // The customer model: lineage and state per profile, origins for unmerge,
    // the timeline, suppression lists, merges and conflicts, decisions, the
    // audit log and GDPR tombstones.
    {3, R"sql(
ALTER TABLE profiles ADD COLUMN state TEXT NOT NULL DEFAULT '{}';
ALTER TABLE identities ADD COLUMN origin_profile INTEGER NOT NULL DEFAULT 0;
UPDATE identities SET origin_profile = profile_id;
ALTER TABLE records ADD COLUMN origin_profile INTEGER NOT NULL DEFAULT 0;
UPDATE records SET origin_profile = COALESCE(profile_id, 0);
CREATE INDEX identities_by_origin ON identities(origin_profile);
CREATE INDEX records_by_origin ON records(origin_profile);
CREATE INDEX profiles_merged_into ON profiles(merged_into) WHERE merged_into IS NOT NULL AND merged_into != 0;
CREATE TABLE timeline (
  profile_id  INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  event_type  TEXT    NOT NULL,
  channel     TEXT    NOT NULL DEFAULT '',
  purpose     TEXT    NOT NULL DEFAULT '',
  product     TEXT    NOT NULL DEFAULT '',
  category    TEXT    NOT NULL DEFAULT '',
  campaign    TEXT    NOT NULL DEFAULT '',
  offer       TEXT    NOT NULL DEFAULT '',
  revenue     REAL,
  record_seq  INTEGER NOT NULL
);
CREATE INDEX timeline_by_profile ON timeline(profile_id, at);
CREATE TABLE suppressions (
  list      TEXT    NOT NULL,
  subject   TEXT    NOT NULL,
  reason    TEXT    NOT NULL DEFAULT '',
  channels  TEXT    NOT NULL DEFAULT '[]',
  until_ms  INTEGER NOT NULL DEFAULT 0,
  added_ms  INTEGER NOT NULL,
  source    TEXT    NOT NULL DEFAULT '',
  PRIMARY KEY (list, subject)
) WITHOUT ROWID;
CREATE INDEX suppressions_by_subject ON suppressions(subject);
CREATE TABLE merges (
  id            INTEGER PRIMARY KEY,
  survivor      INTEGER NOT NULL,
  merged        INTEGER NOT NULL,
  record_source TEXT    NOT NULL,
  record_id     TEXT    NOT NULL,
  at            INTEGER NOT NULL,
  state         TEXT    NOT NULL DEFAULT 'merged'
);
CREATE INDEX merges_by_survivor ON merges(survivor);
CREATE INDEX merges_by_merged ON merges(merged);
CREATE TABLE conflicts (
  id            INTEGER PRIMARY KEY,
  profile_a     INTEGER NOT NULL,
  profile_b     INTEGER NOT NULL,
  kind          TEXT    NOT NULL,
  detail        TEXT    NOT NULL,
  record_source TEXT    NOT NULL,
  record_id     TEXT    NOT NULL,
  at            INTEGER NOT NULL
);
CREATE INDEX conflicts_by_a ON conflicts(profile_a);
CREATE INDEX conflicts_by_b ON conflicts(profile_b);
CREATE TABLE decisions (
  id          INTEGER PRIMARY KEY,
  at          INTEGER NOT NULL,
  profile_id  INTEGER NOT NULL,
  customer    TEXT    NOT NULL,
  proposal    TEXT    NOT NULL,
  decision    TEXT    NOT NULL,
  channel     TEXT    NOT NULL,
  reasons     TEXT    NOT NULL,
  rulebook    TEXT    NOT NULL,
  recorded_ms INTEGER NOT NULL
);
CREATE INDEX decisions_by_profile ON decisions(profile_id, id);
CREATE TABLE audit (
  id      INTEGER PRIMARY KEY,
  at      INTEGER NOT NULL,
  actor   TEXT    NOT NULL,
  action  TEXT    NOT NULL,
  target  TEXT    NOT NULL,
  address TEXT    NOT NULL,
  detail  TEXT    NOT NULL
);
CREATE TABLE tombstones (
  hash      TEXT PRIMARY KEY,
  erased_ms INTEGER NOT NULL
) WITHOUT ROWID;
-- 'profiles' counts live profiles: merged ones no longer count.
DROP TRIGGER profiles_counted_insert;
DROP TRIGGER profiles_counted_delete;
CREATE TRIGGER profiles_counted_insert AFTER INSERT ON profiles WHEN COALESCE(new.merged_into, 0) = 0
  BEGIN UPDATE store_counters SET value = value + 1 WHERE name = 'profiles'; END;
CREATE TRIGGER profiles_counted_delete AFTER DELETE ON profiles WHEN COALESCE(old.merged_into, 0) = 0
  BEGIN UPDATE store_counters SET value = value - 1 WHERE name = 'profiles'; END;
CREATE TRIGGER profiles_counted_merge AFTER UPDATE OF merged_into ON profiles
  WHEN (COALESCE(old.merged_into, 0) = 0) != (COALESCE(new.merged_into, 0) = 0)
  BEGIN UPDATE store_counters SET value = value + (CASE WHEN COALESCE(new.merged_into, 0) = 0 THEN 1 ELSE -1 END)
        WHERE name = 'profiles'; END;
UPDATE store_counters SET value = (SELECT COUNT(*) FROM profiles WHERE COALESCE(merged_into, 0) = 0)
  WHERE name = 'profiles';
)sql"},
    // Exact record counts also after GDPR erasure (MAX(seq) overstated them),
    // and profile ids that are never handed out again once erased: another
    // system may still hold the old id.
    {4, R"sql(
INSERT INTO store_counters(name, value) VALUES
  ('records', (SELECT COUNT(*) FROM records)),
  ('profile_ids_issued', (SELECT COALESCE(MAX(id), 0) FROM profiles));
CREATE TRIGGER records_counted_insert AFTER INSERT ON records
  BEGIN UPDATE store_counters SET value = value + 1 WHERE name = 'records'; END;
CREATE TRIGGER records_counted_delete AFTER DELETE ON records
  BEGIN UPDATE store_counters SET value = value - 1 WHERE name = 'records'; END;
CREATE TRIGGER profile_ids_issued AFTER INSERT ON profiles
  BEGIN UPDATE store_counters SET value = new.id WHERE name = 'profile_ids_issued' AND value < new.id; END;
)sql"},
    // The closed loop: the contact ledger with each contact's history, and
    // outbox items that know their contact and when they were handed over.
    {5, R"sql(
CREATE TABLE contacts (
  id             TEXT    PRIMARY KEY,
  profile_id     INTEGER NOT NULL,
  channel        TEXT    NOT NULL,
  campaign       TEXT    NOT NULL DEFAULT '',
  offer          TEXT    NOT NULL DEFAULT '',
  offer_category TEXT    NOT NULL DEFAULT '',
  purpose        TEXT    NOT NULL DEFAULT '',
  template       TEXT    NOT NULL DEFAULT '',
  transactional  INTEGER NOT NULL DEFAULT 0,
  decision       TEXT    NOT NULL,
  reasons        TEXT    NOT NULL DEFAULT '[]',
  state          TEXT    NOT NULL,
  provider_id    TEXT    NOT NULL DEFAULT '',
  sink           TEXT    NOT NULL DEFAULT '',
  request_source TEXT    NOT NULL DEFAULT '',
  request_id     TEXT    NOT NULL DEFAULT '',
  created_ms     INTEGER NOT NULL,
  updated_ms     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX contacts_by_profile ON contacts(profile_id, created_ms);
CREATE INDEX contacts_by_provider ON contacts(provider_id) WHERE provider_id != '';
CREATE TABLE contact_events (
  contact_id TEXT    NOT NULL,
  at         INTEGER NOT NULL,
  what       TEXT    NOT NULL,
  detail     TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX contact_events_by_contact ON contact_events(contact_id, at);
ALTER TABLE outbox ADD COLUMN contact_id TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN sending_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_in_doubt ON outbox(sink) WHERE sending_ms != 0;
)sql"},
    // Reports (docs/reports.md): counters kept in the transaction that
    // changes what they count, so a report reads a few thousand rows, never
    // the ledger. The contact funnel is counted by triggers on the contact
    // history (each step once per contact; a machine's open or click never);
    // conversions and attribution are written by the customer model when a
    // conversion event is applied; the rest is refreshed on a schedule.
    {6, R"sql(
CREATE TABLE report_funnel (
  campaign TEXT    NOT NULL,
  channel  TEXT    NOT NULL,
  metric   TEXT    NOT NULL,  -- requested, contacted, holdout, suppressed, sent, delivered, ..., converted, revenue
  day      INTEGER NOT NULL,  -- UTC day of the contact's creation (ms / 86400000)
  n                NOT NULL,  -- no affinity: counts stay integers, revenue is real
  PRIMARY KEY (campaign, channel, metric, day)
) WITHOUT ROWID;
CREATE TABLE report_suppressed (
  campaign TEXT    NOT NULL,
  channel  TEXT    NOT NULL,
  reason   TEXT    NOT NULL,
  day      INTEGER NOT NULL,
  n        INTEGER NOT NULL,
  PRIMARY KEY (campaign, channel, reason, day)
) WITHOUT ROWID;
CREATE TABLE report_attribution (
  model       TEXT    NOT NULL,
  campaign    TEXT    NOT NULL,  -- '' : unattributed (no contact before it, or none targeted it)
  channel     TEXT    NOT NULL,
  day         INTEGER NOT NULL,  -- UTC day of the conversion
  conversions REAL    NOT NULL,
  revenue     REAL    NOT NULL,
  PRIMARY KEY (model, campaign, channel, day)
) WITHOUT ROWID;
-- The conversion events already credited (by the seq of their record): a
-- profile rebuilt after an unmerge applies its records again.
CREATE TABLE report_credited (
  record_seq INTEGER PRIMARY KEY
);
CREATE TABLE report_contact_conversions (
  contact_id         TEXT PRIMARY KEY,
  conversions        INTEGER NOT NULL,
  target_conversions INTEGER NOT NULL,
  revenue            REAL    NOT NULL
) WITHOUT ROWID;
-- The members of each campaign's groups, one row per person, added when the
-- contact is decided: both the size and the converted count of a group.
CREATE TABLE report_members (
  campaign         TEXT    NOT NULL,
  grp              TEXT    NOT NULL,  -- 'treated' (decided send) or 'control' (held out)
  profile_id       INTEGER NOT NULL,
  day              INTEGER NOT NULL,  -- UTC day of the first contact
  converted        INTEGER NOT NULL DEFAULT 0,
  converted_target INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (campaign, grp, profile_id)
) WITHOUT ROWID;
CREATE INDEX report_members_by_profile ON report_members(profile_id);
-- The groups' sizes and conversions per campaign and day, kept by triggers
-- on the members: the control report reads these, not the members.
CREATE TABLE report_groups (
  campaign         TEXT    NOT NULL,
  grp              TEXT    NOT NULL,
  day              INTEGER NOT NULL,
  members          INTEGER NOT NULL,
  converted        INTEGER NOT NULL,
  converted_target INTEGER NOT NULL,
  PRIMARY KEY (campaign, grp, day)
) WITHOUT ROWID;
CREATE TRIGGER report_member_added AFTER INSERT ON report_members
BEGIN
  INSERT INTO report_groups(campaign, grp, day, members, converted, converted_target)
    VALUES (new.campaign, new.grp, new.day, 1, new.converted, new.converted_target)
    ON CONFLICT DO UPDATE SET members = members + 1, converted = converted + excluded.converted,
                              converted_target = converted_target + excluded.converted_target;
END;
CREATE TRIGGER report_member_converted AFTER UPDATE OF converted, converted_target ON report_members
BEGIN
  UPDATE report_groups SET converted = converted + new.converted - old.converted,
                           converted_target = converted_target + new.converted_target - old.converted_target
   WHERE campaign = old.campaign AND grp = old.grp AND day = old.day;
END;
CREATE TRIGGER report_member_removed AFTER DELETE ON report_members
BEGIN
  UPDATE report_groups SET members = members - 1, converted = converted - old.converted,
                           converted_target = converted_target - old.converted_target
   WHERE campaign = old.campaign AND grp = old.grp AND day = old.day;
END;
CREATE TABLE report_sources (
  source          TEXT    NOT NULL,
  pipeline        TEXT    NOT NULL,
  records         INTEGER NOT NULL,
  last_ts_ms      INTEGER NOT NULL,
  last_applied_ms INTEGER NOT NULL,
  PRIMARY KEY (source, pipeline)
) WITHOUT ROWID;
CREATE TABLE report_state (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE report_snapshots (
  kind        TEXT PRIMARY KEY,
  computed_ms INTEGER NOT NULL,
  body        TEXT    NOT NULL
) WITHOUT ROWID;
-- Freshness starts from what is stored, once, here: a refresh then reads
-- only what was applied since.
INSERT INTO report_sources(source, pipeline, records, last_ts_ms, last_applied_ms)
  SELECT source, pipeline, COUNT(*), MAX(ts_ms), MAX(applied_ms) FROM records GROUP BY source, pipeline;
INSERT INTO report_state(name, value) VALUES ('sources_seq', (SELECT COALESCE(MAX(seq), 0) FROM records));
CREATE TRIGGER report_contact_requested AFTER INSERT ON contact_events WHEN new.what = 'requested'
BEGIN
  INSERT INTO report_funnel(campaign, channel, metric, day, n)
    SELECT campaign, channel, 'requested', created_ms / 86400000, 1 FROM contacts WHERE id = new.contact_id
    ON CONFLICT DO UPDATE SET n = n + 1;
  INSERT INTO report_funnel(campaign, channel, metric, day, n)
    SELECT campaign, channel,
           CASE decision WHEN 'suppress' THEN 'suppressed' WHEN 'holdout' THEN 'holdout' ELSE 'contacted' END,
           created_ms / 86400000, 1 FROM contacts WHERE id = new.contact_id
    ON CONFLICT DO UPDATE SET n = n + 1;
  INSERT INTO report_suppressed(campaign, channel, reason, day, n)
    SELECT c.campaign, c.channel, COALESCE(json_extract(r.value, '$.code'), ''), c.created_ms / 86400000, 1
      FROM contacts c, json_each(CASE WHEN json_valid(c.reasons) THEN c.reasons ELSE '[]' END) r
     WHERE c.id = new.contact_id AND c.decision = 'suppress'
    ON CONFLICT DO UPDATE SET n = n + 1;
  INSERT INTO report_members(campaign, grp, profile_id, day)
    SELECT campaign, CASE decision WHEN 'holdout' THEN 'control' ELSE 'treated' END, profile_id,
           created_ms / 86400000 FROM contacts
     WHERE id = new.contact_id AND decision IN ('send', 'holdout') AND profile_id != 0
    ON CONFLICT DO NOTHING;
END;
-- A machine's open or click (a link scanner, a proxy's prefetch) carries
-- "machine": true in its detail and is never counted.
CREATE TRIGGER report_contact_progress AFTER INSERT ON contact_events
  WHEN (new.what IN ('sent', 'failed') OR new.what LIKE 'response:%')
   AND NOT (new.what IN ('response:opened', 'response:clicked') AND json_valid(new.detail)
            AND COALESCE(json_type(new.detail, '$.detail.machine'), '') = 'true')
   AND NOT EXISTS (SELECT 1 FROM contact_events e
                    WHERE e.contact_id = new.contact_id AND e.what = new.what AND e.rowid != new.rowid
                      AND NOT (e.what IN ('response:opened', 'response:clicked') AND json_valid(e.detail)
                               AND COALESCE(json_type(e.detail, '$.detail.machine'), '') = 'true'))
BEGIN
  INSERT INTO report_funnel(campaign, channel, metric, day, n)
    SELECT campaign, channel, CASE WHEN new.what LIKE 'response:%' THEN substr(new.what, 10) ELSE new.what END,
           created_ms / 86400000, 1 FROM contacts WHERE id = new.contact_id
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
-- Bounced: hard or soft, once per contact (a soft bounce is often followed by a hard one).
CREATE TRIGGER report_contact_bounced AFTER INSERT ON contact_events
  WHEN new.what IN ('response:bounce_hard', 'response:bounce_soft')
   AND NOT EXISTS (SELECT 1 FROM contact_events e
                    WHERE e.contact_id = new.contact_id AND e.rowid != new.rowid
                      AND e.what IN ('response:bounce_hard', 'response:bounce_soft'))
BEGIN
  INSERT INTO report_funnel(campaign, channel, metric, day, n)
    SELECT campaign, channel, 'bounced', created_ms / 86400000, 1 FROM contacts WHERE id = new.contact_id
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
-- Responded: the person acted (a human click, or a call that reached them).
CREATE TRIGGER report_contact_responded AFTER INSERT ON contact_events
  WHEN json_valid(new.detail)
   AND ((new.what = 'response:clicked' AND COALESCE(json_type(new.detail, '$.detail.machine'), '') != 'true')
        OR (new.what = 'response:call_outcome'
            AND json_extract(new.detail, '$.detail.outcome') IN ('reached', 'callback', 'sale', 'not_interested')))
   AND NOT EXISTS (SELECT 1 FROM contact_events e
                    WHERE e.contact_id = new.contact_id AND e.rowid != new.rowid AND json_valid(e.detail)
                      AND ((e.what = 'response:clicked'
                            AND COALESCE(json_type(e.detail, '$.detail.machine'), '') != 'true')
                           OR (e.what = 'response:call_outcome'
                               AND json_extract(e.detail, '$.detail.outcome')
                                   IN ('reached', 'callback', 'sale', 'not_interested'))))
BEGIN
  INSERT INTO report_funnel(campaign, channel, metric, day, n)
    SELECT campaign, channel, 'responded', created_ms / 86400000, 1 FROM contacts WHERE id = new.contact_id
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
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
