// SqliteStore against real database files: one transaction per apply(),
// idempotent replay, identity resolution, dead letters, outbox, checkpoints
// and persistence across reopen.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>

#include "store/identity.hpp"
#include "store/sqlite_schema.hpp"
#include "store/sqlite_store.hpp"
#include "test_util.hpp"

namespace touchpoint::core {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
constexpr int64_t kNever = INT64_MAX;

Record rec(std::string id, std::string source, std::string key, Json data, std::string type = "profile") {
  Record r;
  r.id = std::move(id);
  r.type = std::move(type);
  r.source = std::move(source);
  r.key = std::move(key);
  r.ts_ms = 1000;
  r.data = std::move(data);
  return r;
}

ApplyBatch batch_of(uint64_t seq, std::vector<Record> records, std::string pipeline = "p") {
  ApplyBatch b;
  b.journal_seq = seq;
  for (Record& r : records) b.records.push_back({std::move(r), pipeline});
  return b;
}

DeadLetter dead(std::string record_id, std::string pipeline, std::string step, std::string reason = "bad") {
  DeadLetter d;
  d.record_id = std::move(record_id);
  d.pipeline = std::move(pipeline);
  d.step = std::move(step);
  d.error_class = "rejected";
  d.reason = std::move(reason);
  d.location = "inbox/a.csv:17";
  d.payload = R"({"id":"x"})";
  d.attempts = 1;
  d.first_ms = 10;
  d.last_ms = 20;
  return d;
}

OutboxItem outbox(std::string sink, std::string record_id, int64_t next_ms) {
  OutboxItem o;
  o.sink = std::move(sink);
  o.pipeline = "p";
  o.record_id = std::move(record_id);
  o.envelope = R"({"id":")" + o.record_id + R"("})";
  o.next_ms = next_ms;
  o.first_ms = next_ms;
  return o;
}

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
  int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = std::make_unique<SqliteStore>(path()); }
  fs::path path() const { return tmp_ / "data" / "touchpoint.db"; }
  void reopen() {
    store_.reset();
    store_ = std::make_unique<SqliteStore>(path());
  }
  SqliteStore& store() { return *store_; }

  TempDir tmp_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(StoreTest, FreshStoreIsMigratedInWalMode) {
  EXPECT_EQ(store().schema_version(), sqlite::latest_schema_version());
  EXPECT_EQ(store().journal_position(), 0u);
  EXPECT_TRUE(store().checkpoints().empty());
  StoreStats s = store().stats();
  EXPECT_EQ(s.profiles, 0u);
  EXPECT_EQ(s.records, 0u);
  EXPECT_EQ(scalar(path(), "PRAGMA journal_mode"), "wal");
}

TEST_F(StoreTest, ApplyWritesRecordsProfilesCheckpointsAndPosition) {
  ApplyBatch b = batch_of(7, {rec("r1", "crm", "42", {{"email", "Jane.Doe@Example.com"}, {"first_name", "Jane"}}),
                              rec("r2", "crm", "43", {{"email", "max@example.com"}}),
                              rec("r3", "crm", "42", {{"page", "/home"}}, "event")});
  b.checkpoints["crm"] = "cursor-1";
  ApplyStats st = store().apply(b);
  EXPECT_EQ(st.applied, 3u);
  EXPECT_EQ(st.duplicates, 0u);
  EXPECT_EQ(st.profiles_created, 2u);
  EXPECT_EQ(st.identity_conflicts, 0u);
  EXPECT_EQ(store().journal_position(), 7u);
  EXPECT_EQ(store().checkpoints(), (std::map<std::string, std::string>{{"crm", "cursor-1"}}));
  StoreStats s = store().stats();
  EXPECT_EQ(s.profiles, 2u);
  EXPECT_EQ(s.records, 3u);

  auto jane = store().profile_find("jane.doe@example.com", 10);
  ASSERT_TRUE(jane.has_value());
  EXPECT_EQ(jane->attributes, Json({{"email", "Jane.Doe@Example.com"}, {"first_name", "Jane"}}));
  ASSERT_EQ(jane->recent.size(), 2u);  // the profile record and the event, newest first
  EXPECT_EQ(jane->recent[0].id, "r3");
  EXPECT_EQ(jane->recent[0].data, Json({{"page", "/home"}}));
  EXPECT_EQ(jane->recent[1].id, "r1");
  // Seen from another connection, the commit is complete.
  EXPECT_EQ(scalar(path(), "SELECT seq FROM journal_position WHERE consumer='store'"), "7");
  EXPECT_EQ(scalar(path(), "SELECT COUNT(*) FROM records WHERE profile_id IS NULL"), "0");
}

