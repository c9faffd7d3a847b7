// Rulebook::decide, per rule kind with its boundaries: consent, suppression
// lists, channel validity, frequency caps (window edge), quiet periods (the
// 10th day), recent purchases, conditions, contact hours (Berlin, winter,
// summer and both DST change days), routing of `best`, transactional
// defaults, and the built-in reasons.

#include <gtest/gtest.h>

#include <thread>

#include "rules/rulebook.hpp"
#include "rules_test_util.hpp"

namespace touchpoint::core::rules {
namespace {

using test::at;
using test::codes_of;
using test::load_text;
using test::note_codes_of;
using Codes = std::vector<std::string>;

const TimeMs kNow = at("2026-03-12T10:00:00+01:00");

CustomerSnapshot customer() {
  CustomerSnapshot s;
  s.profile_id = 7;
  for (const char* ch : {"email", "phone", "sms", "post"}) s.channels[ch] = ChannelState{true, true, "", 0};
  return s;
}

void grant(CustomerSnapshot& s, const std::string& channel, const std::string& purpose = "marketing",
           const std::string& status = "granted") {
  s.consents[{channel, purpose}] = ConsentState{status, kNow - 30 * kDayMs, "crm"};
}

EventFact event(const std::string& type, TimeMs when, const std::string& channel = "", const std::string& purpose = "",
                const std::string& product = "", const std::string& category = "", const std::string& campaign = "") {
  EventFact e;
  e.event_type = type;
  e.at = when;
  e.channel = channel;
  e.purpose = purpose;
  e.product = product;
  e.category = category;
  e.campaign = campaign;
  return e;
}

Proposal proposal(const std::string& channel, TimeMs when = kNow, const std::string& purpose = "marketing") {
  Proposal p;
  p.customer = "anna@example.de";
  p.channel = channel;
  p.purpose = purpose;
  p.at = when;
  return p;
}

Rulebook rules(const std::string& yaml) { return load_text("timezone: Europe/Berlin\nrules:\n" + yaml); }

// ------------------------------------------------------------------ consent

const char* kConsent = R"(
  - name: consent
    kind: consent
    effect: suppress
    purposes: [marketing]
)";

TEST(DecideConsent, GrantedIsRequired) {
  const Rulebook rb = rules(kConsent);
  CustomerSnapshot s = customer();
  grant(s, "email");
  grant(s, "phone", "marketing", "denied");
  grant(s, "sms", "marketing", "revoked");
  grant(s, "post", "service");  // another purpose does not count
  EXPECT_TRUE(rb.decide(&s, proposal("email")).send);
  for (const char* ch : {"phone", "sms", "post"}) {
    const Decision d = rb.decide(&s, proposal(ch));
    EXPECT_FALSE(d.send) << ch;
    ASSERT_EQ(codes_of(d), Codes{"consent_missing"}) << ch;
    EXPECT_EQ(d.reasons[0].rule, "consent");
    EXPECT_EQ(d.reasons[0].channel, ch);
    EXPECT_EQ(d.channel, ch);
  }
  EXPECT_EQ(rb.decide(&s, proposal("phone")).reasons[0].detail,
            "marketing consent for phone is denied since 2026-02-10T09:00:00Z");
  EXPECT_EQ(rb.decide(&s, proposal("post")).reasons[0].detail, "no marketing consent for post");
  // Out of the rule's purposes: not evaluated.
  EXPECT_TRUE(rb.decide(&s, proposal("phone", kNow, "service")).send);
}

TEST(DecideConsent, OptOutAndConsentPurpose) {
  const Rulebook rb = rules(R"(
  - name: post is opt-out
    kind: consent
    effect: suppress
    channels: [post]
    mode: opt_out
  - name: credit offers need credit_offers consent
    kind: consent
    effect: suppress
    channels: [email]
    consent_purpose: credit_offers
    when: offer_category == 'credit'
)");
  CustomerSnapshot s = customer();
  EXPECT_TRUE(rb.decide(&s, proposal("post")).send);  // no statement: allowed under opt-out
  s.consents[{"post", "marketing"}] = ConsentState{"pending", kNow, ""};
  EXPECT_TRUE(rb.decide(&s, proposal("post")).send);  // neither denied nor revoked
  grant(s, "post", "marketing", "revoked");
  EXPECT_EQ(codes_of(rb.decide(&s, proposal("post"))), Codes{"consent_missing"});

  Proposal p = proposal("email");
  EXPECT_TRUE(rb.decide(&s, p).send);  // not a credit offer
  p.offer_category = "credit";
  EXPECT_EQ(rb.decide(&s, p).reasons.at(0).detail, "no credit_offers consent for email");
  grant(s, "email", "credit_offers");
  EXPECT_TRUE(rb.decide(&s, p).send);
}

TEST(DecideConsent, TransactionalBypassesByDefaultUnlessApply) {
  CustomerSnapshot s = customer();
  Proposal p = proposal("email");
  p.transactional = true;
  EXPECT_TRUE(rules(kConsent).decide(&s, p).send);
  const Rulebook strict = rules(std::string(kConsent) + "    transactional: apply\n");
  EXPECT_EQ(codes_of(strict.decide(&s, p)), Codes{"consent_missing"});
}

// ------------------------------------------------------------------ suppression

const char* kLists = R"(
  - name: lists
    kind: suppression
    effect: suppress
    lists:
      blacklist: { all_purposes: true }
      objection: {}
      robinson: { channels: [phone, post] }
)";

