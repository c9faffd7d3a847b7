// Admin actions on the customer model: suppression lists by hand, unmerge,
// GDPR erasure (Art. 17) and export (Art. 15), each in one transaction with
// an entry in the audit log.
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "customer/customer_store.hpp"
#include "util/clock.hpp"
#include "util/time_text.hpp"

namespace touchpoint::core::customer {
namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 0xF];
  }
  return out;
}

/// A profile and every profile merged into it, recursively.
std::vector<int64_t> group_of(StoreReads& r, int64_t root) {
  std::vector<int64_t> group{root};
  for (size_t i = 0; i < group.size() && group.size() < 100'000; ++i)
    for (int64_t m : r.merged_into(group[i])) group.push_back(m);
  return group;
}

Record record_of(const RecordRow& row) {
  Record r;
  r.id = row.id;
  r.type = row.type;
  r.source = row.source;
  r.key = row.key;
  r.ts_ms = row.ts_ms;
  r.data = Json::parse(row.data, nullptr, false);
  if (!r.data.is_object()) r.data = Json::object();
  r.meta = Json::parse(row.meta, nullptr, false);
  if (!r.meta.is_object()) r.meta = Json::object();
  return r;
}

}  // namespace

std::string load_or_create_tombstone_key(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0)
      throw std::runtime_error("tombstone key file " + file.string() +
                               " is accessible by group or others; run: chmod 600 " + file.string());
    std::ifstream in(file);
    std::string key;
    std::getline(in, key);
    if (key.size() < 32)
      throw std::runtime_error("tombstone key in " + file.string() + " is shorter than 32 characters");
    return key;
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("cannot generate a tombstone key");
  const std::string key = hex(raw, sizeof raw);
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  const mode_t old = ::umask(077);
  std::ofstream out(file, std::ios::trunc);
  ::umask(old);
  out << key << "\n";
  if (!out) throw std::runtime_error("cannot write tombstone key file " + file.string());
  return key;
}

std::string CustomerStore::tombstone_hash(const IdentityKey& k) const {
  const std::string text = k.text();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), tombstone_key_.data(), static_cast<int>(tombstone_key_.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), md, &len);
  return hex(md, len);
}

void CustomerStore::audit(const Actor& who, const std::string& action, const std::string& target, const Json& detail) {
  std::lock_guard<std::mutex> lk(mu_);
  std::unique_ptr<StoreTxn> txn = store_.begin();
  // Our commit marks the store's version as seen: drop what another process
  // changed now, or apply() would never learn of it.
  if (txn->changed_elsewhere()) clear_caches();
  txn->add_audit(AuditRow{0, now_ms(), who.name, action, target, who.address, detail.dump()});
  txn->commit();
}

void CustomerStore::suppress_add(const std::string& reference, SuppressionRow entry, const Actor& who) {
  CustomerRef ref = resolver_.parse_reference(reference);
  if (!ref.error.empty()) throw std::invalid_argument(ref.error);
  std::lock_guard<std::mutex> lk(mu_);
  std::unique_ptr<StoreTxn> txn = store_.begin();
  if (txn->changed_elsewhere()) clear_caches();
  if (ref.identity) {
    entry.subject = ref.identity->text();
  } else {
    if (!txn->profile(ref.profile_id)) throw std::invalid_argument("no profile " + std::to_string(ref.profile_id));
    entry.subject = "profile:" + std::to_string(ref.profile_id);
  }
  entry.added_ms = now_ms();
  entry.source = who.name;
  txn->put_suppression(entry);
  txn->add_audit(AuditRow{
      0, entry.added_ms, who.name, "suppress.add",
      entry.list + " " + (ref.identity ? mask(entry.subject) : entry.subject), who.address,
      Json{{"list", entry.list}, {"reason", entry.reason}, {"channels", entry.channels}, {"until", entry.until_ms}}
          .dump()});
  txn->commit();
}

size_t CustomerStore::suppress_remove(const std::string& list, const std::string& reference, const Actor& who) {
  CustomerRef ref = resolver_.parse_reference(reference);
  if (!ref.error.empty()) throw std::invalid_argument(ref.error);
  const std::string subject = ref.identity ? ref.identity->text() : "profile:" + std::to_string(ref.profile_id);
  std::lock_guard<std::mutex> lk(mu_);
  std::unique_ptr<StoreTxn> txn = store_.begin();
  if (txn->changed_elsewhere()) clear_caches();
  const size_t n = txn->remove_suppression(list, subject);
  txn->add_audit(AuditRow{0, now_ms(), who.name, "suppress.remove", list + " " + mask(subject), who.address,
                          Json{{"removed", n}}.dump()});
  txn->commit();
  return n;
}

