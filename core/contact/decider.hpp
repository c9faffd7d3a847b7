#pragma once
// "May I contact this customer on this channel now?": a proposal is
// resolved to a customer, the customer's snapshot is read from the store,
// and the rulebook decides. The rulebook can be swapped at any time
// (SIGHUP); each decision uses one version from start to end and says which.
//
// Used by POST /v1/decide, `touchpoint rules decide|simulate`, and (next)
// the contact loop for real sends, which stores every decision.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "customer/customer_store.hpp"
#include "rules/rulebook.hpp"

namespace touchpoint::core::contact {

/// A proposal as the API takes it, plus whether to store the decision.
struct ParsedProposal {
  rules::Proposal proposal;
  bool record = false;
};

/// A malformed proposal: which field and what is wrong (400).
struct ProposalError {
  size_t index = 0;  ///< position in an array body
  std::string field;
  std::string message;
};

class Decider {
 public:
  Decider(customer::CustomerStore& customers, std::shared_ptr<const rules::Rulebook> rulebook);

  void set_rulebook(std::shared_ptr<const rules::Rulebook> rulebook);
  std::shared_ptr<const rules::Rulebook> rulebook() const;

  /// Decides one proposal at p.at (0: now). With `record`, the decision goes
  /// to the decision log (DecisionRow) with its reasons and rulebook version.
  rules::Decision decide(rules::Proposal p, bool record = false);

  /// The /v1/decide body (one proposal object or an array of them, at most
  /// kMaxProposals): {status, answer}. 400 names the element and the field;
  /// 413 for too many; answers keep the order of the proposals.
  std::pair<int, Json> decide_body(std::string_view body);

  static constexpr size_t kMaxProposals = 10'000;

 private:
  customer::CustomerStore& customers_;
  mutable std::mutex mu_;
  std::shared_ptr<const rules::Rulebook> rulebook_;
};

/// Parses proposals from JSON text (object or array). Returns the proposals,
/// or the first error. `now_ms` is used for proposals without "at".
std::variant<std::vector<ParsedProposal>, ProposalError> parse_proposals(std::string_view body, int64_t now_ms,
                                                                         size_t max);

}  // namespace touchpoint::core::contact