SuppressionFact entry(const std::string& list, TimeMs until = 0, std::vector<std::string> channels = {}) {
  SuppressionFact f;
  f.list = list;
  f.reason = "test";
  f.until = until;
  f.channels = std::move(channels);
  return f;
}

TEST(DecideSuppression, ExpiryIsExclusive) {
  const Rulebook rb = rules(kLists);
  CustomerSnapshot s = customer();
  s.suppressions = {entry("objection", kNow + 1)};
  EXPECT_EQ(codes_of(rb.decide(&s, proposal("email"))), Codes{"suppressed"});
  s.suppressions = {entry("objection", kNow)};  // until == at: expired
  EXPECT_TRUE(rb.decide(&s, proposal("email")).send);
  s.suppressions = {entry("objection", kNow - kDayMs)};
  EXPECT_TRUE(rb.decide(&s, proposal("email")).send);
  s.suppressions = {entry("objection", 0)};  // no expiry
  const Decision d = rb.decide(&s, proposal("email"));
  EXPECT_EQ(d.reasons.at(0).detail, "on suppression list 'objection' (test)");
  s.suppressions = {entry("objection", kNow + kDayMs)};
  EXPECT_EQ(rb.decide(&s, proposal("email")).reasons.at(0).detail,
            "on suppression list 'objection' (test) until 2026-03-13T09:00:00Z");
}

TEST(DecideSuppression, ChannelScopeOfEntryAndList) {
  const Rulebook rb = rules(kLists);
  CustomerSnapshot s = customer();
  s.suppressions = {entry("objection", 0, {"phone", "sms"})};
  EXPECT_TRUE(rb.decide(&s, proposal("email")).send);
  EXPECT_FALSE(rb.decide(&s, proposal("sms")).send);
  s.suppressions = {entry("robinson")};  // the list covers phone and post
  EXPECT_TRUE(rb.decide(&s, proposal("email")).send);
  EXPECT_FALSE(rb.decide(&s, proposal("phone")).send);
  EXPECT_FALSE(rb.decide(&s, proposal("post")).send);
  s.suppressions = {entry("robinson", 0, {"phone", "email"})};  // both scopes must cover the channel
  EXPECT_TRUE(rb.decide(&s, proposal("email")).send);
  EXPECT_TRUE(rb.decide(&s, proposal("post")).send);
  EXPECT_FALSE(rb.decide(&s, proposal("phone")).send);
}

TEST(DecideSuppression, AllPurposesListsAreNeverBypassed) {
  CustomerSnapshot s = customer();
  s.suppressions = {entry("objection"), entry("blacklist")};
  Proposal p = proposal("email", kNow, "service");
  p.transactional = true;
  const Decision d = rules(kLists).decide(&s, p);
  ASSERT_EQ(codes_of(d), Codes{"suppressed"});
  EXPECT_NE(d.reasons[0].detail.find("'blacklist'"), std::string::npos);
  // Not even when the rule says bypass, or its purposes leave this purpose out.
  const Rulebook explicit_bypass =
      rules(std::string(kLists) + "    transactional: bypass\n    purposes: [marketing]\n");
  EXPECT_EQ(codes_of(explicit_bypass.decide(&s, p)), Codes{"suppressed"});
  p.transactional = false;
  EXPECT_EQ(codes_of(explicit_bypass.decide(&s, p)), Codes{"suppressed"});  // service: only the blacklist
  // Applying to transactional messages: every list counts.
  const Rulebook apply = rules(std::string(kLists) + "    transactional: apply\n");
  p.transactional = true;
  EXPECT_EQ(codes_of(apply.decide(&s, p)), (Codes{"suppressed", "suppressed"}));
}

TEST(DecideSuppression, OtherListsApplyOrIgnore) {
  CustomerSnapshot s = customer();
  s.suppressions = {entry("complaints")};
  EXPECT_FALSE(rules(kLists).decide(&s, proposal("email")).send);  // default: apply
  EXPECT_TRUE(rules(std::string(kLists) + "    other_lists: ignore\n").decide(&s, proposal("email")).send);
  const Rulebook no_lists = rules("  - {name: any list, kind: suppression, effect: suppress}\n");
  EXPECT_FALSE(no_lists.decide(&s, proposal("email")).send);
  Proposal t = proposal("email", kNow, "service");
  t.transactional = true;
  EXPECT_TRUE(no_lists.decide(&s, t).send);  // an undeclared list is not all_purposes
}

