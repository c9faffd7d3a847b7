#include "customer/conversion_credit.hpp"

#include <algorithm>
#include <map>

#include "report/attribution.hpp"

namespace touchpoint::core::customer {
namespace {

/// How many contacts a conversion looks at, the newest in its window: a
/// bound, so that a customer contacted every hour costs the same as any.
constexpr size_t kMaxContacts = 500;

/// A contact that reached the person: sent, and whatever came back after.
bool was_sent(const ContactRow& c) {
  return c.decision == "send" && c.state != "queued" && c.state != "sending" && c.state != "failed";
}

}  // namespace

ConversionRows conversion_rows(const std::vector<ContactRow>& contacts, const report::ConversionConfig& config,
                               const EventRow& event) {
  ConversionRows rows;
  rows.record_seq = event.record_seq;
  rows.day = event.at >= 0 ? event.at / report::kDayMs : (event.at - report::kDayMs + 1) / report::kDayMs;
  rows.revenue = event.has_revenue ? event.revenue : 0;
  std::vector<report::Touch> touches;
  for (const ContactRow& c : contacts) {
    const report::ConversionRule& rule = config.rule_for(c.campaign);
    if (c.created_ms > event.at || event.at - c.created_ms > rule.window_ms) continue;
    if (std::find(rule.events.begin(), rule.events.end(), event.event_type) == rule.events.end()) continue;
    if (c.decision != "send" && c.decision != "holdout") continue;  // suppressed: nobody was to be contacted
    const bool target = report::is_target(rule, c.offer, c.offer_category, event.product, event.category);
    const int64_t contact_day = c.created_ms / report::kDayMs;
    rows.contacts.push_back(
        ConversionRows::Contact{c.id, c.campaign, c.channel, c.profile_id, contact_day, c.decision == "send", target});
    if (was_sent(c)) touches.push_back(report::Touch{c.id, c.campaign, c.channel, c.created_ms, target});
  }
  // A type only some campaigns count is a conversion only where such a
  // campaign's contact was in the window: elsewhere it is just an event.
  const auto& defaults = config.defaults.events;
  if (rows.contacts.empty() && std::find(defaults.begin(), defaults.end(), event.event_type) == defaults.end())
    return rows;
  std::sort(touches.begin(), touches.end(), [](const report::Touch& a, const report::Touch& b) {
    return a.at != b.at ? a.at < b.at : a.contact_id < b.contact_id;
  });
  for (report::Model m : report::kModels) {
    const std::vector<double> shares = report::credit(m, touches, event.at, config.half_life_ms);
    std::map<std::pair<std::string, std::string>, double> by;
    double given = 0;
    for (size_t i = 0; i < touches.size(); ++i) {
      by[{touches[i].campaign, touches[i].channel}] += shares[i];
      given += shares[i];
    }
    // What no touch earned stays visible as unattributed: the model's sum
    // over campaigns and channels is always the number of conversions.
    if (given < 1 - 1e-9) by[{"", ""}] += 1 - given;
    for (const auto& [key, share] : by)
      rows.credits.push_back(ConversionRows::Credit{report::to_string(m), key.first, key.second, share});
  }
  return rows;
}

void credit_conversion(StoreTxn& txn, const report::ConversionConfig& config, const EventRow& event) {
  if (!config.counts(event.event_type)) return;
  // The contacts whose window can hold the event (a backfilled old purchase
  // finds the contacts of its time, not the newest ones).
  const std::vector<ContactRow> contacts =
      txn.contacts_in_window(event.profile_id, event.at - config.longest_window_ms(), event.at, kMaxContacts);
  ConversionRows rows = conversion_rows(contacts, config, event);
  if (rows.credits.empty()) return;
  txn.add_conversion(rows);
}

}  // namespace touchpoint::core::customer
