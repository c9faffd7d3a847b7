#pragma once
// The rows a store backend keeps. Backends store and return them; what they
// mean (identity resolution, merges, survivorship, consent) is the customer
// model's business (core/customer/), which is the same for every backend.

#include <cstdint>
#include <string>
#include <vector>

#include "record/record.hpp"

namespace touchpoint::core {

/// One way to recognise a person: ("email", "anna@example.de"), ("ext:crm", "K-1").
struct IdentityRow {
  std::string kind;
  std::string value;
  int64_t profile_id = 0;      ///< the (canonical) profile it points at now
  int64_t origin_profile = 0;  ///< the profile it was first attached to (unmerge splits along it)
  std::string source;          ///< connector instance that first reported it
  int64_t first_seen_ms = 0;
};

/// A customer profile. `attributes` is the merged view as JSON; `state` is
/// the customer model's own serialised state (candidates per source,
/// lineage, consents). A profile merged into another keeps its row with
/// `merged_into` set, so that its id still leads to the survivor.
struct ProfileRow {
  int64_t id = 0;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  std::string attributes = "{}";
  std::string state = "{}";
  int64_t merged_into = 0;
};

/// An applied record: the lineage of everything the store knows.
struct RecordRow {
  int64_t seq = 0;  ///< assigned by the store, increasing
  std::string id, type, source, pipeline, key;
  int64_t profile_id = 0;
  int64_t origin_profile = 0;  ///< the profile it was first applied to
  int64_t ts_ms = 0;
  int64_t applied_ms = 0;
  std::string data = "{}";
  std::string meta = "{}";
};

/// One timeline entry (from an `event` record), typed for the rulebook and reports.
struct EventRow {
  int64_t profile_id = 0;
  int64_t at = 0;
  std::string event_type, channel, purpose, product, category, campaign, offer;
  double revenue = 0;
  bool has_revenue = false;
  int64_t record_seq = 0;
};

/// An entry of a suppression list. `subject` is "profile:<id>" or an identity
/// "<kind>:<value>", so that a list entry for an e-mail address also applies
/// to a profile that does not exist yet.
struct SuppressionRow {
  std::string list;
  std::string subject;
  std::string reason;
  std::vector<std::string> channels;  ///< empty: all
  int64_t until_ms = 0;               ///< 0: no expiry
  int64_t added_ms = 0;
  std::string source;  ///< pipeline, "cli:<user>" or "admin:<token name>"
};

struct MergeRow {
  int64_t id = 0;
  int64_t survivor = 0;
  int64_t merged = 0;
  std::string record_source, record_id;  ///< the record whose identities joined them
  int64_t at = 0;
  std::string state = "merged";  ///< "merged" or "split" (unmerged: never merged again)
};

/// Two profiles a record would have joined, kept apart by an identity limit.
struct ConflictRow {
  int64_t id = 0;
  int64_t profile_a = 0, profile_b = 0;
  std::string kind;    ///< the identity kind whose limit forbade it, or "split"
  std::string detail;  ///< a sentence (values masked)
  std::string record_source, record_id;
  int64_t at = 0;
};

struct DecisionRow {
  int64_t id = 0;
  int64_t at = 0;
  int64_t profile_id = 0;
  std::string customer;  ///< as the proposal named it
  std::string proposal;  ///< JSON
  std::string decision;  ///< "send" or "suppress"
  std::string channel;
  std::string reasons;  ///< JSON array
  std::string rulebook;
  int64_t recorded_ms = 0;
};

/// One contact of the closed loop: a decided contact request and where it
/// stands. The id is stable ("c-" + 24 hex digits, derived from the request),
/// so a replayed request finds its contact instead of making a second one.
struct ContactRow {
  std::string id;
  int64_t profile_id = 0;
  std::string channel;  ///< the channel decided on (after "best" routing)
  std::string campaign, offer, offer_category, purpose, template_name;
  bool transactional = false;
  std::string decision;        ///< "send", "suppress" or "holdout" (decided, not sent)
  std::string reasons = "[]";  ///< JSON array of the decision's reasons
  /// queued, sending, sent, delivered, bounced, returned, answered, responded,
  /// failed, in_doubt, suppressed, holdout
  std::string state;
  std::string provider_id;  ///< what the channel sink reported (Message-ID, row key)
  std::string sink;         ///< the sink instance that sends it
  std::string request_source, request_id;
  int64_t created_ms = 0, updated_ms = 0;
};

/// One step in a contact's life: requested, decided, sending, sent, each response.
struct ContactEventRow {
  std::string contact_id;
  int64_t at = 0;
  std::string what;           ///< "decided", "sending", "sent", "failed", "response:bounce_hard", ...
  std::string detail = "{}";  ///< JSON
};

/// Who did what to the store by hand (CLI, admin API).
struct AuditRow {
  int64_t id = 0;
  int64_t at = 0;
  std::string actor;    ///< "admin" (token name), "cli:<user>"
  std::string action;   ///< "gdpr.erase", "suppress.add", "profile.unmerge", "dlq.purge", ...
  std::string target;   ///< what it concerned (identities masked or hashed)
  std::string address;  ///< client address, or "local"
  std::string detail;   ///< JSON
};

}  // namespace touchpoint::core