// ------------------------------------------------------------------ channel validity

TEST(DecideChannelValidity, MissingOrInvalidAddress) {
  const Rulebook rb = rules("  - {name: valid, kind: channel_validity, effect: suppress}\n");
  CustomerSnapshot s = customer();
  s.channels.erase("sms");
  s.channels["post"].has_address = false;
  s.channels["email"] = ChannelState{true, false, "bounce_hard 5.1.1", at("2026-03-01T08:00:00Z")};
  EXPECT_TRUE(rb.decide(&s, proposal("phone")).send);
  EXPECT_EQ(rb.decide(&s, proposal("sms")).reasons.at(0).detail, "no sms address known");
  EXPECT_EQ(rb.decide(&s, proposal("post")).reasons.at(0).detail, "no post address known");
  const Decision d = rb.decide(&s, proposal("email"));
  EXPECT_EQ(codes_of(d), Codes{"channel_invalid"});
  EXPECT_EQ(d.reasons[0].detail, "email address is invalid since 2026-03-01T08:00:00Z (bounce_hard 5.1.1)");
  Proposal t = proposal("email");
  t.transactional = true;
  EXPECT_FALSE(rb.decide(&s, t).send);  // transactional messages need an address too
}

// ------------------------------------------------------------------ frequency caps

const char* kCap = R"(
  - name: cap
    kind: frequency_cap
    effect: suppress
    channels: [email]
    purposes: [marketing]
    max: 2
    window: 7d
)";

TEST(DecideFrequencyCap, WindowEdge) {
  const Rulebook rb = rules(kCap);
  CustomerSnapshot s = customer();
  s.events = {event("message_sent", kNow - kDayMs, "email", "marketing"),
              event("message_sent", kNow - 7 * kDayMs, "email", "marketing")};  // exactly 7d: outside
  EXPECT_TRUE(rb.decide(&s, proposal("email")).send);
  s.events[1].at = kNow - 7 * kDayMs + 1;  // 1 ms inside the window
  const Decision d = rb.decide(&s, proposal("email"));
  EXPECT_EQ(codes_of(d), Codes{"frequency_cap"});
  EXPECT_EQ(d.reasons[0].detail, "2 marketing contacts on email in the last 7d (at most 2)");
  s.events[1].at = kNow;  // at the decision time: counts
  EXPECT_FALSE(rb.decide(&s, proposal("email")).send);
  s.events[1].at = kNow + 1;  // after the decision time: has not happened yet
  EXPECT_TRUE(rb.decide(&s, proposal("email")).send);
  EXPECT_TRUE(rb.decide(&s, proposal("post")).send);  // outside the rule's channels
}

TEST(DecideFrequencyCap, WhatCounts) {
  const Rulebook rb = rules(kCap);
  CustomerSnapshot s = customer();
  s.events = {event("message_sent", kNow - kDayMs, "email", "marketing"),
              event("message_sent", kNow - kDayMs, "post", "marketing"),      // other channel
              event("message_sent", kNow - kDayMs, "email", "service"),       // other purpose
              event("message_opened", kNow - kDayMs, "email", "marketing")};  // other event type
  EXPECT_TRUE(rb.decide(&s, proposal("email")).send);
  s.events.push_back(event("message_sent", kNow - kDayMs, "", ""));  // unknown channel and purpose count
  EXPECT_FALSE(rb.decide(&s, proposal("email")).send);
}

TEST(DecideFrequencyCap, AcrossChannelsPurposesCampaignAndEventTypes) {
  CustomerSnapshot s = customer();
  s.events = {event("message_sent", kNow - kHourMs, "email", "marketing", "", "", "spring"),
              event("call_made", kNow - kHourMs, "phone", "service", "", "", "spring")};
  const Rulebook across = rules(R"(
  - name: at most 2 contacts a week, any channel, any purpose
    kind: frequency_cap
    effect: suppress
    events: [message_sent, call_made]
    max: 2
    window: 1w
    across_channels: true
    across_purposes: true
)");
  const Decision d = across.decide(&s, proposal("post"));
  EXPECT_EQ(codes_of(d), Codes{"frequency_cap"});
  EXPECT_EQ(d.reasons[0].detail, "2 contacts in the last 7d (at most 2)");
  const Rulebook campaign = rules(R"(
  - name: once per campaign
    kind: frequency_cap
    effect: suppress
    max: 1
    window: 30d
    across_channels: true
    same_campaign: true
)");
  Proposal p = proposal("post");
  p.campaign = "spring";
  EXPECT_EQ(codes_of(campaign.decide(&s, p)), Codes{"frequency_cap"});
  p.campaign = "summer";
  EXPECT_TRUE(campaign.decide(&s, p).send);
  p.campaign.clear();
  EXPECT_TRUE(campaign.decide(&s, p).send);  // no campaign: the rule does not apply
  const Rulebook zero = rules("  - {name: never, kind: frequency_cap, effect: suppress, max: 0, window: 1d}\n");
  CustomerSnapshot fresh = customer();
  EXPECT_FALSE(zero.decide(&fresh, proposal("email")).send);  // max 0: nothing is allowed
}

