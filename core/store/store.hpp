#pragma once
// The storage seam of the central customer store. A backend (SQLite, the
// embedded default; PostgreSQL later) stores rows and runs transactions; it
// does not know what a merge or a consent is. The customer model
// (core/customer/) implements identity resolution, merges, survivorship,
// consent and suppression on top of this interface, once for every backend.
// Everything the applier changes for one journal range goes through ONE
// transaction together with the new journal position, so a replay after a
// crash neither loses nor duplicates anything.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "record/record.hpp"
#include "store/report_rows.hpp"
#include "store/rows.hpp"

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
  std::string envelope;    ///< to_json(record) serialized
  std::string contact_id;  ///< set for the messages of the contact loop
  int attempts = 0;
  int64_t sending_ms = 0;  ///< when it was handed to the sink; 0: not yet (see outbox_mark_sending)
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
  size_t merges = 0;
  size_t tombstoned = 0;          ///< records dropped: they name an erased person
  size_t invalid = 0;             ///< records the store could not apply (dead-lettered)
  size_t blocked_identities = 0;  ///< identity values refused (placeholders, malformed)
  size_t contacts_queued = 0;     ///< messages of the contact loop put into channel outboxes
};

/// A contact's new state, written with the outbox change that caused it.
struct ContactUpdate {
  std::string contact_id;
  std::string state;
  std::string provider_id;  ///< kept when empty
  ContactEventRow event;
};

/// What the sink worker decided for delivered outbox items, applied atomically.
struct OutboxSettlement {
  std::vector<int64_t> delivered;
  std::vector<OutboxItem> retry;  ///< attempts, next_ms, last_error updated
  std::vector<std::pair<int64_t, DeadLetter>> dead;
  std::vector<ContactUpdate> contacts;
};

struct StoreStats {
  uint64_t profiles = 0;
  uint64_t records = 0;
  uint64_t dead_letters = 0;
  uint64_t outbox = 0;
};

class Store;

/// Reads every backend offers (on a transaction, or on the store's shared
/// read connection). Rows only: no interpretation.
class StoreReads {
 public:
  virtual ~StoreReads() = default;

  virtual std::optional<int64_t> identity_profile(std::string_view kind, std::string_view value) = 0;
  virtual std::vector<IdentityRow> identities_of(int64_t profile) = 0;
  virtual std::vector<IdentityRow> identities_with_origin(const std::vector<int64_t>& origins) = 0;
  virtual std::optional<ProfileRow> profile(int64_t id) = 0;
  /// The profiles that were merged into `survivor` (merged_into == survivor).
  virtual std::vector<int64_t> merged_into(int64_t survivor) = 0;
  /// A profile's records in apply order (seq); limit 0: all. newest_first reverses.
  virtual std::vector<RecordRow> records_of(int64_t profile, size_t limit, bool newest_first) = 0;
  virtual std::vector<RecordRow> records_with_origin(const std::vector<int64_t>& origins) = 0;
  /// Timeline entries at or after since_ms, newest first.
  virtual std::vector<EventRow> events_of(int64_t profile, int64_t since_ms) = 0;
  virtual std::vector<SuppressionRow> suppressions_for(const std::vector<std::string>& subjects) = 0;
  /// Entries of one list ("" : all lists), by subject.
  virtual std::vector<SuppressionRow> suppressions(std::string_view list, size_t limit) = 0;
  virtual std::vector<MergeRow> merges_of(int64_t profile) = 0;
  virtual std::optional<MergeRow> merge(int64_t id) = 0;
  virtual std::vector<ConflictRow> conflicts_of(int64_t profile) = 0;
  virtual std::vector<DecisionRow> decisions_of(int64_t profile, size_t limit) = 0;
  virtual std::vector<AuditRow> audit(size_t limit) = 0;
  virtual std::optional<ContactRow> contact(std::string_view id) = 0;
  /// The contact a channel sink reported this provider id for (newest first).
  virtual std::optional<ContactRow> contact_by_provider(std::string_view provider_id) = 0;
  virtual std::vector<ContactEventRow> contact_events(std::string_view id) = 0;
  /// A profile's contacts, newest first.
  virtual std::vector<ContactRow> contacts_of(int64_t profile, size_t limit) = 0;
  virtual bool tombstoned(std::string_view hash) = 0;
  /// Whether anyone was ever erased: until then no record needs its
  /// identities hashed against the tombstones.
  virtual bool has_tombstones() = 0;
  /// Calls fn for every live (not merged) profile in id order until it returns false.
  virtual void each_profile(const std::function<bool(const ProfileRow&)>& fn) = 0;
};

/// One write transaction. At most one is open at a time (begin() waits).
/// commit() ends it: the next begin() may start at once, and the object
/// must not be used afterwards. Destroyed without commit(): rolled back.
class StoreTxn : public StoreReads {
 public:
  /// True if another process (the CLI) committed since the previous
  /// transaction: caches above the store must be dropped.
  virtual bool changed_elsewhere() = 0;
  virtual void commit() = 0;

