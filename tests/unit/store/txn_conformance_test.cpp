// Store conformance, part 1: transactions. Commit, rollback when a
// transaction is destroyed (also by an exception or a failing statement),
// isolation of the shared reads, one writer at a time, changes made by
// another connection or process, and persistence across reopen.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "backend.hpp"
#include "rows_util.hpp"

namespace touchpoint::core::test {
namespace {

using TxnConformance = BackendTest;

/// Writes one row of every kind the store keeps, for profile `p`.
void write_everything(StoreTxn& t, int64_t p) {
  t.put_profile(profile_row(p, R"({"name":"Anna"})"));
  t.add_identity(identity_row("email", "anna" + std::to_string(p) + "@example.de", p));
  RecordRow r = record_row("r" + std::to_string(p), "crm", p);
  ASSERT_TRUE(t.insert_record(r));
  t.add_event(event_row(p, 1000, "purchase", r.seq));
  t.put_suppression(suppression_row("blacklist", "profile:" + std::to_string(p)));
  t.add_merge(MergeRow{0, p, p + 100, "crm", "r1", 10, "merged"});
  t.add_conflict(ConflictRow{0, p, p + 100, "ext:crm", "at most 1", "crm", "r1", 10});
  t.add_decision(DecisionRow{0, 10, p, "anna@example.de", "{}", "send", "email", "[]", "v1", 11});
  t.add_audit(AuditRow{0, 10, "cli:test", "gdpr.export", "profile:" + std::to_string(p), "local", "{}"});
  t.add_tombstone("hash-" + std::to_string(p), 10);
  t.add_dead_letter(dead_letter("d" + std::to_string(p), "p", "1:rename"));
  t.add_outbox(outbox_item("p.crm", "r" + std::to_string(p), 0));
  t.set_checkpoint("crm", "cursor-" + std::to_string(p), 10);
  t.set_journal_position(static_cast<uint64_t>(p) * 10);
}

/// Nothing of write_everything(p) is visible through `r` and the store.
void expect_nothing_of(Store& s, StoreReads& r, int64_t p) {
  EXPECT_FALSE(r.profile(p).has_value());
  EXPECT_FALSE(r.identity_profile("email", "anna" + std::to_string(p) + "@example.de").has_value());
  EXPECT_TRUE(r.records_of(p, 0, false).empty());
  EXPECT_TRUE(r.events_of(p, INT64_MIN).empty());
  EXPECT_TRUE(r.suppressions_for({"profile:" + std::to_string(p)}).empty());
  EXPECT_TRUE(r.merges_of(p).empty());
  EXPECT_TRUE(r.conflicts_of(p).empty());
  EXPECT_TRUE(r.decisions_of(p, 10).empty());
  EXPECT_TRUE(r.audit(100).empty());
  EXPECT_FALSE(r.tombstoned("hash-" + std::to_string(p)));
  EXPECT_TRUE(s.dlq_list({}).empty());
  EXPECT_EQ(s.outbox_depth("p.crm"), 0u);
  EXPECT_TRUE(s.checkpoints().empty());
  EXPECT_EQ(s.journal_position(), 0u);
  const StoreStats st = s.stats();
  EXPECT_EQ(st.profiles, 0u);
  EXPECT_EQ(st.records, 0u);
  EXPECT_EQ(st.dead_letters, 0u);
  EXPECT_EQ(st.outbox, 0u);
}

/// Everything of write_everything(p) is visible through `r` and the store.
void expect_everything_of(Store& s, StoreReads& r, int64_t p) {
  ASSERT_TRUE(r.profile(p).has_value());
  EXPECT_EQ(r.profile(p)->attributes, R"({"name":"Anna"})");
  EXPECT_EQ(r.identity_profile("email", "anna" + std::to_string(p) + "@example.de"), p);
  EXPECT_EQ(record_ids(r.records_of(p, 0, false)), std::vector<std::string>{"r" + std::to_string(p)});
  EXPECT_EQ(r.events_of(p, INT64_MIN).size(), 1u);
  EXPECT_EQ(r.suppressions_for({"profile:" + std::to_string(p)}).size(), 1u);
  EXPECT_EQ(r.merges_of(p).size(), 1u);
  EXPECT_EQ(r.conflicts_of(p).size(), 1u);
  EXPECT_EQ(r.decisions_of(p, 10).size(), 1u);
  EXPECT_EQ(r.audit(100).size(), 1u);
  EXPECT_TRUE(r.tombstoned("hash-" + std::to_string(p)));
  EXPECT_EQ(s.dlq_list({}).size(), 1u);
  EXPECT_EQ(s.outbox_depth("p.crm"), 1u);
  EXPECT_EQ(s.checkpoints(), (std::map<std::string, std::string>{{"crm", "cursor-" + std::to_string(p)}}));
  EXPECT_EQ(s.journal_position(), static_cast<uint64_t>(p) * 10);
  const StoreStats st = s.stats();
  EXPECT_EQ(st.profiles, 1u);
  EXPECT_EQ(st.records, 1u);
  EXPECT_EQ(st.dead_letters, 1u);
  EXPECT_EQ(st.outbox, 1u);
}

TEST_P(TxnConformance, FreshStoreIsEmpty) {
  expect_nothing_of(store(), store().reads(), 1);
  EXPECT_FALSE(store().describe().empty());
  EXPECT_TRUE(store().dlq_replay_requests(10).empty());
  EXPECT_TRUE(store().outbox_due("p.crm", INT64_MAX, INT64_MAX, 10).empty());
  size_t n = 0;
  store().reads().each_profile([&](const ProfileRow&) { return ++n > 0; });
  EXPECT_EQ(n, 0u);
}

TEST_P(TxnConformance, CommitMakesEverythingVisibleToReadsAndToAnotherStore) {
  {
    auto t = store().begin();
    write_everything(*t, 1);
    // The transaction sees its own writes before commit.
    EXPECT_TRUE(t->profile(1).has_value());
    EXPECT_EQ(t->identity_profile("email", "anna1@example.de"), 1);
    t->commit();
  }
  expect_everything_of(store(), store().reads(), 1);
  std::unique_ptr<Store> other = instance().open();
  expect_everything_of(*other, other->reads(), 1);
}

TEST_P(TxnConformance, DestroyedWithoutCommitRollsBackEverything) {
  {
    auto t = store().begin();
    write_everything(*t, 1);
  }
  expect_nothing_of(store(), store().reads(), 1);
  // The next transaction works normally.
  {
    auto t = store().begin();
    write_everything(*t, 2);
    t->commit();
  }
  expect_everything_of(store(), store().reads(), 2);
}

TEST_P(TxnConformance, AnExceptionInsideTheTransactionRollsItBack) {
  auto failing = [&] {
    auto t = store().begin();
    write_everything(*t, 1);
    throw std::runtime_error("the applier failed");
  };
  EXPECT_THROW(failing(), std::runtime_error);
  expect_nothing_of(store(), store().reads(), 1);
  reopen();
  expect_nothing_of(store(), store().reads(), 1);
}

TEST_P(TxnConformance, AFailingStatementThrowsAndTheTransactionRollsBack) {
  TP_INJECT_OR_SKIP(Failure::record_insert, "boom");
  {
    auto t = store().begin();
    t->put_profile(profile_row(1));
    RecordRow ok = record_row("fine", "crm", 1);
    ASSERT_TRUE(t->insert_record(ok));
    RecordRow bad = record_row("boom", "crm", 1);
    EXPECT_THROW(t->insert_record(bad), std::exception);
  }  // the caller gives up: rolled back
  EXPECT_FALSE(store().reads().profile(1).has_value());
  EXPECT_TRUE(store().reads().records_of(1, 0, false).empty());
  instance().clear_failures();
  {
    auto t = store().begin();
    t->put_profile(profile_row(1));
    RecordRow again = record_row("boom", "crm", 1);
    EXPECT_TRUE(t->insert_record(again));
    t->commit();
  }
  EXPECT_EQ(record_ids(store().reads().records_of(1, 0, false)), std::vector<std::string>{"boom"});
}

TEST_P(TxnConformance, SharedReadsSeeOnlyCommittedData) {
  auto t = store().begin();
  t->put_profile(profile_row(1));
  t->add_identity(identity_row("email", "a@x.de", 1));
  EXPECT_FALSE(store().reads().profile(1).has_value());
  EXPECT_FALSE(store().reads().identity_profile("email", "a@x.de").has_value());
  size_t live = 0;
  store().reads().each_profile([&](const ProfileRow&) { return ++live > 0; });
  EXPECT_EQ(live, 0u);
  t->each_profile([&](const ProfileRow&) { return ++live > 0; });
  EXPECT_EQ(live, 1u);  // the transaction sees its own rows
  t->commit();
  EXPECT_TRUE(store().reads().profile(1).has_value());
  EXPECT_EQ(store().reads().identity_profile("email", "a@x.de"), 1);
}

TEST_P(TxnConformance, OnlyOneWriteTransactionIsOpenAtATime) {
  std::atomic<bool> second_began{false};
  std::atomic<bool> saw_first_profile{false};
  auto first = store().begin();
  first->put_profile(profile_row(1));
  std::thread other([&] {
    auto second = store().begin();
    second_began = true;
    saw_first_profile = second->profile(1).has_value();
    second->put_profile(profile_row(2));
    second->commit();
  });
  for (int i = 0; i < 2000; ++i) {
    std::this_thread::yield();
    ASSERT_FALSE(second_began.load()) << "begin() returned while another transaction was open";
  }
  first->commit();
  first.reset();
  other.join();
  EXPECT_TRUE(second_began.load());
  EXPECT_TRUE(saw_first_profile.load());  // it began after the first committed
  EXPECT_TRUE(store().reads().profile(2).has_value());
}

TEST_P(TxnConformance, ReadsFromManyThreadsWhileWriting) {
  {
    auto t = store().begin();
    t->put_profile(profile_row(1, R"({"n":1})"));
    t->add_identity(identity_row("email", "a@x.de", 1));
    t->commit();
  }
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i)
    readers.emplace_back([&] {
      for (int k = 0; k < 200; ++k) {
        if (store().reads().identity_profile("email", "a@x.de") != 1) ++bad;
        if (!store().reads().profile(1)) ++bad;
      }
    });
  for (int k = 2; k < 50; ++k) {
    auto t = store().begin();
    t->put_profile(profile_row(k));
    t->commit();
  }
  for (std::thread& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(store().stats().profiles, 49u);
}

TEST_P(TxnConformance, ChangedElsewhereIsFalseForTheFirstTransactionAndAfterOurOwnCommits) {
  {
    auto t = store().begin();
    EXPECT_FALSE(t->changed_elsewhere());
    t->put_profile(profile_row(1));
    t->commit();
  }
  for (int i = 0; i < 3; ++i) {
    auto t = store().begin();
    EXPECT_FALSE(t->changed_elsewhere()) << "after our own commit " << i;
    t->put_profile(profile_row(2 + i));
    t->commit();
  }
  // Our own writes outside transactions are no change elsewhere either.
  {
    auto t = store().begin();
    t->add_dead_letter(dead_letter("d", "p", "1:x"));
    t->add_outbox(outbox_item("p.crm", "r", 0));
    t->commit();
  }
  store().dlq_purge({});
  OutboxSettlement s;
  s.delivered.push_back(store().outbox_due("p.crm", 10, INT64_MAX, 10).at(0).id);
  store().outbox_settle(s);
  auto t = store().begin();
  EXPECT_FALSE(t->changed_elsewhere());
}

TEST_P(TxnConformance, ChangedElsewhereIsTrueAfterAnotherConnectionCommits) {
  {
    auto t = store().begin();
    t->put_profile(profile_row(1));
    t->commit();
  }
  std::unique_ptr<Store> cli = instance().open();  // what `touchpoint suppress add` opens
  {
    auto t = cli->begin();
    t->put_suppression(suppression_row("blacklist", "profile:1"));
    t->commit();
  }
  {
    auto t = store().begin();
    EXPECT_TRUE(t->changed_elsewhere());
    // The other connection's write is visible inside our transaction.
    EXPECT_EQ(t->suppressions_for({"profile:1"}).size(), 1u);
    t->commit();
  }
  {
    auto t = store().begin();
    EXPECT_FALSE(t->changed_elsewhere()) << "reported once, then it is our state again";
  }
  // A transaction of the other connection that rolls back changes nothing.
  {
    auto t = cli->begin();
    t->put_profile(profile_row(9));
  }
  {
    auto t = store().begin();
    EXPECT_FALSE(t->changed_elsewhere());
  }
}

TEST_P(TxnConformance, ChangedElsewhereIsTrueAfterAnotherProcessCommits) {
  if (!instance().forkable()) GTEST_SKIP() << "backend cannot be opened from a child process";
  {
    auto t = store().begin();
    t->put_profile(profile_row(1));
    t->commit();
  }
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int rc = 1;
    try {
      std::unique_ptr<Store> s = instance().open();
      auto t = s->begin();
      t->put_profile(profile_row(2, R"({"from":"child"})"));
      t->commit();
      rc = 0;
    } catch (...) {
    }
    ::_exit(rc);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto t = store().begin();
  EXPECT_TRUE(t->changed_elsewhere());
  ASSERT_TRUE(t->profile(2).has_value());
  EXPECT_EQ(t->profile(2)->attributes, R"({"from":"child"})");
  EXPECT_TRUE(store().reads().profile(2).has_value());
}

TEST_P(TxnConformance, EverythingIsThereAfterReopen) {
  {
    auto t = store().begin();
    write_everything(*t, 1);
    t->commit();
  }
  reopen();
  expect_everything_of(store(), store().reads(), 1);
  // And the reopened store keeps writing where it left off.
  auto t = store().begin();
  EXPECT_GT(t->new_profile_id(), 1);
  RecordRow dup = record_row("r1", "crm", 1);
  EXPECT_FALSE(t->insert_record(dup));
  RecordRow next = record_row("r2", "crm", 1);
  EXPECT_TRUE(t->insert_record(next));
  t->commit();
  EXPECT_EQ(record_ids(store().reads().records_of(1, 0, false)), (std::vector<std::string>{"r1", "r2"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, TxnConformance, ::testing::ValuesIn(backends()), backend_name);

}  // namespace
}  // namespace touchpoint::core::test