TEST(DecideFrequencyCap, TransactionalBypassesByDefault) {
  CustomerSnapshot s = customer();
  s.events = {event("message_sent", kNow - kDayMs, "email", "service"),
              event("message_sent", kNow - kDayMs, "email", "service")};
  const Rulebook rb = rules("  - {name: cap, kind: frequency_cap, effect: suppress, max: 2, window: 7d}\n");
  Proposal p = proposal("email", kNow, "service");
  EXPECT_FALSE(rb.decide(&s, p).send);
  p.transactional = true;
  EXPECT_TRUE(rb.decide(&s, p).send);
}

// ------------------------------------------------------------------ quiet periods

const char* kQuiet = R"(
  - name: quiet after a branch visit
    kind: quiet_period
    effect: suppress
    purposes: [marketing]
    events: [branch_visit]
    window: 10d
)";

TEST(DecideQuietPeriod, TheTenthDay) {
  const Rulebook rb = rules(kQuiet);
  const TimeMs visit = at("2026-03-02T10:00:00+01:00");
  CustomerSnapshot s = customer();
  s.events = {event("branch_visit", visit)};
  for (const char* ch : {"email", "phone", "sms", "post"}) {
    EXPECT_FALSE(rb.decide(&s, proposal(ch, visit)).send) << "at the visit";
    EXPECT_FALSE(rb.decide(&s, proposal(ch, visit + 9 * kDayMs)).send) << "day 9";
    EXPECT_FALSE(rb.decide(&s, proposal(ch, visit + 10 * kDayMs - 1)).send) << "the last ms of day 10";
    EXPECT_TRUE(rb.decide(&s, proposal(ch, visit + 10 * kDayMs)).send) << "10 days later";
    EXPECT_TRUE(rb.decide(&s, proposal(ch, visit + 11 * kDayMs)).send) << "day 11";
    EXPECT_TRUE(rb.decide(&s, proposal(ch, visit - 1)).send) << "before the visit";
  }
  const Decision d = rb.decide(&s, proposal("email", visit + 9 * kDayMs));
  EXPECT_EQ(codes_of(d), Codes{"quiet_period"});
  EXPECT_EQ(d.reasons[0].detail, "branch_visit at 2026-03-02T09:00:00Z: quiet for 10d until 2026-03-12T09:00:00Z");
}

TEST(DecideQuietPeriod, LatestEventCountsAndScope) {
  const Rulebook rb = rules(kQuiet);
  CustomerSnapshot s = customer();
  s.events = {event("branch_visit", kNow - 9 * kDayMs), event("branch_visit", kNow - 2 * kDayMs),
              event("web_visit", kNow - kHourMs)};
  const Decision d = rb.decide(&s, proposal("email"));
  ASSERT_EQ(codes_of(d), Codes{"quiet_period"});  // one reason per rule, for the latest visit
  EXPECT_NE(d.reasons[0].detail.find("2026-03-10T09:00:00Z"), std::string::npos) << d.reasons[0].detail;
  EXPECT_TRUE(rb.decide(&s, proposal("email", kNow, "service")).send);
  Proposal t = proposal("email");
  t.transactional = true;
  EXPECT_TRUE(rb.decide(&s, t).send);
  EXPECT_FALSE(rules(std::string(kQuiet) + "    transactional: apply\n").decide(&s, t).send);
}

// ------------------------------------------------------------------ recent purchases

const char* kPurchase = R"(
  - name: recent purchase
    kind: recent_purchase
    effect: suppress
    window: 30d
)";

TEST(DecideRecentPurchase, ProductOrCategoryWithinTheWindow) {
  const Rulebook rb = rules(kPurchase);
  CustomerSnapshot s = customer();
  s.events = {event("contract_signed", kNow - kDayMs, "", "", "mortgage", "real-estate"),
              event("purchase", kNow - 2 * kDayMs, "", "", "travel-card", "cards"),
              event("web_visit", kNow - kDayMs, "", "", "savings", "deposits")};
  Proposal p = proposal("email");
  EXPECT_TRUE(rb.decide(&s, p).send);  // no offer: nothing to compare
  p.offer = "mortgage";
  Decision d = rb.decide(&s, p);
  EXPECT_EQ(codes_of(d), Codes{"recent_purchase"});
  EXPECT_EQ(d.reasons[0].detail, "contract_signed of product 'mortgage' at 2026-03-11T09:00:00Z, within 30d");
  p.offer = "gold-card";
  p.offer_category = "cards";
  d = rb.decide(&s, p);
  EXPECT_EQ(d.reasons.at(0).detail, "purchase in category 'cards' at 2026-03-10T09:00:00Z, within 30d");
  p.offer = "savings";  // only a web visit: not a purchase
  p.offer_category = "deposits";
  EXPECT_TRUE(rb.decide(&s, p).send);
}

