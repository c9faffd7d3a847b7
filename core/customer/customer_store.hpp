#pragma once
// The customer model: the single point of truth on top of any store
// backend. It applies records by type (profile, event, consent,
// suppression), resolves identities and merges profiles (reversibly),
// decides each attribute by survivorship with lineage, keeps consent and
// suppression lists, answers the rulebook's questions (snapshots), and does
// what a data-protection officer needs (erase with tombstones, export, audit).
//
// Every change goes through one store transaction. Caches (identity ->
// profile, parsed profile states) are dropped on rollback and whenever
// another process (the CLI) has written to the store.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/customer_config.hpp"
#include "customer/identity_resolver.hpp"
#include "customer/profile_state.hpp"
#include "customer/record_fields.hpp"
#include "rules/snapshot.hpp"
#include "store/store.hpp"

namespace touchpoint::core {
class Metrics;
}

namespace touchpoint::core::customer {

/// Who asked for an admin action (for the audit log).
struct Actor {
  std::string name = "cli";       ///< token name ("admin") or "cli:<user>"
  std::string address = "local";  ///< client address
};

/// Everything `profile show` and GET /v1/profiles/<ref> show.
struct ProfileView {
  ProfileRow row;
  ProfileState state;
  std::vector<IdentityRow> identities;
  std::vector<int64_t> merged_profiles;  ///< profiles merged into this one
  std::vector<SuppressionRow> suppressions;
  std::map<std::string, rules::ChannelState> channels;
  std::vector<EventRow> timeline;      ///< newest first
  std::vector<RecordRow> records;      ///< newest first
  std::vector<DecisionRow> decisions;  ///< newest first
  std::vector<MergeRow> merges;
  std::vector<ConflictRow> conflicts;
};
Json view_json(const ProfileView& v);

struct EraseResult {
  int64_t profile_id = 0;
  size_t profiles = 0, identities = 0, records = 0, events = 0, dead_letters_and_outbox = 0, suppressions = 0,
         decisions = 0, contacts = 0;
  std::vector<std::string> tombstones;         ///< keyed hashes (never the plain values)
  std::vector<IdentityKey> erased_identities;  ///< for the connectors' erase requests; not logged
};

class CustomerStore;

/// What a record-type handler above the customer model (the contact loop,
/// core/contact/) may do inside apply()'s transaction: find customers
/// without creating them, read their snapshot as the transaction sees it,
/// and change them only by applying records of the store's own types, so
/// every effect keeps its lineage.
class LoopTxn {
 public:
  StoreTxn& txn();
  int64_t now() const;
  /// The live profile `reference` names (e-mail, kind:value, profile id),
  /// following merges; nullopt when unknown (*error set when malformed).
  std::optional<int64_t> find(const std::string& reference, std::string* error = nullptr);
  /// The customer as the rulebook sees it, including this batch's changes.
  rules::CustomerSnapshot snapshot(int64_t profile, int64_t since_ms);
  /// The merged attributes of a live profile (empty object when unknown).
  Json attributes(int64_t profile);
  /// Applies a record of a store type (profile, event, consent,
  /// suppression) in this transaction; false when it was dead-lettered.
  bool apply(const Record& r, const std::string& pipeline);
  /// Stores `r` on the profile's record list; false when (source, id) was
  /// applied before (a replay, a re-read response): then do nothing.
  bool first_time(const Record& r, const std::string& pipeline, int64_t profile);
  void dead_letter(const Record& r, const std::string& pipeline, const std::string& error_class,
                   const std::string& reason);
  /// Queues a message for a channel sink in this transaction (and wakes the sinks after commit).
  void queue(const OutboxItem& o);

 private:
  friend class CustomerStore;
  LoopTxn(CustomerStore& store, void* batch) : store_(store), batch_(batch) {}
  CustomerStore& store_;
  void* batch_;  // CustomerStore::Batch
};

/// Handles record types the customer model does not know itself.
class LoopHandler {
 public:
  virtual ~LoopHandler() = default;
  virtual bool handles(const std::string& type) const = 0;
  virtual void apply(LoopTxn& t, const Record& r, const std::string& pipeline) = 0;
};

class CustomerStore {
 public:
  /// tombstone_key: the secret of the keyed hash that tombstones use.
  CustomerStore(Store& store, const CustomerConfig& config, std::string tombstone_key, Metrics* metrics = nullptr);

  Store& store() noexcept { return store_; }
  const IdentityResolver& resolver() const noexcept { return resolver_; }

  /// The applier's transaction: records by type, dead letters, outbox,
  /// checkpoints and the journal position, all or nothing.
  ApplyStats apply(const ApplyBatch& batch);

  /// The live profile a reference names (following merges), or nullopt
  /// (with the reason in *error when the reference itself is malformed).
  std::optional<int64_t> resolve(const std::string& reference, std::string* error = nullptr);
  /// The live profile row a reference names (one lookup path for decisions).
  std::optional<ProfileRow> find(const std::string& reference, std::string* error = nullptr);
  std::optional<ProfileView> view(int64_t profile, size_t recent = 20);
  /// What the rulebook needs about one profile: events at or after since_ms.
  std::optional<rules::CustomerSnapshot> snapshot(int64_t profile, int64_t since_ms);
  rules::CustomerSnapshot snapshot_from(const ProfileRow& row, int64_t since_ms);