TEST_F(StoreTest, FailedApplyRollsBackEverythingIncludingPosition) {
  ASSERT_EQ(store().apply(batch_of(1, {rec("r1", "crm", "1", {{"email", "a@x.de"}})})).applied, 1u);
  // Make the third record of the next batch fail inside the transaction.
  exec_raw(path(),
           "CREATE TRIGGER fail_boom BEFORE INSERT ON records WHEN NEW.id='boom' "
           "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  ApplyBatch b =
      batch_of(5, {rec("r2", "crm", "2", {{"email", "b@x.de"}}), rec("r3", "web", "w", {{"email", "A@x.de"}}),
                   rec("boom", "crm", "3", {{"email", "c@x.de"}})});
  b.checkpoints["crm"] = "c-5";
  b.dead_letters.push_back(dead("r9", "p", "1:rename"));
  b.outbox.push_back(outbox("p.crm", "r2", 0));
  EXPECT_THROW(store().apply(b), std::runtime_error);

  EXPECT_EQ(store().journal_position(), 1u);
  EXPECT_TRUE(store().checkpoints().empty());
  EXPECT_TRUE(store().dlq_list({}).empty());
  EXPECT_EQ(store().outbox_depth("p.crm"), 0u);
  EXPECT_EQ(store().stats().profiles, 1u);
  EXPECT_FALSE(store().profile_find("b@x.de", 1).has_value());
  EXPECT_FALSE(store().profile_find("ext:web:w", 1).has_value());

  // The in-memory identity cache and profile ids were rolled back too.
  exec_raw(path(), "DROP TRIGGER fail_boom");
  b.records.pop_back();
  ApplyStats st = store().apply(b);
  EXPECT_EQ(st.applied, 2u);
  EXPECT_EQ(st.profiles_created, 1u);
  EXPECT_EQ(store().journal_position(), 5u);
  auto a = store().profile_find("ext:web:w", 5);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->id, 1);  // r3 joined a@x.de's profile through the e-mail
  auto bp = store().profile_find("b@x.de", 5);
  ASSERT_TRUE(bp.has_value());
  EXPECT_EQ(bp->id, 2);
}

TEST_F(StoreTest, ReplayingTheSameBatchCreatesNoDuplicates) {
  ApplyBatch b = batch_of(3, {rec("r1", "crm", "1", {{"email", "a@x.de"}, {"n", 1}}),
                              rec("r2", "crm", "2", {{"email", "b@x.de"}}), rec("e1", "crm", "1", {}, "event")});
  ASSERT_EQ(store().apply(b).applied, 3u);
  const StoreStats before = store().stats();

  ApplyStats again = store().apply(b);
  EXPECT_EQ(again.applied, 0u);
  EXPECT_EQ(again.duplicates, 3u);
  EXPECT_EQ(again.profiles_created, 0u);

  // And after a crash (a new process opening the same file).
  reopen();
  ApplyStats after_crash = store().apply(b);
  EXPECT_EQ(after_crash.applied, 0u);
  EXPECT_EQ(after_crash.duplicates, 3u);
  StoreStats s = store().stats();
  EXPECT_EQ(s.profiles, before.profiles);
  EXPECT_EQ(s.records, before.records);
  EXPECT_EQ(scalar(path(), "SELECT COUNT(*) FROM records"), "3");
  EXPECT_EQ(scalar(path(), "SELECT COUNT(*) FROM identities"), "4");  // ext:crm 1, 2 + two e-mails
  EXPECT_EQ(store().journal_position(), 3u);

  // New records after reopen get fresh profile ids (no reuse of 1 or 2).
  ASSERT_EQ(store().apply(batch_of(4, {rec("r3", "crm", "3", {{"email", "c@x.de"}})})).profiles_created, 1u);
  EXPECT_EQ(store().profile_find("c@x.de", 1)->id, 3);
}

