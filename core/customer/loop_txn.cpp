// The contact loop's view of the apply transaction (LoopTxn): what a
// handler above the customer model may read and change, nothing more.
#include "customer/customer_store.hpp"
#include "record/json_text.hpp"

namespace touchpoint::core::customer {

StoreTxn& LoopTxn::txn() { return static_cast<CustomerStore::Batch*>(batch_)->txn; }
int64_t LoopTxn::now() const { return static_cast<CustomerStore::Batch*>(batch_)->now; }

std::optional<int64_t> LoopTxn::find(const std::string& reference, std::string* error) {
  CustomerRef ref = store_.resolver_.parse_reference(reference);
  if (!ref.error.empty()) {
    if (error) *error = ref.error;
    return std::nullopt;
  }
  StoreTxn& t = txn();
  int64_t p = ref.profile_id;
  if (ref.identity) {
    std::optional<int64_t> found = store_.find_identity(t, *ref.identity);
    if (!found) return std::nullopt;
    p = *found;
  }
  for (int hops = 0; hops < 64; ++hops) {  // a merged profile's id still leads to the survivor
    CustomerStore::Cached* c = store_.load(t, p);
    if (c == nullptr) return std::nullopt;
    if (c->row.merged_into == 0) return p;
    p = c->row.merged_into;
  }
  return std::nullopt;
}

rules::CustomerSnapshot LoopTxn::snapshot(int64_t profile, int64_t since_ms) {
  // The cached state includes this batch's changes; the transaction's reads
  // see its own identities, events and suppressions.
  CustomerStore::Cached* c = store_.load(txn(), profile);
  if (c == nullptr) return rules::CustomerSnapshot{};
  return store_.build_snapshot(txn(), profile, c->state, since_ms);
}

Json LoopTxn::attributes(int64_t profile) {
  CustomerStore::Cached* c = store_.load(txn(), profile);
  return c == nullptr ? Json::object() : c->state.attributes();
}

bool LoopTxn::apply(const Record& r, const std::string& pipeline) {
  auto* b = static_cast<CustomerStore::Batch*>(batch_);
  const size_t invalid = b->stats.invalid;
  store_.apply_record(*b, r, pipeline);
  return b->stats.invalid == invalid;
}

bool LoopTxn::first_time(const Record& r, const std::string& pipeline, int64_t profile) {
  auto* b = static_cast<CustomerStore::Batch*>(batch_);
  RecordRow row;
  row.id = r.id;
  row.type = r.type;
  row.source = r.source;
  row.pipeline = pipeline;
  row.key = r.key;
  row.profile_id = row.origin_profile = profile;
  row.ts_ms = r.ts_ms;
  row.applied_ms = b->now;
  row.data = json_text(r.data);
  row.meta = r.meta.empty() ? std::string("{}") : json_text(r.meta);
  if (!b->txn.insert_record(row)) {
    ++b->stats.duplicates;
    return false;
  }
  ++b->stats.applied;
  return true;
}

void LoopTxn::dead_letter(const Record& r, const std::string& pipeline, const std::string& error_class,
                          const std::string& reason) {
  auto* b = static_cast<CustomerStore::Batch*>(batch_);
  ++b->stats.invalid;
  DeadLetter d;
  d.record_id = r.id;
  d.pipeline = pipeline;
  d.step = "contact";
  d.error_class = error_class;
  d.reason = reason;
  d.payload = json_text(to_json(r));
  d.first_ms = d.last_ms = b->now;
  b->dead_letters.push_back(std::move(d));
}

void LoopTxn::queue(const OutboxItem& o) {
  auto* b = static_cast<CustomerStore::Batch*>(batch_);
  b->txn.add_outbox(o);
  ++b->stats.contacts_queued;
}

}  // namespace touchpoint::core::customer