void CustomerStore::rebuild(StoreTxn& txn, int64_t profile) {
  Cached* c = load(txn, profile);
  if (c == nullptr) return;
  c->state = ProfileState();
  c->identities_loaded = false;
  txn.delete_events_of(profile);
  for (const RecordRow& row : txn.records_of(profile, 0, false)) {
    Record r = record_of(row);
    std::string problem;
    TypedFields f = typed_fields(r, &problem);
    if (!problem.empty()) continue;  // it was applied, so it was valid; be safe anyway
    ApplyStats unused;
    Batch b{txn, unused, {}, {}, {}, row.applied_ms};
    apply_effects(b, *c, r, f, row.seq);
  }
  write(txn, *c);
}

void CustomerStore::recompute(int64_t profile) {
  std::lock_guard<std::mutex> lk(mu_);
  std::unique_ptr<StoreTxn> txn = store_.begin();
  clear_caches();
  const ClearCachesOnExit clear_at_exit{*this};
  std::optional<ProfileRow> row = txn->profile(profile);
  if (!row) throw std::out_of_range("no profile " + std::to_string(profile));
  if (row->merged_into != 0) throw std::invalid_argument("profile " + std::to_string(profile) + " is merged");
  rebuild(*txn, profile);
  txn->commit();
}

std::pair<int64_t, int64_t> CustomerStore::unmerge(int64_t merge_id, const Actor& who) {
  std::lock_guard<std::mutex> lk(mu_);
  std::unique_ptr<StoreTxn> txn = store_.begin();
  clear_caches();
  // Rebuilt states are cached before the commit: whatever ends this
  // function, success or a failure anywhere, the caches go.
  const ClearCachesOnExit clear_at_exit{*this};
  std::optional<MergeRow> m = txn->merge(merge_id);
  if (!m) throw std::invalid_argument("no merge " + std::to_string(merge_id));
  if (m->state != "merged") throw std::invalid_argument("merge " + std::to_string(merge_id) + " is already split");
  const int64_t survivor = m->survivor, restored = m->merged;
  // The restored side: the merged profile and everything merged into it before.
  const std::vector<int64_t> side = group_of(*txn, restored);
  for (const IdentityRow& i : txn->identities_with_origin(side))
    if (i.profile_id == survivor) txn->set_identity_profile(i.kind, i.value, restored);
  for (const RecordRow& r : txn->records_with_origin(side))
    if (r.profile_id == survivor) txn->set_record_profile(r.seq, restored);
  Cached* c = load(*txn, restored);
  if (c == nullptr) throw std::runtime_error("merged profile " + std::to_string(restored) + " is missing");
  c->row.merged_into = 0;
  c->row.updated_ms = now_ms();
  rebuild(*txn, restored);
  rebuild(*txn, survivor);
  txn->set_merge_state(merge_id, "split");
  txn->add_audit(AuditRow{0, now_ms(), who.name, "profile.unmerge",
                          "profile:" + std::to_string(survivor) + " / profile:" + std::to_string(restored), who.address,
                          Json{{"merge", merge_id}}.dump()});
  txn->commit();
  return {survivor, restored};
}