TEST_F(StoreTest, SameEmailFromTwoSourcesIsOneProfileCaseInsensitively) {
  store().apply(batch_of(1, {rec("c1", "crm", "42", {{"email", "Jane.Doe@Example.com"}, {"first_name", "Jane"}})}));
  ApplyStats st = store().apply(
      batch_of(2, {rec("w1", "web", "w-9", {{"email", "  jane.doe@EXAMPLE.com "}, {"newsletter", true}})}));
  EXPECT_EQ(st.profiles_created, 0u);
  EXPECT_EQ(store().stats().profiles, 1u);

  auto p = store().profile_find("JANE.DOE@example.COM", 10);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->attributes["first_name"], "Jane");
  EXPECT_EQ(p->attributes["newsletter"], true);
  ASSERT_EQ(p->identities.size(), 3u);
  EXPECT_EQ(p->identities[0].kind, "email");
  EXPECT_EQ(p->identities[0].value, "jane.doe@example.com");
  EXPECT_EQ(p->identities[0].source, "crm");  // first reporter
  EXPECT_EQ(p->identities[1].kind, "ext:crm");
  EXPECT_EQ(p->identities[1].value, "42");
  EXPECT_EQ(p->identities[2].kind, "ext:web");
  EXPECT_EQ(p->identities[2].value, "w-9");
  EXPECT_EQ(p->recent.size(), 2u);

  for (const char* q : {"ext:crm:42", "ext:web:w-9", "1", "email:Jane.Doe@example.com"}) {
    auto found = store().profile_find(q, 0);
    ASSERT_TRUE(found.has_value()) << q;
    EXPECT_EQ(found->id, p->id) << q;
  }
  EXPECT_FALSE(store().profile_find("nobody@example.com", 1).has_value());
  EXPECT_FALSE(store().profile_find("99", 1).has_value());
}

TEST_F(StoreTest, PhoneAndExternalIdsLinkRecords) {
  store().apply(batch_of(1, {rec("a", "callcenter", "", {{"phone", "+491701234567"}, {"name", "A"}}),
                             rec("b", "erp", "E1", {{"external_ids", {{"sap", "S-1"}}}})}));
  ApplyStats st = store().apply(batch_of(2, {rec("c", "web", "", {{"phone", "+491701234567"}}),
                                             rec("d", "shop", "", {{"external_ids", {{"sap", "S-1"}}}})}));
  EXPECT_EQ(st.profiles_created, 0u);
  EXPECT_EQ(store().stats().profiles, 2u);
  EXPECT_EQ(store().profile_find("phone:+491701234567", 5)->recent.size(), 2u);
  EXPECT_EQ(store().profile_find("+491701234567", 5)->recent.size(), 2u);  // a leading + means phone
  EXPECT_EQ(store().profile_find("ext:sap:S-1", 5)->recent.size(), 2u);
  EXPECT_EQ(store().profile_find("ext:erp:E1", 5)->id, store().profile_find("ext:sap:S-1", 5)->id);
}

TEST_F(StoreTest, ConflictingIdentitiesAreCountedNotMerged) {
  store().apply(
      batch_of(1, {rec("a", "crm", "1", {{"email", "a@x.de"}}), rec("b", "crm", "2", {{"phone", "+4930123456"}})}));
  // Claims a@x.de (profile 1) and +4930123456 (profile 2): e-mail has precedence.
  ApplyStats st =
      store().apply(batch_of(2, {rec("c", "web", "", {{"email", "A@X.DE"}, {"phone", "+4930123456"}, {"z", 1}})}));
  EXPECT_EQ(st.identity_conflicts, 1u);
  EXPECT_EQ(st.profiles_created, 0u);
  EXPECT_EQ(store().profile_find("a@x.de", 5)->attributes["z"], 1);
  EXPECT_EQ(store().profile_find("phone:+4930123456", 5)->id, 2);  // never silently re-pointed
}

