#pragma once
// A campaign definition (YAML), read by `rules simulate --campaign` (a dry
// run) and `campaign run` (contact requests for real):
//
//   name: spring-savings
//   channel: best                  # email, phone, sms, post or best
//   purpose: marketing
//   offer: savings-plus
//   offer_category: savings
//   audience: profile.credit_score >= 500   # the rulebook's condition language
//   template: spring-savings       # for the channel plugin
//   vars: { rate: "3.1 %" }
//   holdout: 0.1                   # share decided but not sent (control group)

#include <optional>
#include <string>

#include "record/record.hpp"
#include "rules/rulebook.hpp"
#include "rules/snapshot.hpp"

namespace touchpoint::cli {

struct Campaign {
  std::string name;
  core::rules::Proposal proposal;
  std::string audience;  ///< a condition; empty: everyone
  std::string template_name;
  core::Json vars = core::Json::object();
  double holdout = 0;  ///< [0, 0.5]
};

/// Reads a campaign file; throws ConfigError with file:line:col.
Campaign read_campaign_file(const std::string& file);

/// Checks the campaign's proposal against the rulebook and compiles its
/// audience (nullopt: everyone); UsageError names the problem.
std::optional<core::rules::Condition> checked_audience(const core::rules::Rulebook& rb, const Campaign& c);

/// Whether a profile is in the campaign's control group: a deterministic
/// hash of (campaign, profile), so a re-run holds out the same people.
bool in_holdout(const std::string& campaign, int64_t profile, double share);

}  // namespace touchpoint::cli
