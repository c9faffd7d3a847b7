#pragma once
// What the contact rulebook decides over: a customer snapshot (everything
// the rules may read about one person, gathered by the customer model from
// the store), a proposed contact, and the decision with its reasons.
//
// The rulebook itself (rulebook.hpp) is a pure function over these types:
// no I/O, no clock (the proposal carries the time), so decisions are fast,
// deterministic, and the same in `decide`, `rules test` and `rules simulate`.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "record/record.hpp"

namespace touchpoint::core::rules {

/// Unix epoch milliseconds (UTC).
using TimeMs = int64_t;

/// The latest consent statement for one (channel, purpose).
struct ConsentState {
  std::string status;  ///< "granted", "denied" or "revoked"
  TimeMs at = 0;       ///< when the customer said so (not when it arrived)
  std::string source;  ///< pipeline that reported it
};

/// Whether a channel can reach the customer at all.
struct ChannelState {
  bool has_address = false;    ///< an e-mail address, phone number, or postal address is known
  bool valid = true;           ///< false after a hard bounce, a returned letter, a wrong number
  std::string invalid_reason;  ///< e.g. "bounce_hard 5.1.1"
  TimeMs invalid_since = 0;
};

/// One timeline entry, as far as rules look at it.
struct EventFact {
  std::string event_type;  ///< "purchase", "branch_visit", "message_sent", ...
  TimeMs at = 0;
  std::string channel;   ///< may be empty
  std::string purpose;   ///< for contacts: "marketing", "service", ...
  std::string product;   ///< may be empty
  std::string category;  ///< may be empty
  std::string campaign;  ///< may be empty
};

/// One entry of a suppression list that applies to this customer.
struct SuppressionFact {
  std::string list;
  std::string reason;
  std::vector<std::string> channels;  ///< empty: all channels
  TimeMs until = 0;                   ///< 0: no expiry
};

struct CustomerSnapshot {
  int64_t profile_id = 0;
  /// The merged profile attributes (JSON object).
  Json attributes = Json::object();
  /// Keyed by {channel, purpose}.
  std::map<std::pair<std::string, std::string>, ConsentState> consents;
  /// Keyed by channel ("email", "phone", "sms", "post").
  std::map<std::string, ChannelState> channels;
  /// Timeline entries newer than the rulebook's lookback (Rulebook::lookback_ms), newest first.
  std::vector<EventFact> events;
  std::vector<SuppressionFact> suppressions;
};

/// A proposed contact (POST /v1/decide body, one element).
struct Proposal {
  std::string customer;  ///< e-mail, "kind:value" or profile id, as given
  std::string channel;   ///< "email", "phone", "sms", "post" or "best"
  std::string purpose = "marketing";
  std::string campaign;
  std::string offer;
  std::string offer_category;
  bool transactional = false;
  TimeMs at = 0;  ///< the time the decision is for
};

/// Why a contact may not happen (or, for non-blocking rules, a note).
struct Reason {
  std::string rule;     ///< the rule's name in the rulebook
  std::string code;     ///< stable: consent_missing, suppressed, frequency_cap, quiet_period,
                        ///< recent_purchase, condition, contact_hours, channel_invalid, unknown_customer, ...
  std::string detail;   ///< a human sentence
  std::string channel;  ///< the channel the reason is about (for "best", each tried channel)
};

struct Decision {
  bool send = false;
  std::string channel;          ///< the chosen channel (for "best": the one routed to; empty when none)
  std::vector<Reason> reasons;  ///< blocking reasons; empty when send
  std::vector<Reason> notes;    ///< non-blocking reasons (rules with effect: flag)
  std::string rulebook;         ///< version (content hash) of the rulebook that decided
};

/// The JSON shape of POST /v1/decide answers.
Json decision_json(const Decision& d);

}  // namespace touchpoint::core::rules