TEST_F(StoreTest, EventsDoNotChangeAttributes) {
  store().apply(batch_of(1, {rec("p", "crm", "1", {{"email", "a@x.de"}, {"name", "A"}})}));
  store().apply(batch_of(2, {rec("e", "crm", "1", {{"name", "not an attribute"}, {"clicked", true}}, "event")}));
  auto p = store().profile_find("a@x.de", 5);
  EXPECT_EQ(p->attributes, Json({{"email", "a@x.de"}, {"name", "A"}}));
  EXPECT_EQ(p->recent.size(), 2u);
}

TEST_F(StoreTest, NewProfileDropsNullMembersLikeAMergePatch) {
  store().apply(batch_of(1, {rec("a", "crm", "1",
                                 {{"email", "a@x.de"},
                                  {"gone", nullptr},
                                  {"addr", {{"city", "Ulm"}, {"zip", nullptr}}},
                                  {"tags", {1, nullptr}}}),
                             rec("b", "crm", "2", {{"email", "b@x.de"}, {"name", "B"}})}));
  EXPECT_EQ(store().profile_find("a@x.de", 5)->attributes,
            Json({{"email", "a@x.de"}, {"addr", {{"city", "Ulm"}}}, {"tags", {1, nullptr}}}));
  EXPECT_EQ(store().profile_find("b@x.de", 5)->attributes, Json({{"email", "b@x.de"}, {"name", "B"}}));
  // The record keeps its data as it came.
  EXPECT_EQ(store().profile_find("a@x.de", 5)->recent[0].data["gone"], nullptr);
}

TEST_F(StoreTest, RecordsAreLinkedOnInsertAndDuplicatesConsumeNoProfileId) {
  store().apply(batch_of(1, {rec("a", "crm", "1", {{"email", "a@x.de"}})}));
  // "a" again (a replay) next to a new customer: the duplicate must not take a profile id.
  ApplyStats st = store().apply(
      batch_of(2, {rec("a", "crm", "1", {{"email", "a@x.de"}}), rec("b", "crm", "2", {{"email", "b@x.de"}})}));
  EXPECT_EQ(st.duplicates, 1u);
  EXPECT_EQ(st.profiles_created, 1u);
  EXPECT_EQ(store().profile_find("b@x.de", 5)->id, 2);
  EXPECT_EQ(scalar(path(), "SELECT group_concat(id || ':' || profile_id) FROM records"), "a:1,b:2");
  // A batch that fails after new profiles were planned leaves ids and cache consistent.
  reopen();
  store().apply(
      batch_of(3, {rec("c", "crm", "3", {{"email", "c@x.de"}}), rec("d", "crm", "1", {{"phone", "+4930123456"}})}));
  EXPECT_EQ(store().profile_find("c@x.de", 5)->id, 3);
  EXPECT_EQ(store().profile_find("phone:+4930123456", 5)->id, 1);  // found by ext:crm:1
}

TEST(Identity, ExtractsKeysInPrecedenceOrder) {
  Record r =
      rec("x", "crm", "42",
          {{"email", "  Jane@Example.COM\t"}, {"phone", " +49 170 "}, {"external_ids", {{"sap", "S1"}, {"bad", 5}}}});
  auto ids = extract_identities(r);
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[0].kind, "ext:crm");
  EXPECT_EQ(ids[0].value, "42");
  EXPECT_EQ(ids[1].kind, "ext:sap");
  EXPECT_EQ(ids[2].kind, "email");
  EXPECT_EQ(ids[2].value, "jane@example.com");
  EXPECT_EQ(ids[3].kind, "phone");
  EXPECT_EQ(ids[3].value, "+49 170");
  EXPECT_TRUE(extract_identities(rec("y", "crm", "", {{"email", "   "}, {"phone", 49170}})).empty());
}

