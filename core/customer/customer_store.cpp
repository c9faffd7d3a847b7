// The customer model's write path: records by type into one transaction.
#include "customer/customer_store.hpp"

#include <algorithm>

#include "customer/record_fields.hpp"
#include "record/json_text.hpp"
#include "util/clock.hpp"
#include "util/metrics.hpp"

namespace touchpoint::core::customer {
namespace {

// Identity -> profile lookups the store thread has answered, about 60 bytes
// each. A new customer misses anyway, so the cache pays only for identities
// seen again soon; 2,000,000 entries were 120 MB of the hub's RSS with
// 1,000,000 new customers in flight and hit almost never (bench/README.md).
constexpr size_t kIdentityCacheMax = 250'000;

std::string cache_key(const IdentityKey& k) {
  std::string s;
  s.reserve(k.kind.size() + 1 + k.value.size());
  s.append(k.kind).push_back('\0');
  s.append(k.value);
  return s;
}

DeadLetter invalid_record(const Record& r, const std::string& pipeline, const std::string& reason) {
  DeadLetter d;
  d.record_id = r.id;
  d.pipeline = pipeline;
  d.step = "store";
  d.error_class = "invalid";
  d.reason = reason;
  d.payload = json_text(to_json(r));
  d.first_ms = d.last_ms = now_ms();
  return d;
}

}  // namespace

CustomerStore::CustomerStore(Store& store, const CustomerConfig& config, std::string tombstone_key, Metrics* metrics)
    : store_(store),
      config_(config),
      resolver_(config_),
      rules_(config_),
      tombstone_key_(std::move(tombstone_key)),
      metrics_(metrics),
      profile_cache_max_(config_.cache_profiles) {}

void CustomerStore::clear_caches() {
  identity_cache_.clear();
  profile_cache_.clear();
}

void CustomerStore::trim_caches() {
  // Down to three quarters, not to nothing: a working set just above the
  // limit then reloads a quarter of it per batch instead of all of it.
  if (profile_cache_.size() <= profile_cache_max_) return;
  const size_t keep = profile_cache_max_ - profile_cache_max_ / 4;
  for (auto it = profile_cache_.begin(); it != profile_cache_.end() && profile_cache_.size() > keep;)
    it = profile_cache_.erase(it);
}

CustomerStore::Cached* CustomerStore::load(StoreTxn& txn, int64_t profile) {
  if (auto it = profile_cache_.find(profile); it != profile_cache_.end()) return it->second.get();
  std::optional<ProfileRow> row = txn.profile(profile);
  if (!row) return nullptr;
  // No eviction here: callers hold pointers into the cache, and a batch's
  // changed profiles live only here until apply() writes them. trim_caches()
  // bounds it between transactions.
  auto c = std::make_unique<Cached>();
  c->state = ProfileState::parse(row->state, row->attributes);
  c->row = std::move(*row);
  std::string().swap(c->row.attributes);  // parsed above; write() renders them again
  std::string().swap(c->row.state);
  return profile_cache_.emplace(profile, std::move(c)).first->second.get();
}

std::optional<int64_t> CustomerStore::find_identity(StoreTxn& txn, const IdentityKey& k) {
  const std::string key = cache_key(k);
  if (auto it = identity_cache_.find(key); it != identity_cache_.end()) return it->second;
  std::optional<int64_t> p = txn.identity_profile(k.kind, k.value);
  if (p) {
    if (identity_cache_.size() >= kIdentityCacheMax) identity_cache_.clear();
    identity_cache_.emplace(key, *p);
  }
  return p;
}

const std::vector<IdentityKey>& CustomerStore::identities(StoreTxn& txn, Cached& c) {
  if (!c.identities_loaded) {
    c.identities.clear();
    for (const IdentityRow& r : txn.identities_of(c.row.id)) c.identities.push_back({r.kind, r.value});
    c.identities_loaded = true;
  }
  return c.identities;
}

void CustomerStore::write(StoreTxn& txn, Cached& c) {
  c.row.attributes = json_text(c.state.attributes());
  c.row.state = c.state.serialize();
  txn.put_profile(c.row);
  // The cache keeps the parsed state; the text was only needed for the write.
  std::string().swap(c.row.attributes);
  std::string().swap(c.row.state);
}

std::string CustomerStore::mask(const std::string& v) {
  if (v.size() <= 2) return "***";
  const size_t at = v.find('@');
  if (at != std::string::npos) return v.substr(0, 1) + "***" + v.substr(at);
  return v.substr(0, 1) + "***" + v.substr(v.size() - 2);
}

void CustomerStore::conflict(Batch& b, int64_t a, int64_t other, const std::string& kind, const std::string& detail,
                             const Record& r) {
  ++b.stats.identity_conflicts;
  b.txn.add_conflict(ConflictRow{0, a, other, kind, detail, r.source, r.id, b.now});
}

bool CustomerStore::can_merge(StoreTxn& txn, const std::vector<Cached*>& side, Cached& b,
                              const std::vector<IdentityKey>& extra, std::string* kind) {
  for (const MergeRow& m : txn.merges_of(b.row.id)) {
    if (m.state != "split") continue;
    for (const Cached* a : side)
      if ((m.survivor == a->row.id && m.merged == b.row.id) || (m.survivor == b.row.id && m.merged == a->row.id)) {
        *kind = "split";
        return false;
      }
  }
  std::map<std::string, std::vector<std::string>> by_kind;
  auto count = [&](const std::vector<IdentityKey>& ids) {
    for (const IdentityKey& k : ids) {
      if (resolver_.max_per_profile(k.kind) == 0) continue;
      auto& values = by_kind[k.kind];
      if (std::find(values.begin(), values.end(), k.value) == values.end()) values.push_back(k.value);
    }
  };
  for (Cached* a : side) count(identities(txn, *a));
  count(identities(txn, b));
  count(extra);
  for (const auto& [k, values] : by_kind)
    if (static_cast<int>(values.size()) > resolver_.max_per_profile(k)) {
      *kind = k;
      return false;
    }
  return true;
}

int64_t CustomerStore::record_origin(StoreTxn& txn, int64_t target, const std::vector<IdentityKey>& ids) {
  Cached* t = load(txn, target);
  if (t == nullptr) return target;
  if (!t->absorbed) t->absorbed = !txn.merged_into(target).empty();
  if (!*t->absorbed) return target;  // the common case: no lookup
  const std::vector<IdentityRow> rows = txn.identities_of(target);
  for (const IdentityKey& k : ids)
    for (const IdentityRow& r : rows)
      if (r.kind == k.kind && r.value == k.value) return r.origin_profile;
  return target;
}

void CustomerStore::merge_into(Batch& b, int64_t survivor, int64_t merged, const Record& cause) {
  Cached* s = load(b.txn, survivor);
  Cached* m = load(b.txn, merged);
  if (s == nullptr || m == nullptr || survivor == merged) return;
  b.txn.move_identities(merged, survivor);
  b.txn.move_records(merged, survivor);
  b.txn.move_events(merged, survivor);
  b.txn.move_contacts(merged, survivor);
  b.txn.move_suppressions("profile:" + std::to_string(merged), "profile:" + std::to_string(survivor));
  for (const IdentityKey& k : identities(b.txn, *m)) {
    identity_cache_[cache_key(k)] = survivor;
    if (s->identities_loaded) s->identities.push_back(k);
  }
  s->state.absorb(m->state, rules_);
  s->absorbed = true;
  s->row.created_ms = std::min(s->row.created_ms, m->row.created_ms);
  s->row.updated_ms = b.now;
  m->row.merged_into = survivor;
  m->state = ProfileState();
  m->identities.clear();
  b.txn.add_merge(MergeRow{0, survivor, merged, cause.source, cause.id, b.now, "merged"});
  b.touch(survivor);
  b.touch(merged);
  ++b.stats.merges;
}

void CustomerStore::apply_record(Batch& b, const Record& r, const std::string& pipeline) {
  StoreTxn& txn = b.txn;
  size_t blocked = 0;
  std::vector<IdentityKey> ids = resolver_.extract(r, &blocked);
  b.stats.blocked_identities += blocked;

  // A profile id given as data.customer.
  int64_t by_id = 0;
  if (auto it = r.data.find("customer"); it != r.data.end() && (it->is_string() || it->is_number_integer())) {
    CustomerRef ref = resolver_.parse_reference(it->is_string() ? it->get_ref<const std::string&>() : it->dump());
    if (!ref.error.empty()) {
      ++b.stats.invalid;
      b.dead_letters.push_back(invalid_record(r, pipeline, "data.customer: " + ref.error));
      return;
    }
    if (ref.profile_id != 0) {
      int64_t p = ref.profile_id;
      for (int hops = 0; hops < 64; ++hops) {  // follow merges to the live profile
        Cached* c = load(txn, p);
        if (c == nullptr) break;
        if (c->row.merged_into == 0) {
          by_id = p;
          break;
        }
        p = c->row.merged_into;
      }
      if (by_id == 0) {
        ++b.stats.invalid;
        b.dead_letters.push_back(
            invalid_record(r, pipeline, "data.customer: no profile " + std::to_string(ref.profile_id)));
        return;
      }
    }
  }
  // Type-specific checks before anything is written.
  std::string problem;
  TypedFields fields = typed_fields(r, &problem);
  if (!problem.empty()) {
    ++b.stats.invalid;
    b.dead_letters.push_back(invalid_record(r, pipeline, problem));
    return;
  }
  // A suppression can name a person by identity alone: it applies to a
  // profile that does not exist yet, and creates none.
  const bool suppression = r.type == "suppression";
  if (!suppression && ids.empty() && by_id == 0 && r.type != "profile") {
    ++b.stats.invalid;
    b.dead_letters.push_back(
        invalid_record(r, pipeline, "the " + r.type + " names no customer (set data.customer, the key or an email)"));
    return;
  }

  // ---- resolve (reads only): which profiles do the identities name?
  std::vector<int64_t> groups;
  std::vector<IdentityKey> missing;
  if (by_id != 0) groups.push_back(by_id);
  for (const IdentityKey& k : ids) {
    if (std::optional<int64_t> p = find_identity(txn, k)) {
      if (std::find(groups.begin(), groups.end(), *p) == groups.end()) groups.push_back(*p);
    } else {
      missing.push_back(k);
    }
  }
  if (!missing.empty() && b.tombstones) {
    for (const IdentityKey& k : missing)
      if (txn.tombstoned(tombstone_hash(k))) {
        ++b.stats.tombstoned;  // an erased person does not come back (counted; never logged with the value)
        b.withheld.emplace(pipeline, r.id);
        return;
      }
  }

  int64_t target = groups.empty() ? 0 : groups.front();
  const bool anchor_missing = !ids.empty() && !missing.empty() && missing.front() == ids.front() && by_id == 0;
  std::vector<int64_t> to_merge;
  std::vector<std::pair<int64_t, std::string>> conflicts;  // other profile, kind
  if (target != 0) {
    Cached* t = load(txn, target);
    if (t == nullptr) return;  // cannot happen: identities point at live profiles
    // The record's leading identity is new but its kind is full on the
    // profile its other identities found: a different person (two CRM
    // customers sharing an e-mail). It gets a profile of its own.
    if (anchor_missing) {
      const IdentityKey& anchor = ids.front();
      const int limit = resolver_.max_per_profile(anchor.kind);
      if (limit > 0) {
        int have = 0;
        for (const IdentityKey& k : identities(txn, *t)) have += k.kind == anchor.kind;
        if (have >= limit) {
          conflicts.emplace_back(target, anchor.kind);
          target = 0;
          groups.clear();
        }
      }
    }
    std::vector<Cached*> side{t};
    for (size_t i = 1; i < groups.size(); ++i) {
      Cached* g = load(txn, groups[i]);
      std::string kind;
      if (g != nullptr && can_merge(txn, side, *g, missing, &kind)) {
        to_merge.push_back(groups[i]);
        side.push_back(g);
      } else {
        conflicts.emplace_back(groups[i], kind);
      }
    }
  }
  // The survivor of a merge is the oldest profile: stable across replays.
  int64_t survivor = target;
  for (int64_t g : to_merge) survivor = std::min(survivor, g);
  const bool create = target == 0 && !suppression;
  if (create) survivor = txn.new_profile_id();

  // ---- the record itself: a duplicate changes nothing
  RecordRow row;
  row.id = r.id;
  row.type = r.type;
  row.source = r.source;
  row.pipeline = pipeline;
  row.key = r.key;
  row.profile_id = survivor;
  row.origin_profile = target != 0 ? record_origin(txn, target, ids) : survivor;
  row.ts_ms = r.ts_ms;
  row.applied_ms = b.now;
  row.data = json_text(r.data);
  row.meta = r.meta.empty() ? std::string("{}") : json_text(r.meta);
  if (!txn.insert_record(row)) {
    ++b.stats.duplicates;  // already applied before a crash or a replay (or a client's retry)
    b.withheld.emplace(pipeline, r.id);
    return;
  }
  ++b.stats.applied;

  if (suppression) {
    apply_suppression(b, r, fields, survivor);
    return;
  }
  Cached* s = nullptr;
  if (create) {
    ProfileRow pr;
    pr.id = survivor;
    pr.created_ms = pr.updated_ms = b.now;
    auto c = std::make_unique<Cached>();
    c->row = pr;
    c->identities_loaded = true;
    s = profile_cache_.emplace(survivor, std::move(c)).first->second.get();
    ++b.stats.profiles_created;
  } else {
    for (int64_t g : to_merge) merge_into(b, survivor, g, r);
    if (target != survivor) merge_into(b, survivor, target, r);
    s = load(txn, survivor);
  }
  for (const auto& [other, kind] : conflicts)
    conflict(b, survivor, other, kind,
             kind == "split" ? "the profiles were unmerged; they are kept apart"
                             : "at most " + std::to_string(resolver_.max_per_profile(kind)) + " " + kind +
                                   " identities per profile",
             r);

  // New identities, within the kind limits of the survivor.
  for (const IdentityKey& k : missing) {
    const int limit = resolver_.max_per_profile(k.kind);
    if (limit > 0) {
      int have = 0;
      for (const IdentityKey& x : identities(txn, *s)) have += x.kind == k.kind;
      if (have >= limit) {
        conflict(b, survivor, 0, k.kind,
                 k.kind + " " + mask(k.value) + " not added: the profile has " + std::to_string(have) +
                     " already (limit " + std::to_string(limit) + ")",
                 r);
        continue;
      }
    }
    txn.add_identity(IdentityRow{k.kind, k.value, survivor, survivor, r.source, b.now});
    if (identity_cache_.size() >= kIdentityCacheMax) identity_cache_.clear();
    identity_cache_[cache_key(k)] = survivor;
    if (s->identities_loaded) s->identities.push_back(k);
  }

  apply_effects(b, *s, r, fields, row.seq);
  s->row.updated_ms = b.now;
  b.touch(survivor);
}

ApplyStats CustomerStore::apply(const ApplyBatch& batch) {
  std::lock_guard<std::mutex> lk(mu_);
  std::unique_ptr<StoreTxn> txn = store_.begin();
  if (txn->changed_elsewhere()) clear_caches();
  Batch b{*txn, {}, {}, {}, {}, now_ms(), txn->has_tombstones()};
  try {
    for (const ApplyBatch::Item& item : batch.records) {
      if (loop_ != nullptr && loop_->handles(item.record.type)) {
        LoopTxn t(*this, &b);
        loop_->apply(t, item.record, item.pipeline);
      } else {
        apply_record(b, item.record, item.pipeline);
      }
    }
    for (int64_t id : b.dirty)
      if (auto it = profile_cache_.find(id); it != profile_cache_.end()) write(*txn, *it->second);
    for (const DeadLetter& d : batch.dead_letters) txn->add_dead_letter(d);
    for (const DeadLetter& d : b.dead_letters) txn->add_dead_letter(d);
    for (int64_t id : batch.resolved_dead_letters) txn->delete_dead_letter(id);
    // A record the store skipped was queued for the sinks when it was applied.
    for (const OutboxItem& o : batch.outbox)
      if (!b.withheld.count({o.pipeline, o.record_id})) txn->add_outbox(o);
    for (const auto& [instance, cursor] : batch.checkpoints) txn->set_checkpoint(instance, cursor, b.now);
    if (batch.journal_seq > 0) txn->set_journal_position(batch.journal_seq);
    txn->commit();
  } catch (...) {
    clear_caches();
    throw;
  }
  trim_caches();
  if (metrics_) {
    if (b.stats.merges) metrics_->counter_add("touchpoint_store_merges_total", "", double(b.stats.merges));
    if (b.stats.tombstoned) metrics_->counter_add("touchpoint_store_tombstoned_total", "", double(b.stats.tombstoned));
    if (b.stats.invalid) metrics_->counter_add("touchpoint_store_invalid_total", "", double(b.stats.invalid));
  }
  return b.stats;
}

void CustomerStore::record_decision(const DecisionRow& row) {
  std::lock_guard<std::mutex> lk(mu_);
  std::unique_ptr<StoreTxn> txn = store_.begin();
  if (txn->changed_elsewhere()) clear_caches();
  txn->add_decision(row);
  txn->commit();
}

}  // namespace touchpoint::core::customer