EraseResult CustomerStore::erase(const std::string& reference, const Actor& who) {
  std::lock_guard<std::mutex> lk(mu_);
  std::unique_ptr<StoreTxn> txn = store_.begin();
  clear_caches();
  const ClearCachesOnExit clear_at_exit{*this};
  CustomerRef ref = resolver_.parse_reference(reference);
  if (!ref.error.empty()) throw std::invalid_argument(ref.error);
  int64_t p = ref.profile_id;
  if (ref.identity) {
    std::optional<int64_t> found = txn->identity_profile(ref.identity->kind, ref.identity->value);
    if (!found) throw std::out_of_range("no profile has " + ref.identity->kind + " " + mask(ref.identity->value));
    p = *found;
  }
  for (int hops = 0; hops < 64; ++hops) {
    std::optional<ProfileRow> row = txn->profile(p);
    if (!row) throw std::out_of_range("no profile " + std::to_string(p));
    if (row->merged_into == 0) break;
    p = row->merged_into;
  }
  EraseResult out;
  out.profile_id = p;
  const std::vector<int64_t> group = group_of(*txn, p);
  const std::vector<IdentityRow> ids = txn->identities_of(p);
  std::vector<std::string> needles;
  const int64_t now = now_ms();
  for (const IdentityRow& i : ids) {
    const IdentityKey k{i.kind, i.value};
    out.tombstones.push_back(tombstone_hash(k));
    txn->add_tombstone(out.tombstones.back(), now);
    out.erased_identities.push_back(k);
    needles.push_back(i.kind == "email" ? i.value : Json(i.value).dump());  // ids as JSON strings: "K-1", not K-10
    out.suppressions += txn->delete_suppressions_of(k.text());
  }
  // Records that named the person before they had a profile (a blacklist
  // entry for an address) are kept under profile 0: they go with the person.
  // A scan, but only of profile-less records (suppressions by identity).
  std::vector<std::string> erased_texts;
  for (const IdentityRow& i : ids) erased_texts.push_back(IdentityKey{i.kind, i.value}.text());
  for (const RecordRow& row : txn->records_of(0, 0, false)) {
    const Json data = Json::parse(row.data, nullptr, false);
    auto c = data.is_object() ? data.find("customer") : data.end();
    if (data.is_object() && c != data.end() && c->is_string()) {
      CustomerRef named = resolver_.parse_reference(c->get<std::string>());
      if (named.identity &&
          std::find(erased_texts.begin(), erased_texts.end(), named.identity->text()) != erased_texts.end())
        txn->set_record_profile(row.seq, p);
    }
  }
  for (int64_t g : group) {
    out.records += txn->records_of(g, 0, false).size();
    out.events += txn->events_of(g, INT64_MIN).size();
    out.decisions += txn->decisions_of(g, 1'000'000).size();
    txn->delete_records_of(g);
    txn->delete_events_of(g);
    txn->delete_decisions_of(g);
    out.contacts += txn->delete_contacts_of(g);
    out.suppressions += txn->delete_suppressions_of("profile:" + std::to_string(g));
    txn->delete_identities_of(g);
    txn->delete_profile(g);
  }
  out.profiles = group.size();
  out.identities = ids.size();
  out.dead_letters_and_outbox = txn->delete_payloads_mentioning(needles);
  txn->add_audit(AuditRow{0, now, who.name, "gdpr.erase", "profile:" + std::to_string(p), who.address,
                          Json{{"profiles", out.profiles},
                               {"identities", out.identities},
                               {"records", out.records},
                               {"events", out.events},
                               {"decisions", out.decisions},
                               {"contacts", out.contacts},
                               {"suppressions", out.suppressions},
                               {"dead_letters_and_outbox", out.dead_letters_and_outbox},
                               {"tombstones", out.tombstones}}
                              .dump()});
  txn->commit();
  return out;
}

Json CustomerStore::export_person(const std::string& reference, const Actor& who) {
  std::string error;
  std::optional<int64_t> p = resolve(reference, &error);
  if (!p) {
    if (!error.empty()) throw std::invalid_argument(error);
    throw std::out_of_range("no profile matches the reference");
  }
  StoreReads& r = store_.reads();
  std::optional<ProfileView> v = view(*p, 1'000'000);
  if (!v) throw std::out_of_range("no profile " + std::to_string(*p));
  Json doc = view_json(*v);
  // Everything held, with lineage: the candidates of every source too, and
  // the profiles that were merged into this one.
  Json candidates = Json::object();
  for (const auto& [attribute, by_source] : v->state.candidates()) {
    Json s = Json::object();
    for (const auto& [source, c] : by_source)
      s[source] = Json{{"value", c.value},
                       {"at", format_rfc3339_ms(c.ts)},
                       {"record_id", c.record_id},
                       {"first_value", c.first_value},
                       {"first_at", format_rfc3339_ms(c.first_ts)}};
    candidates[attribute] = std::move(s);
  }
  doc["candidates_by_source"] = std::move(candidates);
  Json merged = Json::array();
  for (int64_t m : group_of(r, *p))
    if (m != *p) merged.push_back(m);
  doc["merged_profiles"] = merged;
  doc["exported"] = format_rfc3339_ms(now_ms());
  doc["format"] = "touchpoint.gdpr-export.v1";
  audit(who, "gdpr.export", "profile:" + std::to_string(*p), Json{{"records", v->records.size()}});
  return doc;
}

}  // namespace touchpoint::core::customer
