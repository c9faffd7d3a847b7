#pragma once
// The embedded default store backend: one SQLite database file in WAL mode.
// A writer connection (one transaction at a time: the applier, sink
// settlements, DLQ and admin changes) and a reader connection (CLI, admin,
// outbox polling, decisions), so reads never wait for a large transaction.
// Storage only: the customer model above decides what to write.

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "store/sqlite_db.hpp"
#include "store/store.hpp"

namespace touchpoint::core {

namespace sqlite {
class Conn;
class ReportReadsConn;
}  // namespace sqlite

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::filesystem::path& path);
  ~SqliteStore() override;

  uint64_t journal_position() override;
  std::unique_ptr<StoreTxn> begin() override;
  StoreReads& reads() override;
  ReportReads& report_reads() override;
  std::map<std::string, std::string> checkpoints() override;

  std::vector<DeadLetter> dlq_list(const DlqFilter& filter) override;
  size_t dlq_request_replay(const DlqFilter& filter) override;
  std::vector<DeadLetter> dlq_replay_requests(size_t limit) override;
  size_t dlq_purge(const DlqFilter& filter) override;

  std::vector<OutboxItem> outbox_due(const std::string& sink, int64_t now_ms, int64_t latest_ms, size_t limit) override;
  void outbox_settle(const OutboxSettlement& settlement) override;
  void outbox_mark_sending(const std::vector<OutboxItem>& items, int64_t now_ms) override;
  std::vector<OutboxItem> outbox_in_doubt(const std::string& sink, size_t limit) override;
  uint64_t outbox_depth(const std::string& sink) override;

  StoreStats stats() override;
  std::string describe() override;

  int schema_version() const noexcept { return schema_version_; }

 private:
  class Txn;
  class SharedReads;

  std::filesystem::path path_;
  int schema_version_ = 0;
  std::mutex write_mu_;  // held by an open Txn
  std::unique_ptr<sqlite::Conn> writer_;
  int64_t data_version_ = -1;  // PRAGMA data_version seen by the last transaction
  std::unique_ptr<SharedReads> reads_;
  std::unique_ptr<sqlite::ReportReadsConn> report_reads_;
};

}  // namespace touchpoint::core