TEST_F(StoreTest, DeadLettersListFilterReplayAndResolve) {
  ApplyBatch b;
  b.journal_seq = 1;
  b.dead_letters = {dead("", "a", "source", "unparseable line"), dead("r2", "a", "2:normalize_phone"),
                    dead("r3", "b", "sink:b.crm", "HTTP 400")};
  store().apply(b);

  auto all = store().dlq_list({});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_LT(all[0].id, all[1].id);
  EXPECT_EQ(all[0].reason, "unparseable line");
  EXPECT_EQ(all[1].record_id, "r2");
  EXPECT_EQ(all[1].step, "2:normalize_phone");
  EXPECT_EQ(all[1].error_class, "rejected");
  EXPECT_EQ(all[1].location, "inbox/a.csv:17");
  EXPECT_EQ(all[1].payload, R"({"id":"x"})");
  EXPECT_EQ(all[1].attempts, 1);
  EXPECT_EQ(all[1].first_ms, 10);
  EXPECT_EQ(all[1].last_ms, 20);
  EXPECT_EQ(all[1].state, "new");

  DlqFilter by_pipeline;
  by_pipeline.pipeline = "a";
  EXPECT_EQ(store().dlq_list(by_pipeline).size(), 2u);
  DlqFilter by_id;
  by_id.id = all[2].id;
  ASSERT_EQ(store().dlq_list(by_id).size(), 1u);
  EXPECT_EQ(store().dlq_list(by_id)[0].record_id, "r3");
  DlqFilter limited;
  limited.limit = 1;
  EXPECT_EQ(store().dlq_list(limited).size(), 1u);

  // Raw source rejects cannot be replayed; the other two can.
  EXPECT_EQ(store().dlq_request_replay({}), 2u);
  EXPECT_EQ(store().dlq_request_replay({}), 0u);  // already requested
  DlqFilter replay_state;
  replay_state.state = "replay";
  EXPECT_EQ(store().dlq_list(replay_state).size(), 2u);
  auto requests = store().dlq_replay_requests(10);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].record_id, "r2");
  EXPECT_EQ(store().dlq_replay_requests(1).size(), 1u);

  ApplyBatch resolve;
  resolve.journal_seq = 2;
  for (const DeadLetter& d : requests) resolve.resolved_dead_letters.push_back(d.id);
  store().apply(resolve);
  auto left = store().dlq_list({});
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].step, "source");

  DlqFilter purge;
  purge.pipeline = "a";
  EXPECT_EQ(store().dlq_purge(purge), 1u);
  EXPECT_EQ(store().stats().dead_letters, 0u);
}

TEST_F(StoreTest, OutboxDueSettleRetryAndDead) {
  ApplyBatch b;
  b.journal_seq = 1;
  b.outbox = {outbox("p.crm", "r1", 100), outbox("p.crm", "r2", 100), outbox("p.crm", "r3", 5000),
              outbox("p.mail", "r1", 100)};
  store().apply(b);
  EXPECT_EQ(store().outbox_depth("p.crm"), 3u);
  EXPECT_EQ(store().outbox_depth("p.mail"), 1u);
  EXPECT_EQ(store().outbox_depth("nope"), 0u);

  auto due = store().outbox_due("p.crm", 1000, kNever, 10);
  ASSERT_EQ(due.size(), 2u);  // r3 is not due yet, p.mail is another sink
  EXPECT_EQ(due[0].record_id, "r1");
  EXPECT_EQ(due[1].record_id, "r2");
  EXPECT_EQ(due[0].envelope, R"({"id":"r1"})");
  EXPECT_EQ(due[0].attempts, 0);
  EXPECT_EQ(store().outbox_due("p.crm", 1000, kNever, 1).size(), 1u);

  OutboxSettlement s;
  s.delivered.push_back(due[0].id);
  OutboxItem retry = due[1];
  retry.attempts = 1;
  retry.next_ms = 3000;
  retry.last_error = "HTTP 503";
  s.retry.push_back(retry);
  store().outbox_settle(s);

  EXPECT_EQ(store().outbox_depth("p.crm"), 2u);
  EXPECT_TRUE(store().outbox_due("p.crm", 1000, kNever, 10).empty());  // r2 backs off until 3000
  auto later = store().outbox_due("p.crm", 3000, kNever, 10);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].record_id, "r2");
  EXPECT_EQ(later[0].attempts, 1);
  EXPECT_EQ(later[0].last_error, "HTTP 503");

  OutboxSettlement give_up;
  give_up.dead.emplace_back(later[0].id, dead("r2", "p", "sink:p.crm", "retries exhausted"));
  store().outbox_settle(give_up);
  EXPECT_EQ(store().outbox_depth("p.crm"), 1u);
  auto dl = store().dlq_list({});
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(dl[0].step, "sink:p.crm");
  EXPECT_EQ(dl[0].reason, "retries exhausted");
}