TEST(DecideRecentPurchase, WindowEdgeAndMatchOption) {
  CustomerSnapshot s = customer();
  s.events = {event("purchase", kNow - 30 * kDayMs, "", "", "travel-card", "cards")};
  Proposal p = proposal("email");
  p.offer = "travel-card";
  p.offer_category = "cards";
  EXPECT_TRUE(rules(kPurchase).decide(&s, p).send);  // exactly 30 days: outside
  s.events[0].at += 1;
  EXPECT_FALSE(rules(kPurchase).decide(&s, p).send);
  const Rulebook product_only = rules(std::string(kPurchase) + "    match: [product]\n");
  p.offer = "gold-card";
  EXPECT_TRUE(product_only.decide(&s, p).send);
  const Rulebook category_only = rules(std::string(kPurchase) + "    match: category\n");
  EXPECT_FALSE(category_only.decide(&s, p).send);
  const Rulebook other_events = rules(std::string(kPurchase) + "    events: [order_placed]\n");
  EXPECT_TRUE(other_events.decide(&s, p).send);
  p.transactional = true;
  EXPECT_TRUE(rules(kPurchase).decide(&s, p).send);  // transactional: bypassed by default
}

// ------------------------------------------------------------------ conditions and effects

TEST(DecideCondition, SuppressAndFlag) {
  const Rulebook rb = load_text(R"(
attributes: { credit_score: number }
rules:
  - name: low score excludes credit
    kind: condition
    effect: suppress
    when: profile.credit_score < 500 and offer_category == 'credit'
  - name: note missing score
    kind: condition
    effect: flag
    code: credit_score_missing
    when: offer_category == 'credit' and not exists profile.credit_score
)");
  CustomerSnapshot s = customer();
  Proposal p = proposal("email");
  p.offer_category = "credit";
  Decision d = rb.decide(&s, p);  // no score: allowed, with a note
  EXPECT_TRUE(d.send);
  EXPECT_EQ(note_codes_of(d), Codes{"credit_score_missing"});
  EXPECT_EQ(d.notes[0].rule, "note missing score");
  s.attributes = {{"credit_score", 499}};
  d = rb.decide(&s, p);
  EXPECT_FALSE(d.send);
  EXPECT_EQ(codes_of(d), Codes{"condition"});
  EXPECT_TRUE(d.notes.empty());
  EXPECT_EQ(d.reasons[0].detail, "condition is true: profile.credit_score < 500 and offer_category == 'credit'");
  s.attributes = {{"credit_score", 500}};
  EXPECT_TRUE(rb.decide(&s, p).send);
  s.attributes = {{"credit_score", "450"}};  // wrong type in the data: the comparison is false
  EXPECT_TRUE(rb.decide(&s, p).send);
  Proposal t = p;
  s.attributes = {{"credit_score", 100}};
  t.transactional = true;
  EXPECT_FALSE(rb.decide(&s, t).send);  // conditions apply to transactional messages by default
}

TEST(DecideCondition, WhenScopesAnyKind) {
  const Rulebook rb = rules(R"(
  - name: vip quiet only for campaign x
    kind: quiet_period
    effect: suppress
    events: [complaint]
    window: 5d
    when: campaign == 'x' and channel != 'post'
)");
  CustomerSnapshot s = customer();
  s.events = {event("complaint", kNow - kDayMs)};
  Proposal p = proposal("email");
  EXPECT_TRUE(rb.decide(&s, p).send);
  p.campaign = "x";
  EXPECT_FALSE(rb.decide(&s, p).send);
  p.channel = "post";
  EXPECT_TRUE(rb.decide(&s, p).send);
}

// ------------------------------------------------------------------ contact hours

const char* kHours = R"(
  - name: calls 08-20 Berlin
    kind: contact_hours
    effect: suppress
    channels: [phone]
    timezone: Europe/Berlin
    from: "08:00"
    to: "20:00"
)";

struct HoursCase {
  const char* utc;
  bool allowed;
  const char* what;
};

