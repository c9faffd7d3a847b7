#pragma once
// The typed fields of the record types the store understands (docs/records.md):
//   event:       {event_type, at?, channel?, purpose?, product?, category?, campaign?, offer?, revenue?, ...}
//   consent:     {channel, purpose, status: granted|denied|revoked, at?, evidence?}
//   suppression: {list, reason?, channels?, action: add|remove, until?}
//   profile:     attributes (no typed fields)
// `customer` names the person in all of them. A record whose typed fields are
// wrong is dead-lettered with the field and what is wrong.

#include <cstdint>
#include <string>
#include <vector>

#include "record/record.hpp"

namespace touchpoint::core::customer {

struct TypedFields {
  int64_t at = 0;  ///< event/consent time (default: the record's ts)
  // event
  std::string event_type, channel, purpose, product, category, campaign, offer;
  double revenue = 0;
  bool has_revenue = false;
  // consent (channel, purpose above)
  std::string status;
  Json evidence;
  // suppression
  std::string list, reason, action;
  std::vector<std::string> channels;
  int64_t until = 0;
};

/// Reads and checks the fields of r's type; *problem is set when they are wrong.
TypedFields typed_fields(const Record& r, std::string* problem);

/// Channels the hub knows (consent, suppression scopes, decisions).
bool known_channel(const std::string& c);

}  // namespace touchpoint::core::customer