TEST_F(StoreTest, CheckpointsAreUpsertedPerInstance) {
  ApplyBatch b;
  b.journal_seq = 1;
  b.checkpoints = {{"crm", "c1"}};
  store().apply(b);
  b.journal_seq = 2;
  b.checkpoints = {{"crm", "c2"}, {"web", "w1"}};
  store().apply(b);
  EXPECT_EQ(store().checkpoints(), (std::map<std::string, std::string>{{"crm", "c2"}, {"web", "w1"}}));
  b.journal_seq = 0;  // 0: position unchanged
  b.checkpoints.clear();
  store().apply(b);
  EXPECT_EQ(store().journal_position(), 2u);
}

TEST_F(StoreTest, EverythingIsThereAfterReopen) {
  ApplyBatch b = batch_of(42, {rec("r1", "crm", "1", {{"email", "a@x.de"}, {"city", "Köln"}})});
  b.checkpoints["crm"] = "offset=17";
  b.dead_letters.push_back(dead("r9", "p", "1:rename"));
  b.outbox.push_back(outbox("p.crm", "r1", 0));
  store().apply(b);
  reopen();
  EXPECT_EQ(store().schema_version(), sqlite::latest_schema_version());
  EXPECT_EQ(store().journal_position(), 42u);
  EXPECT_EQ(store().checkpoints().at("crm"), "offset=17");
  EXPECT_EQ(store().dlq_list({}).size(), 1u);
  EXPECT_EQ(store().outbox_depth("p.crm"), 1u);
  auto p = store().profile_find("a@x.de", 5);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->attributes["city"], "Köln");
  EXPECT_EQ(p->recent.size(), 1u);
  // The identity survives too: a new record with the same e-mail joins it.
  EXPECT_EQ(store().apply(batch_of(43, {rec("r2", "web", "", {{"email", "A@x.de"}})})).profiles_created, 0u);
}

TEST(StoreSchema, RefusesADatabaseFromANewerBuild) {
  TempDir tmp;
  const fs::path db = tmp / "t.db";
  { SqliteStore s(db); }
  exec_raw(db, "INSERT INTO schema_migrations(version, applied_ms) VALUES(999, 0)");
  try {
    SqliteStore s(db);
    FAIL() << "opened a newer schema";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this build"), std::string::npos) << e.what();
  }
}

TEST(StoreSchema, NotADatabaseIsAClearError) {
  TempDir tmp;
  test::write_file(tmp / "junk.db", std::string(8192, 'j'));
  EXPECT_THROW(SqliteStore s(tmp / "junk.db"), std::runtime_error);
}