TEST(DecideContactHours, BerlinWinterSummerAndDstChangeDays) {
  const Rulebook rb = rules(kHours);
  CustomerSnapshot s = customer();
  const HoursCase cases[] = {
      // Winter (CET, UTC+1).
      {"2026-01-15T06:59:00Z", false, "07:59 winter"},
      {"2026-01-15T07:00:00Z", true, "08:00 winter"},
      {"2026-01-15T18:59:00Z", true, "19:59 winter"},
      {"2026-01-15T19:00:00Z", false, "20:00 winter"},
      {"2026-01-15T18:59:59.999Z", true, "19:59:59.999 winter"},
      // Summer (CEST, UTC+2).
      {"2026-07-15T05:59:00Z", false, "07:59 summer"},
      {"2026-07-15T06:00:00Z", true, "08:00 summer"},
      {"2026-07-15T17:59:00Z", true, "19:59 summer"},
      {"2026-07-15T18:00:00Z", false, "20:00 summer"},
      // Spring forward, Sunday 2026-03-29 02:00 CET -> 03:00 CEST: already UTC+2 at 08:00.
      {"2026-03-29T05:59:00Z", false, "07:59 on the spring change day"},
      {"2026-03-29T06:00:00Z", true, "08:00 on the spring change day"},
      {"2026-03-29T06:59:00Z", true, "08:59 (07:59 in CET would have been wrong)"},
      {"2026-03-29T17:59:00Z", true, "19:59 on the spring change day"},
      {"2026-03-29T18:00:00Z", false, "20:00 on the spring change day"},
      // Fall back, Sunday 2026-10-25 03:00 CEST -> 02:00 CET: UTC+1 at 08:00.
      {"2026-10-25T06:59:00Z", false, "07:59 on the autumn change day"},
      {"2026-10-25T07:00:00Z", true, "08:00 on the autumn change day"},
      {"2026-10-25T18:59:00Z", true, "19:59 on the autumn change day"},
      {"2026-10-25T19:00:00Z", false, "20:00 on the autumn change day"},
      // The nights of the change days.
      {"2026-03-29T00:59:00Z", false, "01:59 CET before the jump"},
      {"2026-10-25T00:30:00Z", false, "02:30 CEST, the first of two"},
      {"2026-10-25T01:30:00Z", false, "02:30 CET, the second"},
  };
  for (const HoursCase& c : cases) {
    const Decision d = rb.decide(&s, proposal("phone", at(c.utc)));
    EXPECT_EQ(d.send, c.allowed) << c.what << " (" << c.utc << ")";
    if (!c.allowed) {
      EXPECT_EQ(codes_of(d), Codes{"contact_hours"}) << c.what;
    }
    EXPECT_TRUE(rb.decide(&s, proposal("email", at(c.utc))).send) << "e-mail is not limited: " << c.what;
  }
  EXPECT_EQ(rb.decide(&s, proposal("phone", at("2026-03-29T05:59:00Z"))).reasons.at(0).detail,
            "07:59 on a Sunday in Europe/Berlin is outside the contact hours 08:00-20:00");
  Proposal t = proposal("phone", at("2026-01-15T22:00:00Z"), "service");
  t.transactional = true;
  EXPECT_FALSE(rb.decide(&s, t).send);  // contact hours apply to transactional calls by default
}

TEST(DecideContactHours, OvernightWindowsDaysAndOtherZones) {
  CustomerSnapshot s = customer();
  const Rulebook night = rules(R"(
  - name: night shift
    kind: contact_hours
    effect: suppress
    from: "22:00"
    to: "06:00"
)");
  EXPECT_TRUE(night.decide(&s, proposal("sms", at("2026-01-15T22:00:00+01:00"))).send);
  EXPECT_TRUE(night.decide(&s, proposal("sms", at("2026-01-16T05:59:00+01:00"))).send);
  EXPECT_FALSE(night.decide(&s, proposal("sms", at("2026-01-16T06:00:00+01:00"))).send);
  EXPECT_FALSE(night.decide(&s, proposal("sms", at("2026-01-15T21:59:00+01:00"))).send);

  const Rulebook weekdays = rules(R"(
  - name: weekdays until midnight, New York
    kind: contact_hours
    effect: suppress
    timezone: America/New_York
    from: "09:00"
    to: "24:00"
    days: [mon-fri]
)");
  // Friday 2026-01-16 23:59 in New York is Saturday in UTC.
  EXPECT_TRUE(weekdays.decide(&s, proposal("email", at("2026-01-16T23:59:00-05:00"))).send);
  const Decision sat = weekdays.decide(&s, proposal("email", at("2026-01-17T10:00:00-05:00")));
  EXPECT_FALSE(sat.send);
  EXPECT_EQ(sat.reasons.at(0).detail,
            "10:00 on a Saturday in America/New_York is outside the contact hours 09:00-24:00 (not a contact day)");
  EXPECT_FALSE(weekdays.decide(&s, proposal("email", at("2026-01-16T08:59:00-05:00"))).send);
}

// ------------------------------------------------------------------ routing

const char* kRouting = R"(
channels: [email, phone, sms, post]
routing:
  attribute: preferred_channel
  order: [email, post, phone]
rules:
  - name: consent
    kind: consent
    effect: suppress
    purposes: [marketing]
  - name: note phone
    kind: condition
    effect: flag
    when: channel == 'phone'
)";

