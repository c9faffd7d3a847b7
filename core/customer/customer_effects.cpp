// What a record of each type changes on its customer.
#include "customer/conversion_credit.hpp"
#include "customer/customer_store.hpp"

namespace touchpoint::core::customer {

void CustomerStore::apply_effects(Batch& b, Cached& s, const Record& r, const TypedFields& f, int64_t seq) {
  if (r.type == "profile") {
    s.state.apply_attributes(r.data, r.source, r.ts_ms, seq, r.id, rules_);
  } else if (r.type == "event") {
    EventRow e;
    e.profile_id = s.row.id;
    e.at = f.at;
    e.event_type = f.event_type;
    e.channel = f.channel;
    e.purpose = f.purpose;
    e.product = f.product;
    e.category = f.category;
    e.campaign = f.campaign;
    e.offer = f.offer;
    e.revenue = f.revenue;
    e.has_revenue = f.has_revenue;
    e.record_seq = seq;
    b.txn.add_event(e);
    credit_conversion(b.txn, config_.conversions, e);
  } else if (r.type == "consent") {
    s.state.apply_consent(f.channel, f.purpose, Consent{f.status, f.at, seq, r.source, r.id, f.evidence});
  }
  // Other types are kept on the profile's timeline of records, unchanged.
}

void CustomerStore::apply_suppression(Batch& b, const Record& r, const TypedFields& f, int64_t profile) {
  // The subject is what the record named: an identity stays suppressed
  // through merges, unmerges and profiles that do not exist yet.
  std::string subject;
  // typed_fields let only a string or an integer (a profile id) through.
  const Json& named = r.data.at("customer");
  CustomerRef ref = resolver_.parse_reference(named.is_string() ? named.get_ref<const std::string&>() : named.dump());
  if (ref.identity)
    subject = ref.identity->text();
  else
    subject = "profile:" + std::to_string(profile);
  if (f.action == "remove") {
    b.txn.remove_suppression(f.list, subject);
    return;
  }
  b.txn.put_suppression(SuppressionRow{f.list, subject, f.reason, f.channels, f.until, b.now, r.source});
}

}  // namespace touchpoint::core::customer