TEST_F(StoreTest, OutboxItemsScheduledBeyondAnyBackoffAreDueAfterTheClockWentBack) {
  ApplyBatch b = batch_of(1, {});
  b.outbox.push_back(outbox("p.crm", "soon", 5'000));
  b.outbox.push_back(outbox("p.crm", "far", 3'600'000));  // scheduled "an hour ahead": the clock went back
  store().apply(b);
  // At t=1000 with backoffs of at most 10 s, "soon" waits, "far" cannot be a real backoff.
  auto due = store().outbox_due("p.crm", 1'000, 1'000 + 10'000, 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].record_id, "far");
  EXPECT_EQ(store().outbox_due("p.crm", 6'000, 6'000 + 10'000'000, 10).size(), 1u);  // only "soon" is due
}

TEST_F(StoreTest, RecordIdsAreIdempotentPerSourceNotGlobally) {
  // Two pipelines that both number their records from 1001 keep both records.
  ApplyStats st = store().apply(batch_of(1, {rec("1001", "crm", "K-1", {{"email", "anna@example.de"}}),
                                             rec("1001", "web", "W-9", {{"email", "ben@example.de"}})}));
  EXPECT_EQ(st.applied, 2u);
  EXPECT_EQ(st.duplicates, 0u);
  EXPECT_EQ(scalar(path(), "SELECT COUNT(*) FROM records WHERE id='1001'"), "2");
  EXPECT_EQ(store().profile_find("ben@example.de", 1)->attributes.value("email", ""), "ben@example.de");
  // The same id from the same source again is the same delivery: a duplicate.
  st = store().apply(batch_of(2, {rec("1001", "web", "W-9", {{"email", "ben@example.de"}, {"x", 1}})}));
  EXPECT_EQ(st.applied, 0u);
  EXPECT_EQ(st.duplicates, 1u);
}

TEST_F(StoreTest, StatsComeFromCountersThatStayExact) {
  ApplyBatch b =
      batch_of(1, {rec("a", "crm", "1", {{"email", "a@x.de"}}), rec("b", "crm", "2", {{"email", "b@x.de"}})});
  b.dead_letters.push_back(dead("c", "p", "1:require"));
  b.dead_letters.push_back(dead("d", "p", "1:require"));
  b.outbox.push_back(outbox("p.out", "a", 0));
  store().apply(b);
  StoreStats s = store().stats();
  EXPECT_EQ(s.profiles, 2u);
  EXPECT_EQ(s.dead_letters, 2u);
  EXPECT_EQ(s.outbox, 1u);
  DlqFilter one;
  one.id = store().dlq_list({}).front().id;
  EXPECT_EQ(store().dlq_purge(one), 1u);
  OutboxSettlement settle;
  settle.delivered.push_back(store().outbox_due("p.out", 10, kNever, 10).front().id);
  store().outbox_settle(settle);
  s = store().stats();
  EXPECT_EQ(s.dead_letters, 1u);
  EXPECT_EQ(s.outbox, 0u);
  // Another process (the CLI) changing the file is counted too.
  exec_raw(path(), "DELETE FROM dead_letters");
  EXPECT_EQ(store().stats().dead_letters, 0u);
  EXPECT_EQ(scalar(path(), "SELECT value FROM store_counters WHERE name='profiles'"),
            scalar(path(), "SELECT COUNT(*) FROM profiles"));
}

TEST(StoreSchema, VersionOneStoreIsMigratedWithItsData) {
  TempDir tmp;
  const fs::path db = tmp / "v1.db";
  // The version 1 schema as shipped, with data in it.
  exec_raw(db, R"sql(
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
INSERT INTO profiles VALUES (1, 1, 1, '{"email":"a@x.de"}', NULL);
INSERT INTO identities VALUES ('email', 'a@x.de', 1, 'crm', 1);
INSERT INTO records VALUES (1, '1001', 1, 'profile', 'crm', 'crm', '', 1, 1, '{"email":"a@x.de"}', '{}');
INSERT INTO journal_position VALUES ('store', 5);
INSERT INTO dead_letters VALUES (1, 'x', 'crm', 'source', 'malformed', 'bad', '', '', 1, 1, 1, 'new');
)sql");
  SqliteStore store(db);
  EXPECT_EQ(store.schema_version(), sqlite::latest_schema_version());
  EXPECT_EQ(store.journal_position(), 5u);
  StoreStats s = store.stats();
  EXPECT_EQ(s.profiles, 1u);
  EXPECT_EQ(s.records, 1u);
  EXPECT_EQ(s.dead_letters, 1u);
  EXPECT_EQ(s.outbox, 0u);
  // The old record is still a duplicate for its source, but not for another one.
  ApplyStats st = store.apply(
      batch_of(6, {rec("1001", "crm", "", {{"email", "a@x.de"}}), rec("1001", "web", "", {{"email", "a@x.de"}})}));
  EXPECT_EQ(st.duplicates, 1u);
  EXPECT_EQ(st.applied, 1u);
}

}  // namespace
}  // namespace touchpoint::core