TEST(DecideRouting, PreferredThenOrderThenNothing) {
  const Rulebook rb = load_text(kRouting);
  CustomerSnapshot s = customer();
  grant(s, "email");
  grant(s, "post");
  s.attributes = {{"preferred_channel", "post"}};
  Decision d = rb.decide(&s, proposal("best"));
  EXPECT_TRUE(d.send);
  EXPECT_EQ(d.channel, "post");
  EXPECT_TRUE(d.notes.empty());

  s.attributes = {{"preferred_channel", "sms"}};  // not allowed: next in the order
  d = rb.decide(&s, proposal("best"));
  EXPECT_TRUE(d.send);
  EXPECT_EQ(d.channel, "email");
  ASSERT_EQ(note_codes_of(d), Codes{"consent_missing"});  // why sms was skipped
  EXPECT_EQ(d.notes[0].channel, "sms");
  EXPECT_TRUE(d.reasons.empty());

  s.consents.clear();
  grant(s, "phone");
  d = rb.decide(&s, proposal("best"));
  EXPECT_TRUE(d.send);
  EXPECT_EQ(d.channel, "phone");
  EXPECT_EQ(note_codes_of(d), (Codes{"consent_missing", "consent_missing", "consent_missing", "condition"}));
  EXPECT_EQ(d.notes.back().channel, "phone");  // the flag note of the chosen channel

  s.consents.clear();
  d = rb.decide(&s, proposal("best"));
  EXPECT_FALSE(d.send);
  EXPECT_EQ(d.channel, "");
  EXPECT_EQ(codes_of(d),
            (Codes{"consent_missing", "consent_missing", "consent_missing", "consent_missing", "no_channel"}));
  const std::vector<std::string> tried = {d.reasons[0].channel, d.reasons[1].channel, d.reasons[2].channel,
                                          d.reasons[3].channel};
  EXPECT_EQ(tried, (std::vector<std::string>{"sms", "email", "post", "phone"}));
  EXPECT_EQ(d.reasons[4].detail, "no allowed channel (tried sms, email, post, phone)");
  EXPECT_EQ(note_codes_of(d), Codes{"condition"});  // flags of the tried channels
}

TEST(DecideRouting, PreferenceValues) {
  const Rulebook rb = load_text(kRouting);
  CustomerSnapshot s = customer();
  grant(s, "post");
  grant(s, "email");
  s.attributes = {{"preferred_channel", "POST"}};  // case-insensitive
  EXPECT_EQ(rb.decide(&s, proposal("best")).channel, "post");
  s.attributes = {{"preferred_channel", "fax"}};
  Decision d = rb.decide(&s, proposal("best"));
  EXPECT_EQ(d.channel, "email");
  EXPECT_EQ(note_codes_of(d), Codes{"preference_ignored"});
  EXPECT_EQ(d.notes[0].detail, "preferred_channel \"fax\" is not a channel of the rulebook");
  s.attributes = {{"preferred_channel", 3}};
  EXPECT_EQ(note_codes_of(rb.decide(&s, proposal("best"))), Codes{"preference_ignored"});
  s.attributes = {{"preferred_channel", nullptr}};
  EXPECT_TRUE(rb.decide(&s, proposal("best")).notes.empty());
  s.attributes = Json::object();
  EXPECT_EQ(rb.decide(&s, proposal("best")).channel, "email");
  s.attributes = {{"preferred_channel", "email"}};  // preferred and in the order: tried once
  s.consents.clear();
  EXPECT_EQ(codes_of(rb.decide(&s, proposal("best"))).size(), 4u);  // email, post, phone + no_channel
}

TEST(DecideRouting, DefaultsAndCustomAttribute) {
  const Rulebook rb = load_text(R"(
channels: [post, email]
routing: { attribute: kanal }
rules: []
)");
  CustomerSnapshot s = customer();
  EXPECT_EQ(rb.decide(&s, proposal("best")).channel, "post");  // the order defaults to `channels:`
  s.attributes = {{"kanal", "email"}};
  EXPECT_EQ(rb.decide(&s, proposal("best")).channel, "email");
  const Rulebook empty_order = load_text("routing: { order: [] }\nrules: []\n");
  const Decision d = empty_order.decide(&s, proposal("best"));
  EXPECT_FALSE(d.send);
  EXPECT_EQ(codes_of(d), Codes{"no_channel"});
  EXPECT_EQ(d.reasons[0].detail, "no preferred channel and no routing order");
}

// ------------------------------------------------------------------ built-ins, order, API

