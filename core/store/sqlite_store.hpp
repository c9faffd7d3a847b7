#pragma once
// The embedded default central store: one SQLite database file in WAL mode.
// A writer connection (applier, sink settlements, DLQ changes) and a reader
// connection (CLI, admin, outbox polling) so reads never wait for a large
// apply transaction.

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/identity.hpp"
#include "store/sqlite_db.hpp"
#include "store/store.hpp"

namespace touchpoint::core {

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::filesystem::path& path);
  ~SqliteStore() override;

  uint64_t journal_position() override;
  ApplyStats apply(const ApplyBatch& batch) override;
  std::map<std::string, std::string> checkpoints() override;

  std::vector<DeadLetter> dlq_list(const DlqFilter& filter) override;
  size_t dlq_request_replay(const DlqFilter& filter) override;
  std::vector<DeadLetter> dlq_replay_requests(size_t limit) override;
  size_t dlq_purge(const DlqFilter& filter) override;

  std::vector<OutboxItem> outbox_due(const std::string& sink, int64_t now_ms, int64_t latest_ms, size_t limit) override;
  void outbox_settle(const OutboxSettlement& settlement) override;
  uint64_t outbox_depth(const std::string& sink) override;

  std::optional<ProfileView> profile_find(const std::string& query, size_t recent) override;
  StoreStats stats() override;
  std::string describe() override;

  int schema_version() const noexcept { return schema_version_; }

 private:
  struct Writer;  // prepared statements of the writer connection

  /// The profile a record's identities point at (0: none yet) and which of
  /// its identities are still unknown. Reads only.
  struct Resolution {
    std::vector<IdentityKey> ids;
    std::vector<size_t> missing;  ///< indexes into ids
    int64_t profile = 0;
    size_t conflicts = 0;
  };
  Resolution find_profile(const Record& record);
  /// Creates or updates the profile and adds the missing identities.
  void write_profile(const Record& record, const std::string& data, const Resolution& res, int64_t profile, int64_t now,
                     ApplyStats& stats);
  void insert_dead_letter(const DeadLetter& d);
  std::vector<DeadLetter> query_dead_letters(sqlite::Database& db, const DlqFilter& f, const char* select_prefix);

  std::filesystem::path path_;
  int schema_version_ = 0;
  std::mutex write_mu_;
  std::unique_ptr<sqlite::Database> wdb_;
  std::unique_ptr<Writer> w_;
  std::mutex read_mu_;
  std::unique_ptr<sqlite::Database> rdb_;

  // identity "kind\0value" -> profile id. Only the writer touches it, and it
  // is cleared whenever a transaction rolls back, so it never disagrees with
  // the database.
  std::unordered_map<std::string, int64_t> identity_cache_;
  int64_t next_profile_id_ = 1;
};

}  // namespace touchpoint::core
