#pragma once
// The central customer store: the single point of truth. The embedded
// default is SQLite (sqlite_store.cpp); a PostgreSQL backend implements the
// same interface later. Everything the applier changes for one journal range
// goes through apply() as ONE transaction together with the new journal
// position, so a replay after a crash neither loses nor duplicates anything.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "record/record.hpp"

namespace touchpoint::core {

/// A record that failed somewhere, with everything needed to understand and replay it.
struct DeadLetter {
  int64_t id = 0;         ///< assigned by the store
  std::string record_id;  ///< empty for raw source rejects
  std::string pipeline;
  std::string step;         ///< "source", "2:normalize_phone", "sink:crm", ...
  std::string error_class;  ///< "rejected", "permanent", "retries_exhausted", "malformed"
  std::string reason;
  std::string location;  ///< e.g. "inbox/a.csv:17"
  std::string payload;   ///< envelope JSON, or the raw input for source rejects
  int attempts = 1;
  int64_t first_ms = 0;
  int64_t last_ms = 0;
  std::string state = "new";  ///< "new" or "replay" (requested)
};

/// The JSON shape of a dead letter in `dlq list --json` and GET /dlq (no payload).
inline Json dead_letter_json(const DeadLetter& d) {
  return Json{{"id", d.id},
              {"record_id", d.record_id},
              {"pipeline", d.pipeline},
              {"step", d.step},
              {"error_class", d.error_class},
              {"reason", d.reason},
              {"location", d.location},
              {"attempts", d.attempts},
              {"first_ms", d.first_ms},
              {"last_ms", d.last_ms},
              {"state", d.state}};
}

struct DlqFilter {
  std::optional<int64_t> id;
  std::optional<std::string> pipeline;
  std::optional<std::string> state;
  size_t limit = 100;
};

/// A message waiting for delivery to one sink (transactional outbox).
struct OutboxItem {
  int64_t id = 0;
  std::string sink;  ///< sink instance name "<pipeline>.<sink>"
  std::string pipeline;
  std::string record_id;
  std::string envelope;  ///< to_json(record) serialized
  int attempts = 0;
  int64_t next_ms = 0;
  int64_t first_ms = 0;
  std::string last_error;
};

struct ApplyBatch {
  uint64_t journal_seq = 0;  ///< position after this batch
  struct Item {
    Record record;
    std::string pipeline;
  };
  std::vector<Item> records;
  std::vector<DeadLetter> dead_letters;
  std::vector<OutboxItem> outbox;
  std::map<std::string, std::string> checkpoints;  ///< instance -> cursor
  std::vector<int64_t> resolved_dead_letters;      ///< replayed rows to delete
};

struct ApplyStats {
  size_t applied = 0;
  size_t duplicates = 0;
  size_t profiles_created = 0;
  size_t identity_conflicts = 0;
};

/// What the sink worker decided for delivered outbox items, applied atomically.
struct OutboxSettlement {
  std::vector<int64_t> delivered;
  std::vector<OutboxItem> retry;  ///< attempts, next_ms, last_error updated
  std::vector<std::pair<int64_t, DeadLetter>> dead;
};

struct ProfileView {
  int64_t id = 0;
  int64_t created_ms = 0, updated_ms = 0;
  Json attributes;
  struct Identity {
    std::string kind, value, source;
  };
  std::vector<Identity> identities;
  std::vector<Record> recent;
};

struct StoreStats {
  uint64_t profiles = 0;
  uint64_t records = 0;
  uint64_t dead_letters = 0;
  uint64_t outbox = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual uint64_t journal_position() = 0;
  virtual ApplyStats apply(const ApplyBatch& batch) = 0;

  virtual std::map<std::string, std::string> checkpoints() = 0;

  virtual std::vector<DeadLetter> dlq_list(const DlqFilter& filter) = 0;
  virtual size_t dlq_request_replay(const DlqFilter& filter) = 0;
  virtual std::vector<DeadLetter> dlq_replay_requests(size_t limit) = 0;
  virtual size_t dlq_purge(const DlqFilter& filter) = 0;

  /// Items due at now_ms, oldest first. Items scheduled after latest_ms are
  /// due too: no backoff reaches that far, so the wall clock went backwards
  /// since they were scheduled, and waiting for it to catch up would stall
  /// the sink for as long as the jump.
  virtual std::vector<OutboxItem> outbox_due(const std::string& sink, int64_t now_ms, int64_t latest_ms,
                                             size_t limit) = 0;
  virtual void outbox_settle(const OutboxSettlement& settlement) = 0;
  virtual uint64_t outbox_depth(const std::string& sink) = 0;

  /// Finds a profile by numeric id, e-mail, or "kind:value" identity.
  virtual std::optional<ProfileView> profile_find(const std::string& query, size_t recent) = 0;

  /// Row counts kept by the store itself (no table scans): cheap enough for every scrape.
  virtual StoreStats stats() = 0;
  /// One line for the log: backend, location, schema version.
  virtual std::string describe() = 0;
};

}  // namespace touchpoint::core