TEST(Decide, UnknownCustomerChannelAndPurpose) {
  const Rulebook rb = load_text("purposes: [marketing, service]\nrules: []\n");
  Decision d = rb.decide(nullptr, proposal("email"));
  EXPECT_FALSE(d.send);
  EXPECT_EQ(d.channel, "email");
  EXPECT_EQ(codes_of(d), Codes{"unknown_customer"});
  EXPECT_EQ(d.reasons[0].detail, "no customer found for 'anna@example.de'");
  EXPECT_EQ(d.reasons[0].rule, "");
  EXPECT_EQ(d.rulebook, rb.version());
  EXPECT_EQ(rb.decide(nullptr, proposal("best")).channel, "");
  CustomerSnapshot s = customer();
  d = rb.decide(&s, proposal("fax"));
  EXPECT_EQ(codes_of(d), Codes{"unknown_channel"});
  EXPECT_EQ(d.reasons[0].detail, "channel 'fax' is not a channel of the rulebook (email, phone, sms, post)");
  d = rb.decide(&s, proposal("email", kNow, "marketting"));
  EXPECT_EQ(codes_of(d), Codes{"unknown_purpose"});
  EXPECT_TRUE(rb.decide(&s, proposal("email", kNow, "service")).send);

  EXPECT_EQ(rb.check_proposal(proposal("email")), "");
  EXPECT_EQ(rb.check_proposal(proposal("best")), "");
  EXPECT_EQ(rb.check_proposal(proposal("fax")),
            "channel: 'fax' is not a channel of the rulebook (email, phone, sms, post, best)");
  EXPECT_EQ(rb.check_proposal(proposal("")), "channel: missing (one of email, phone, sms, post, best)");
  EXPECT_EQ(rb.check_proposal(proposal("email", kNow, "x")),
            "purpose: 'x' is not declared in the rulebook (marketing, service)");
  EXPECT_EQ(rb.check_proposal(proposal("email", kNow, "")), "purpose: missing");
}

TEST(Decide, CollectsAllReasonsInFileOrder) {
  const Rulebook rb = rules(std::string(kHours) + kQuiet + kConsent + kLists);
  CustomerSnapshot s = customer();
  s.events = {event("branch_visit", kNow - kDayMs)};
  s.suppressions = {entry("blacklist"), entry("objection")};
  const Decision d = rb.decide(&s, proposal("phone", at("2026-03-12T21:00:00+01:00")));
  EXPECT_EQ(codes_of(d), (Codes{"contact_hours", "quiet_period", "consent_missing", "suppressed", "suppressed"}));
  EXPECT_EQ(d.reasons[0].rule, "calls 08-20 Berlin");
  EXPECT_EQ(d.reasons[3].rule, "lists");
}

TEST(Decide, LookbackIsTheLongestWindow) {
  EXPECT_EQ(rules(kConsent).lookback_ms(), 0);
  EXPECT_EQ(rules(std::string(kCap) + kQuiet).lookback_ms(), 10 * kDayMs);
  EXPECT_EQ(rules(std::string(kCap) + kQuiet + kPurchase).lookback_ms(), 30 * kDayMs);
}

TEST(Decide, DecisionJson) {
  const Rulebook rb = rules(kConsent);
  CustomerSnapshot s = customer();
  const Json j = decision_json(rb.decide(&s, proposal("email")));
  EXPECT_EQ(j["decision"], "suppress");
  EXPECT_EQ(j["channel"], "email");
  EXPECT_EQ(j["rulebook"], rb.version());
  ASSERT_EQ(j["reasons"].size(), 1u);
  EXPECT_EQ(j["reasons"][0], Json::parse(R"({"rule": "consent", "code": "consent_missing",
      "detail": "no marketing consent for email", "channel": "email"})"));
  EXPECT_EQ(j["notes"], Json::array());
  grant(s, "email");
  const Json ok = decision_json(rb.decide(&s, proposal("email")));
  EXPECT_EQ(ok["decision"], "send");
  EXPECT_EQ(ok["reasons"], Json::array());
  const Json unknown = decision_json(rb.decide(nullptr, proposal("best")));
  EXPECT_FALSE(unknown["reasons"][0].contains("channel"));  // no channel: no key
}

TEST(Decide, VersionIsTheContentHash) {
  test::TempDir dir;
  const auto a = test::write_file(dir, "a.yaml", "rules: []\n");
  const auto b = test::write_file(dir, "b.yaml", "rules: []\n");
  const auto c = test::write_file(dir, "c.yaml", "rules: [] # changed\n");
  EXPECT_EQ(Rulebook::load(a).version(), Rulebook::load(b).version());
  EXPECT_NE(Rulebook::load(a).version(), Rulebook::load(c).version());
  // SHA-256 of "rules: []\n".
  EXPECT_EQ(Rulebook::load(a).version(), "sha256:e0dfa70eb69d47fe");
}

TEST(Decide, ConcurrentDecisionsAreIndependent) {
  const Rulebook rb = rules(std::string(kHours) + kQuiet + kConsent + kCap);
  CustomerSnapshot s = customer();
  grant(s, "phone");
  s.events = {event("message_sent", kNow - kDayMs, "email", "marketing")};
  const Decision expected = rb.decide(&s, proposal("phone", at("2026-03-29T06:00:00Z")));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const Decision d = rb.decide(&s, proposal("phone", at("2026-03-29T06:00:00Z")));
        if (d.send != expected.send || d.reasons.size() != expected.reasons.size())
          ++mismatches[static_cast<size_t>(t)];
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, (std::vector<int>{0, 0, 0, 0}));
  EXPECT_TRUE(expected.send);
}

}  // namespace
}  // namespace touchpoint::core::rules
