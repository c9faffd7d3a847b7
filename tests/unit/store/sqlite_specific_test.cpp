// What only the SQLite backend has: its file format. Schema migrations from
// version 1 (as shipped) to the latest with the data in place, refusal of a
// database from a newer build, a file that is not a database, WAL mode, and
// counters kept by triggers (also when another process edits the file).

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <stdexcept>

#include "backend.hpp"
#include "customer/customer_store.hpp"
#include "rows_util.hpp"
#include "store/sqlite_conn.hpp"
#include "store/sqlite_schema.hpp"
#include "store/sqlite_store.hpp"

namespace touchpoint::core::test {
namespace {

namespace fs = std::filesystem;

/// One value of a query on a separate raw connection (what another process would see).
std::string scalar(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::string out = "<error>";
  if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    out = "<no row>";
    if (sqlite3_step(st) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(st, 0);
      out = t ? reinterpret_cast<const char*>(t) : "NULL";
    }
  } else {
    out = std::string("<error: ") + sqlite3_errmsg(h) + ">";
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

void exec_raw(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

// The version 1 schema exactly as it shipped, with two customers in it.
constexpr const char* kVersionOne = R"sql(
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL);
INSERT INTO schema_migrations VALUES (1, 0);
CREATE TABLE profiles (id INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
  attributes TEXT NOT NULL DEFAULT '{}', merged_into INTEGER);
CREATE TABLE identities (kind TEXT NOT NULL, value TEXT NOT NULL, profile_id INTEGER NOT NULL, source TEXT NOT NULL,
  first_seen_ms INTEGER NOT NULL, PRIMARY KEY (kind, value)) WITHOUT ROWID;
CREATE INDEX identities_by_profile ON identities(profile_id);
CREATE TABLE records (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, profile_id INTEGER, type TEXT NOT NULL,
  source TEXT NOT NULL, pipeline TEXT NOT NULL, key TEXT NOT NULL, ts_ms INTEGER NOT NULL, applied_ms INTEGER NOT NULL,
  data TEXT NOT NULL, meta TEXT NOT NULL);
CREATE INDEX records_by_profile ON records(profile_id, ts_ms);
CREATE TABLE journal_position (consumer TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE checkpoints (instance TEXT PRIMARY KEY, cursor TEXT NOT NULL, updated_ms INTEGER NOT NULL);
CREATE TABLE dead_letters (id INTEGER PRIMARY KEY, record_id TEXT NOT NULL, pipeline TEXT NOT NULL, step TEXT NOT NULL,
  error_class TEXT NOT NULL, reason TEXT NOT NULL, location TEXT NOT NULL, payload TEXT NOT NULL,
  attempts INTEGER NOT NULL, first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'new');
CREATE INDEX dead_letters_by_state ON dead_letters(state, id);
CREATE TABLE outbox (id INTEGER PRIMARY KEY, sink TEXT NOT NULL, pipeline TEXT NOT NULL, record_id TEXT NOT NULL,
  envelope TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL, first_ms INTEGER NOT NULL,
  last_error TEXT NOT NULL DEFAULT '');
CREATE INDEX outbox_due ON outbox(sink, next_ms);
INSERT INTO profiles VALUES (1, 1, 1, '{"email":"a@x.de","name":"Anna"}', NULL);
INSERT INTO profiles VALUES (2, 2, 2, '{"phone":"+4930123456","city":"Ulm"}', NULL);
INSERT INTO identities VALUES ('email', 'a@x.de', 1, 'crm', 1);
INSERT INTO identities VALUES ('phone', '+4930123456', 2, 'callcenter', 2);
INSERT INTO records VALUES (1, '1001', 1, 'profile', 'crm', 'crm', '', 1, 1, '{"email":"a@x.de","name":"Anna"}', '{}');
INSERT INTO records VALUES (2, '2001', 2, 'profile', 'callcenter', 'cc', '', 2, 2,
  '{"phone":"+4930123456","city":"Ulm"}', '{}');
INSERT INTO journal_position VALUES ('store', 5);
INSERT INTO checkpoints VALUES ('crm', 'offset=9', 1);
INSERT INTO dead_letters VALUES (1, 'x', 'crm', 'source', 'malformed', 'bad', '', '', 1, 1, 1, 'new');
INSERT INTO outbox VALUES (1, 'crm.out', 'crm', '1001', '{"id":"1001"}', 0, 1, 1, '');
)sql";

class SqliteSpecific : public ::testing::Test {
 protected:
  fs::path path() const { return tmp_ / "store.db"; }
  TempDir tmp_;
};

TEST_F(SqliteSpecific, FreshStoreIsAtTheLatestSchemaInWalMode) {
  SqliteStore s(path());
  EXPECT_EQ(s.schema_version(), sqlite::latest_schema_version());
  EXPECT_EQ(scalar(path(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(scalar(path(), "SELECT MAX(version) FROM schema_migrations"),
            std::to_string(sqlite::latest_schema_version()));
  EXPECT_NE(s.describe().find(path().string()), std::string::npos);
  EXPECT_NE(s.describe().find(std::to_string(sqlite::latest_schema_version())), std::string::npos);
}

// Every test process runs with the plan check on (tests/common/strict_store.cpp):
// a statement whose plan walks a whole table is refused before it is used.
TEST_F(SqliteSpecific, PlanCheckRefusesAStatementThatScansATable) {
  SqliteStore s(path());  // creates the schema
  if (!sqlite::Conn::plan_check_enabled()) GTEST_SKIP() << "TOUCHPOINT_SQLITE_PLAN_CHECK=0 in the environment";
  sqlite::Conn conn(path(), true);
  try {
    conn.st("SELECT id FROM profiles WHERE attributes = ?");
    ADD_FAILURE() << "a scan of profiles was accepted";
  } catch (const std::logic_error& e) {
    const std::string what = e.what();  // "SCAN profiles" (SQLite >= 3.36) or "SCAN TABLE profiles"
    EXPECT_NE(what.find("(SCAN "), std::string::npos) << what;
    EXPECT_NE(what.find("profiles"), std::string::npos) << what;
  }
  // The bug this check was written for: a partial index that a bound value alone cannot use.
  EXPECT_THROW(conn.st("SELECT id FROM profiles WHERE merged_into=? ORDER BY id"), std::logic_error);
  EXPECT_NO_THROW(conn.st("SELECT id FROM profiles WHERE merged_into=? AND merged_into != 0 ORDER BY id"));
  EXPECT_NO_THROW(conn.st("SELECT attributes FROM profiles WHERE id=?"));
  EXPECT_NO_THROW(conn.st("/* scan */ SELECT id FROM profiles"));  // declared: exports and listings walk tables
}

TEST_F(SqliteSpecific, CreatesTheDataDirectory) {
  SqliteStore s(tmp_ / "a" / "b" / "store.db");
  EXPECT_TRUE(fs::exists(tmp_ / "a" / "b" / "store.db"));
}

TEST_F(SqliteSpecific, VersionOneStoreIsMigratedWithItsData) {
  exec_raw(path(), kVersionOne);
  SqliteStore s(path());
  EXPECT_EQ(s.schema_version(), sqlite::latest_schema_version());
  EXPECT_EQ(s.journal_position(), 5u);
  EXPECT_EQ(s.checkpoints().at("crm"), "offset=9");
  const StoreStats st = s.stats();
  EXPECT_EQ(st.profiles, 2u);
  EXPECT_EQ(st.records, 2u);
  EXPECT_EQ(st.dead_letters, 1u);
  EXPECT_EQ(st.outbox, 1u);
  StoreReads& r = s.reads();
  EXPECT_EQ(r.identity_profile("email", "a@x.de"), 1);
  // Origins start where everything is now (unmerge splits along them).
  ASSERT_EQ(r.identities_of(1).size(), 1u);
  EXPECT_EQ(r.identities_of(1)[0].origin_profile, 1);
  const std::vector<RecordRow> recs = r.records_of(1, 0, false);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].origin_profile, 1);
  EXPECT_EQ(r.profile(1)->attributes, R"({"email":"a@x.de","name":"Anna"})");
  EXPECT_EQ(r.profile(1)->state, "{}");
  EXPECT_EQ(r.profile(1)->merged_into, 0);

  // Record ids became idempotent per source: the old record is still a
  // duplicate for its source, but not for another one.
  auto t = s.begin();
  RecordRow same = record_row("1001", "crm", 1);
  EXPECT_FALSE(t->insert_record(same));
  RecordRow other = record_row("1001", "web", 1);
  EXPECT_TRUE(t->insert_record(other));
  t->commit();
  EXPECT_EQ(s.stats().records, 3u);

  // Opening it again migrates nothing twice.
  EXPECT_EQ(scalar(path(), "SELECT COUNT(*) FROM schema_migrations"), std::to_string(sqlite::latest_schema_version()));
}

TEST_F(SqliteSpecific, AMigratedProfileKeepsItsAttributesWhenTheCustomerModelUpdatesIt) {
  exec_raw(path(), kVersionOne);
  SqliteStore s(path());
  customer::CustomerStore cs(s, CustomerConfig{}, std::string(64, 'k'));
  ApplyBatch b;
  Record r;
  r.id = "w-1";
  r.type = "profile";
  r.source = "web";
  r.ts_ms = 10;
  r.data = {{"email", "a@x.de"}, {"newsletter", true}};
  b.records.push_back({r, "web"});
  EXPECT_EQ(cs.apply(b).applied, 1u);
  std::optional<int64_t> p = cs.resolve("a@x.de");
  ASSERT_EQ(p, 1);
  const Json attributes = Json::parse(s.reads().profile(1)->attributes);
  EXPECT_EQ(attributes.value("name", ""), "Anna");
  EXPECT_EQ(attributes.value("newsletter", false), true);
}

// Regression test for a fixed bug (core/customer/profile_state.cpp ProfileState::absorb -> recompute, and
// the v3 migration in core/store/sqlite_schema.cpp): profiles from before
// schema 3 have attributes but no candidates in `state` ("{}"). recompute()
// rebuilds attributes from candidates only, so the first merge of such a
// profile silently drops every attribute it had before the upgrade.
TEST_F(SqliteSpecific, MergingTwoMigratedProfilesKeepsTheirAttributes) {
  exec_raw(path(), kVersionOne);
  SqliteStore s(path());
  customer::CustomerStore cs(s, CustomerConfig{}, std::string(64, 'k'));
  ApplyBatch b;
  Record r;
  r.id = "bridge";
  r.type = "profile";
  r.source = "web";
  r.ts_ms = 10;
  r.data = {{"email", "a@x.de"}, {"phone", "+4930123456"}};  // both customers: they merge
  b.records.push_back({r, "web"});
  const ApplyStats st = cs.apply(b);
  EXPECT_EQ(st.merges, 1u);
  ASSERT_EQ(cs.resolve("+4930123456"), 1);
  const Json attributes = Json::parse(s.reads().profile(1)->attributes);
  EXPECT_EQ(attributes.value("name", ""), "Anna") << attributes.dump();
  EXPECT_EQ(attributes.value("city", ""), "Ulm") << attributes.dump();
}

TEST_F(SqliteSpecific, RefusesADatabaseFromANewerBuild) {
  { SqliteStore s(path()); }
  exec_raw(path(), "INSERT INTO schema_migrations(version, applied_ms) VALUES(999, 0)");
  try {
    SqliteStore s(path());
    FAIL() << "opened a newer schema";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this build"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("999"), std::string::npos) << e.what();
  }
}

TEST_F(SqliteSpecific, NotADatabaseIsAClearError) {
  {
    std::ofstream out(tmp_ / "junk.db", std::ios::binary);
    out << std::string(8192, 'j');
  }
  EXPECT_THROW(SqliteStore s(tmp_ / "junk.db"), std::runtime_error);
}

TEST_F(SqliteSpecific, CountersFollowChangesByAnotherProcess) {
  SqliteStore s(path());
  {
    auto t = s.begin();
    t->put_profile(profile_row(1));
    t->put_profile(profile_row(2));
    t->add_dead_letter(dead_letter("a", "p", "1:x"));
    t->add_dead_letter(dead_letter("b", "p", "1:x"));
    t->add_outbox(outbox_item("p.o", "a", 0));
    t->commit();
  }
  // The CLI edits the file directly.
  exec_raw(path(), "DELETE FROM dead_letters; DELETE FROM outbox; UPDATE profiles SET merged_into=1 WHERE id=2");
  const StoreStats st = s.stats();
  EXPECT_EQ(st.dead_letters, 0u);
  EXPECT_EQ(st.outbox, 0u);
  EXPECT_EQ(st.profiles, 1u);
  EXPECT_EQ(scalar(path(), "SELECT value FROM store_counters WHERE name='profiles'"),
            scalar(path(), "SELECT COUNT(*) FROM profiles WHERE COALESCE(merged_into, 0) = 0"));
}

TEST_F(SqliteSpecific, ACommitIsCompleteForAnotherConnection) {
  SqliteStore s(path());
  {
    auto t = s.begin();
    t->put_profile(profile_row(1));
    RecordRow r = record_row("r1", "crm", 1);
    ASSERT_TRUE(t->insert_record(r));
    t->set_journal_position(7);
    t->commit();
  }
  EXPECT_EQ(scalar(path(), "SELECT seq FROM journal_position WHERE consumer='store'"), "7");
  EXPECT_EQ(scalar(path(), "SELECT COUNT(*) FROM records WHERE profile_id IS NULL"), "0");
  EXPECT_EQ(scalar(path(), "SELECT COUNT(*) FROM profiles"), "1");
}

}  // namespace
}  // namespace touchpoint::core::test
