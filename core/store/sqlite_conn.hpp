#pragma once
// One SQLite connection of the store with its prepared statements, and every
// row operation the backend offers, written once. SqliteStore exposes them
// through the Store interface: reads on the shared read connection (locked),
// reads and writes on the writer connection inside a transaction.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/rows.hpp"
#include "store/sqlite_db.hpp"
#include "store/store.hpp"

namespace touchpoint::core::sqlite {

/// A cached statement in use; reset when the scope ends, so that a query
/// stopped early does not keep the connection's read snapshot open.
class Query {
 public:
  explicit Query(Statement& s) : s_(s) {}
  ~Query() { s_.reset(); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Statement* operator->() { return &s_; }
  Statement& operator*() { return s_; }

 private:
  Statement& s_;
};

class Conn {
 public:
  Conn(const std::filesystem::path& path, bool read_only);
  Database& db() { return db_; }
  /// A cached prepared statement (reset, bindings cleared) for `sql`.
  Statement& st(const char* sql);
  /// Whether TOUCHPOINT_SQLITE_PLAN_CHECK is set: then st() refuses a
  /// statement whose plan scans a whole table (see check_plan).
  static bool plan_check_enabled();

  // ---- reads
  std::optional<int64_t> identity_profile(std::string_view kind, std::string_view value);
  std::vector<IdentityRow> identities_of(int64_t profile);
  std::vector<IdentityRow> identities_with_origin(const std::vector<int64_t>& origins);
  std::optional<ProfileRow> profile(int64_t id);
  std::vector<int64_t> merged_into(int64_t survivor);
  std::vector<RecordRow> records_of(int64_t profile, size_t limit, bool newest_first);
  std::vector<RecordRow> records_with_origin(const std::vector<int64_t>& origins);
  std::vector<EventRow> events_of(int64_t profile, int64_t since_ms);
  std::vector<SuppressionRow> suppressions_for(const std::vector<std::string>& subjects);
  std::vector<SuppressionRow> suppressions(std::string_view list, size_t limit);
  std::vector<MergeRow> merges_of(int64_t profile);
  std::optional<MergeRow> merge(int64_t id);
  std::vector<ConflictRow> conflicts_of(int64_t profile);
  std::vector<DecisionRow> decisions_of(int64_t profile, size_t limit);
  std::vector<AuditRow> audit(size_t limit);
  std::optional<ContactRow> contact(std::string_view id);
  std::optional<ContactRow> contact_by_provider(std::string_view provider_id);
  std::vector<ContactEventRow> contact_events(std::string_view id);
  std::vector<ContactRow> contacts_of(int64_t profile, size_t limit);
  std::vector<ContactRow> contacts_in_window(int64_t profile, int64_t from_ms, int64_t to_ms, size_t limit);
  bool tombstoned(std::string_view hash);
  bool has_tombstones();
  void each_profile(const std::function<bool(const ProfileRow&)>& fn);
  std::vector<DeadLetter> dead_letters(const DlqFilter& f);
  uint64_t journal_position();
  std::map<std::string, std::string> checkpoints();
  StoreStats stats();

  // ---- writes (inside a transaction)
  int64_t max_profile_id();
  void put_profile(const ProfileRow& row);
  void delete_profile(int64_t id);
  void add_identity(const IdentityRow& row);
  void set_identity_profile(std::string_view kind, std::string_view value, int64_t profile);
  void move_identities(int64_t from, int64_t to);
  void delete_identities_of(int64_t profile);
  bool insert_record(RecordRow& row);
  void move_records(int64_t from, int64_t to);
  void set_record_profile(int64_t seq, int64_t profile);
  void delete_records_of(int64_t profile);
  void add_event(const EventRow& row);
  void move_events(int64_t from, int64_t to);
  void delete_events_of(int64_t profile);
  void put_suppression(const SuppressionRow& row);
  size_t remove_suppression(std::string_view list, std::string_view subject);
  void move_suppressions(std::string_view from, std::string_view to);
  size_t delete_suppressions_of(std::string_view subject);
  int64_t add_merge(const MergeRow& row);
  void set_merge_state(int64_t id, std::string_view state);
  void add_conflict(const ConflictRow& row);
  void add_decision(const DecisionRow& row);
  void delete_decisions_of(int64_t profile);
  void add_audit(const AuditRow& row);
  void put_contact(const ContactRow& row);
  void add_contact_event(const ContactEventRow& row);
  void move_contacts(int64_t from, int64_t to);
  size_t delete_contacts_of(int64_t profile);
  /// A contact's state (and provider id, when given) with an event, as a sink settles it.
  void update_contact(const ContactUpdate& u);
  void add_tombstone(std::string_view hash, int64_t at);
  size_t delete_payloads_mentioning(const std::vector<std::string>& needles);
  void add_dead_letter(const DeadLetter& d);
  void delete_dead_letter(int64_t id);
  void add_outbox(const OutboxItem& o);
  void set_checkpoint(std::string_view instance, std::string_view cursor, int64_t now);
  void set_journal_position(uint64_t seq);

 private:
  void check_plan(const char* sql);
  /// A statement built for one call (its text varies), checked like st()'s.
  Statement one_off(const std::string& sql);
  Database db_;
  std::map<std::string, Statement, std::less<>> statements_;
};

}  // namespace touchpoint::core::sqlite