  virtual int64_t new_profile_id() = 0;
  virtual void put_profile(const ProfileRow& row) = 0;  ///< insert or replace
  virtual void delete_profile(int64_t id) = 0;

  virtual void add_identity(const IdentityRow& row) = 0;
  virtual void set_identity_profile(std::string_view kind, std::string_view value, int64_t profile) = 0;
  virtual void move_identities(int64_t from, int64_t to) = 0;
  virtual void delete_identities_of(int64_t profile) = 0;

  /// Inserts; sets row.seq. False (nothing written) when (source, id) exists.
  virtual bool insert_record(RecordRow& row) = 0;
  virtual void move_records(int64_t from, int64_t to) = 0;
  virtual void set_record_profile(int64_t seq, int64_t profile) = 0;
  virtual void delete_records_of(int64_t profile) = 0;

  virtual void add_event(const EventRow& row) = 0;
  virtual void move_events(int64_t from, int64_t to) = 0;
  virtual void delete_events_of(int64_t profile) = 0;

  virtual void put_suppression(const SuppressionRow& row) = 0;  ///< insert or replace (list, subject)
  virtual size_t remove_suppression(std::string_view list, std::string_view subject) = 0;
  virtual void move_suppressions(std::string_view from_subject, std::string_view to_subject) = 0;
  virtual size_t delete_suppressions_of(std::string_view subject) = 0;

  virtual int64_t add_merge(const MergeRow& row) = 0;
  virtual void set_merge_state(int64_t id, std::string_view state) = 0;
  virtual void add_conflict(const ConflictRow& row) = 0;
  virtual void add_decision(const DecisionRow& row) = 0;
  virtual void delete_decisions_of(int64_t profile) = 0;
  virtual void add_audit(const AuditRow& row) = 0;
  virtual void put_contact(const ContactRow& row) = 0;  ///< insert or replace by id
  virtual void add_contact_event(const ContactEventRow& row) = 0;
  virtual void move_contacts(int64_t from, int64_t to) = 0;
  /// Deletes a profile's contacts and their histories; returns how many contacts.
  virtual size_t delete_contacts_of(int64_t profile) = 0;
  virtual void add_tombstone(std::string_view hash, int64_t at) = 0;
  /// Deletes dead letters and outbox entries whose payload (or reason)
  /// contains any needle, ASCII case-insensitively, where the match is not
  /// preceded by a character of an address's local part ([a-z0-9._%+-]):
  /// a@x.de does not hit anna@x.de. Returns how many.
  virtual size_t delete_payloads_mentioning(const std::vector<std::string>& needles) = 0;

  /// A profile's contacts created in [from_ms, to_ms], newest first, at most `limit`.
  virtual std::vector<ContactRow> contacts_in_window(int64_t profile, int64_t from_ms, int64_t to_ms, size_t limit) = 0;
  /// Adds one conversion's credits and contact conversions to the reports;
  /// nothing when its record_seq was credited before.
  virtual void add_conversion(const ConversionRows& c) = 0;
  /// Counts up to `max_records` of the records applied since the last call
  /// into report_sources; returns how many (fewer than max: caught up).
  virtual size_t refresh_report_sources(size_t max_records) = 0;
  virtual void put_report_snapshot(const std::string& kind, int64_t computed_ms, const std::string& body) = 0;

  virtual void add_dead_letter(const DeadLetter& d) = 0;
  virtual void delete_dead_letter(int64_t id) = 0;
  virtual void add_outbox(const OutboxItem& o) = 0;
  virtual void set_checkpoint(std::string_view instance, std::string_view cursor, int64_t now) = 0;
  virtual void set_journal_position(uint64_t seq) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual uint64_t journal_position() = 0;

  /// Opens the write transaction (waits while another is open in this process).
  virtual std::unique_ptr<StoreTxn> begin() = 0;
  /// Thread-safe reads on a connection of their own, never blocked by a write.
  virtual StoreReads& reads() = 0;
  /// Thread-safe reads of the report tables (docs/reports.md), likewise.
  virtual ReportReads& report_reads() = 0;

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
  /// Marks items as being handed to their sink (and their contacts as
  /// `sending`) before write() is called: an item still marked after a crash
  /// was perhaps delivered, perhaps not (docs/channels.md, at most once).
  virtual void outbox_mark_sending(const std::vector<OutboxItem>& items, int64_t now_ms) = 0;
  /// Items of a sink that were marked sending and never settled.
  virtual std::vector<OutboxItem> outbox_in_doubt(const std::string& sink, size_t limit) = 0;
  virtual uint64_t outbox_depth(const std::string& sink) = 0;

  /// Row counts kept by the store itself (no table scans): cheap enough for every scrape.
  virtual StoreStats stats() = 0;
  /// One line for the log: backend, location, schema version.
  virtual std::string describe() = 0;
};

}  // namespace touchpoint::core