  void record_decision(const DecisionRow& row);
  /// Records of the types `handler` claims go to it inside apply(). Set
  /// once, before the applier starts (the contact loop).
  void set_loop_handler(LoopHandler* handler) { loop_ = handler; }

  // ---- admin actions: one transaction each, with an audit entry
  void suppress_add(const std::string& reference, SuppressionRow entry, const Actor& who);
  size_t suppress_remove(const std::string& list, const std::string& reference, const Actor& who);
  /// Splits a merge; returns the two profile ids (survivor, restored).
  std::pair<int64_t, int64_t> unmerge(int64_t merge_id, const Actor& who);
  EraseResult erase(const std::string& reference, const Actor& who);
  Json export_person(const std::string& reference, const Actor& who);
  /// Recomputes a live profile from its records alone (what unmerge does to
  /// both sides; also after a change of the survivorship rules). Applying
  /// the records one by one and recomputing give the same profile.
  void recompute(int64_t profile);
  void audit(const Actor& who, const std::string& action, const std::string& target, const Json& detail);

  /// "kind:value" -> keyed hash (HMAC-SHA256, hex) as tombstones store it.
  std::string tombstone_hash(const IdentityKey& k) const;
  /// Masks a value for logs and conflict texts ("a***@example.de").
  static std::string mask(const std::string& value);
  /// How many profiles stay cached between batches (tests and benchmarks
  /// make it small to exercise the store path).
  void set_profile_cache_limit(size_t n) { profile_cache_max_ = n; }

 private:
  struct Cached {
    ProfileRow row;
    ProfileState state;
    bool identities_loaded = false;
    std::vector<IdentityKey> identities;
    std::optional<bool> absorbed;  ///< whether other profiles were merged into it (lazily known)
  };
  /// One apply() call: the transaction, what it produced, and which cached
  /// profiles must be written before commit.
  struct Batch {
    StoreTxn& txn;
    ApplyStats stats;
    std::vector<DeadLetter> dead_letters;
    std::unordered_set<int64_t> dirty;
    /// (pipeline, record id) of records not applied because they were
    /// applied before or name an erased person: their outbox entries
    /// are not queued again.
    std::set<std::pair<std::string, std::string>> withheld;
    int64_t now = 0;
    bool tombstones = true;  ///< false: nobody was ever erased, no identity needs hashing
    void touch(int64_t id) { dirty.insert(id); }
  };

  friend class LoopTxn;
  rules::CustomerSnapshot build_snapshot(StoreReads& reads, int64_t id, const ProfileState& state, int64_t since_ms);
  void clear_caches();
  struct ClearCachesOnExit {
    CustomerStore& self;
    ~ClearCachesOnExit() { self.clear_caches(); }
  };
  /// Bounds the profile cache; only between transactions (see load()).
  void trim_caches();
  Cached* load(StoreTxn& txn, int64_t profile);
  std::optional<int64_t> find_identity(StoreTxn& txn, const IdentityKey& k);
  const std::vector<IdentityKey>& identities(StoreTxn& txn, Cached& c);
  void apply_record(Batch& b, const Record& r, const std::string& pipeline);
  /// What a record of each type changes on its profile.
  void apply_effects(Batch& b, Cached& s, const Record& r, const TypedFields& f, int64_t seq);
  void apply_suppression(Batch& b, const Record& r, const TypedFields& f, int64_t profile);
  void merge_into(Batch& b, int64_t survivor, int64_t merged, const Record& cause);
  /// Whether `b` may join `side` (the target and the profiles already
  /// accepted into the same merge): no split between them, and the kind
  /// limits hold for all of them together with the record's new identities.
  bool can_merge(StoreTxn& txn, const std::vector<Cached*>& side, Cached& b, const std::vector<IdentityKey>& extra,
                 std::string* kind);
  void conflict(Batch& b, int64_t a, int64_t b2, const std::string& kind, const std::string& detail, const Record& r);
  void rebuild(StoreTxn& txn, int64_t profile);
  /// The profile a record found through `ids` belongs to by origin: for a
  /// merged group, the origin of its leading identity, so that unmerge
  /// gives each person the records that named them.
  int64_t record_origin(StoreTxn& txn, int64_t target, const std::vector<IdentityKey>& ids);
  void write(StoreTxn& txn, Cached& c);

  Store& store_;
  CustomerConfig config_;
  IdentityResolver resolver_;
  Survivorship rules_;
  std::string tombstone_key_;
  Metrics* metrics_;
  LoopHandler* loop_ = nullptr;

  std::mutex mu_;  // caches; one writer at a time
  std::unordered_map<std::string, int64_t> identity_cache_;
  std::unordered_map<int64_t, std::unique_ptr<Cached>> profile_cache_;
  size_t profile_cache_max_;
};

/// Loads (or creates, 0600) the tombstone key file: 32 random bytes, hex.
std::string load_or_create_tombstone_key(const std::filesystem::path& file);

}  // namespace touchpoint::core::customer
