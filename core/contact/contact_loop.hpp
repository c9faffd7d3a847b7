#pragma once
// The closed loop in the core (docs/channels.md). Two record types:
//
//   contact_request  decided by the rulebook inside the apply transaction;
//                    `send` becomes a contact in the ledger, its decision in
//                    the decision log, a message_sent event on the timeline
//                    and a message in the outbox of the channel's sink, all
//                    in that one transaction. `suppress` is stored with its
//                    reasons and nothing is sent.
//   response         correlated to its contact (contact id, else provider
//                    id); the contact's state and history are updated and
//                    the response's effects are applied to the customer as
//                    records of the store's own types (profile, consent,
//                    event, suppression), so each keeps its lineage.
//
// The loop knows channels, contacts and responses; never a provider's protocol.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/customer_config.hpp"
#include "contact/decider.hpp"
#include "customer/customer_store.hpp"

namespace touchpoint::core::contact {

/// The response kinds (closed list) and the outcomes/reasons of two of them.
bool known_response_kind(const std::string& kind);
bool known_call_outcome(const std::string& outcome);
bool known_return_reason(const std::string& reason);

/// "c-" + 24 hex digits of SHA-256(source, record id): stable across replays.
std::string contact_id_for(const std::string& source, const std::string& record_id);

class ContactLoop final : public customer::LoopHandler {
 public:
  /// Throws ConfigError-like std::invalid_argument when `config.effects`
  /// names an unknown kind.
  ContactLoop(const Decider& decider, ContactConfig config);
  /// Throws std::invalid_argument naming the bad key of customer.contacts.
  static void check_config(const ContactConfig& config);

  /// channel -> sink instance ("<pipeline>.<sink>") that sends it.
  void set_channel_sinks(std::map<std::string, std::string> sinks);
  /// Sink instances that get a `feedback` record for every applied response
  /// (a CRM that should see bounces, revoked consents, call outcomes, sales).
  void set_feedback_sinks(std::vector<std::string> sinks);

  bool handles(const std::string& type) const override;
  void apply(customer::LoopTxn& t, const Record& r, const std::string& pipeline) override;

  /// The effects a response of `kind` (with its outcome/reason) has by
  /// default or as configured.
  std::vector<std::string> effects_for(const std::string& kind, const std::string& sub) const;

 private:
  void apply_request(customer::LoopTxn& t, const Record& r, const std::string& pipeline);
  void apply_response(customer::LoopTxn& t, const Record& r, const std::string& pipeline);
  std::string sink_for(const std::string& channel) const;
  void queue_feedback(customer::LoopTxn& t, const Record& response, const std::string& pipeline, const ContactRow& c,
                      const std::string& kind, int64_t at, const Json& detail, Json effects);

  const Decider& decider_;
  ContactConfig config_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> sinks_;
  std::vector<std::string> feedback_sinks_;
};

}  // namespace touchpoint::core::contact
