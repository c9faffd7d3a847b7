// Malformed rulebooks: every error is a ConfigError at the line and column
// of what is wrong (conditions: the column inside the condition).

#include <gtest/gtest.h>

#include "rules_test_util.hpp"

namespace touchpoint::core::rules {
namespace {

using test::load_error;

/// A rulebook with one rule whose body (indented by 4) is `body`.
std::string one_rule(const std::string& body) { return "rules:\n  - name: r\n" + body; }

TEST(LoadErrors, FileAndYaml) {
  EXPECT_EQ(load_error(""), "0:0: the rulebook is empty (it needs at least rules:)");
  EXPECT_EQ(load_error("description: x\n"), "1:1: the rulebook needs rules: (a list of rules)");
  EXPECT_EQ(load_error("rules: [\n"), "2:1: end of sequence flow not found");
  EXPECT_EQ(load_error("- a\n- b\n"), "1:1: the rulebook must be a mapping");
  EXPECT_EQ(load_error("rules: {a: 1}\n"), "1:8: rules must be a list");
  EXPECT_EQ(load_error("rules: []\nrulez: []\n"),
            "2:1: unknown key 'rulez' in the rulebook (allowed: description, timezone, channels, purposes, "
            "attributes, routing, rules, tests)");
  EXPECT_EQ(load_error("rules: []\nrules: []\n"), "2:1: duplicate key 'rules' in the rulebook");
  EXPECT_EQ(load_error("rules: []\ndescription: \"\x01\"\n"), "2:15: control character 0x01 is not allowed");
  test::TempDir dir;
  try {
    Rulebook::load(dir.path() / "missing.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.message(), "cannot read file");
  }
}

TEST(LoadErrors, RuleStructure) {
  EXPECT_EQ(load_error("rules:\n  - just a string\n"), "2:5: each rule must be a mapping with name, kind and effect");
  EXPECT_EQ(load_error("rules:\n  - kind: consent\n    effect: suppress\n"), "2:5: rule without a name");
  EXPECT_EQ(load_error(one_rule("    effect: suppress\n")), "2:5: rule 'r' needs a kind");
  EXPECT_EQ(load_error(one_rule("    kind: consnet\n    effect: suppress\n")),
            "3:11: unknown rule kind 'consnet' (known: consent, suppression, channel_validity, frequency_cap, "
            "quiet_period, recent_purchase, condition, contact_hours)");
  EXPECT_EQ(load_error(one_rule("    kind: consent\n")), "2:5: rule 'r' needs an effect: suppress or flag");
  EXPECT_EQ(load_error(one_rule("    kind: consent\n    effect: block\n")),
            "4:13: effect must be suppress or flag, got 'block'");
  EXPECT_EQ(load_error(one_rule("    kind: consent\n    effect: suppress\n    window: 7d\n")),
            "5:5: unknown key 'window' in rule 'r' (kind consent) (allowed: name, kind, effect, description, "
            "channels, purposes, when, transactional, code, consent_purpose, mode)");
  EXPECT_EQ(load_error(one_rule("    kind: consent\n    effect: suppress\n    effect: flag\n")),
            "5:5: duplicate key 'effect' in rule 'r' (kind consent)");
  EXPECT_EQ(load_error("rules:\n  - {name: a, kind: consent, effect: suppress}\n  - {name: b, kind: consent, "
                       "effect: suppress}\n  - {name: a, kind: channel_validity, effect: suppress}\n"),
            "4:12: duplicate rule name 'a' (first at line 2)");
  EXPECT_EQ(load_error(one_rule("    kind: consent\n    effect: suppress\n    transactional: skip\n")),
            "5:20: transactional must be bypass or apply, got 'skip'");
  EXPECT_EQ(load_error(one_rule("    kind: consent\n    effect: suppress\n    code: Credit Risk\n")),
            "5:11: code must be lower case letters, digits and '_', like credit_risk");
  EXPECT_EQ(load_error(one_rule("    kind: consent\n    effect: suppress\n    mode: maybe\n")),
            "5:11: mode must be opt_in (granted required) or opt_out (only denied/revoked block)");
  EXPECT_EQ(load_error(one_rule("    kind: condition\n    effect: suppress\n")),
            "2:5: rule 'r': a condition rule needs when: (the condition under which it fires)");
}

TEST(LoadErrors, ChannelsAndPurposes) {
  EXPECT_EQ(load_error(one_rule("    kind: consent\n    effect: suppress\n    channels: [email, fax]\n")),
            "5:23: channels: 'fax' is not a channel (channels: email, phone, sms, post)");
  EXPECT_EQ(load_error(one_rule("    kind: consent\n    effect: suppress\n    channels: [email, email]\n")),
            "5:23: 'email' is listed twice in channels");
  EXPECT_EQ(load_error(one_rule("    kind: consent\n    effect: suppress\n    channels: []\n")),
            "5:15: channels must list at least one channel (leave it out for every channel)");
  EXPECT_EQ(load_error("channels: [email, best]\nrules: []\n"),
            "1:19: 'best' is not a channel: proposals use it to ask for routing");
  EXPECT_EQ(load_error("channels: [E-Mail]\nrules: []\n"),
            "1:12: channel names are lower case letters, digits, '_' and '-': 'E-Mail'");
  EXPECT_EQ(load_error("purposes: [marketing]\n" + one_rule("    kind: consent\n    effect: suppress\n    purposes: "
                                                            "[marketing, newsletter]\n")),
            "6:27: purposes: 'newsletter' is not a declared purpose (purposes: marketing)");
  EXPECT_EQ(load_error("purposes: [marketing]\n" + one_rule("    kind: consent\n    effect: suppress\n    "
                                                            "consent_purpose: credit\n")),
            "6:22: consent_purpose: 'credit' is not a declared purpose (purposes: marketing)");
  EXPECT_EQ(load_error("routing: { order: [email, fax] }\nrules: []\n"),
            "1:27: routing.order: 'fax' is not a channel (channels: email, phone, sms, post)");
  EXPECT_EQ(load_error("routing: { order: email }\nrules: []\n"), "1:19: routing.order must be a list of channels");
  EXPECT_EQ(load_error("attributes: { score: number }\nrouting: { attribute: pref }\nrules: []\n"),
            "2:23: routing attribute 'pref' is not declared under attributes: (declare it, e.g. pref: string)");
  EXPECT_EQ(load_error("attributes: { pref: number }\nrouting: { attribute: pref }\nrules: []\n"),
            "2:23: routing attribute 'pref' is declared as number; it must hold a channel name (string)");
  EXPECT_EQ(load_error("attributes: { score: integer }\nrules: []\n"),
            "1:22: unknown type 'integer' (use string, number, bool, list, object or any)");
}

TEST(LoadErrors, TypesDurationsTimesZones) {
  const std::string cap = "    kind: frequency_cap\n    effect: suppress\n";
  EXPECT_EQ(load_error(one_rule(cap + "    max: two\n    window: 7d\n")), "5:10: max must be an integer, got 'two'");
  EXPECT_EQ(load_error(one_rule(cap + "    max: -1\n    window: 7d\n")), "5:10: max must be between 0 and 1000000");
  EXPECT_EQ(load_error(one_rule(cap + "    window: 7d\n")), "2:5: rule 'r' needs max: (contacts allowed per window)");
  EXPECT_EQ(load_error(one_rule(cap + "    max: 2\n")), "2:5: rule 'r' needs window: (a duration like 7d)");
  EXPECT_EQ(load_error(one_rule(cap + "    max: 2\n    window: 7\n")),
            "6:13: window: '7' is not a duration: a duration needs a unit (w, d, h, m, s, ms), e.g. 10d");
  EXPECT_EQ(load_error(one_rule(cap + "    max: 2\n    window: 7days\n")),
            "6:13: window: '7days' is not a duration: unknown unit 'days' (use w, d, h, m, s, ms)");
  EXPECT_EQ(load_error(one_rule(cap + "    max: 2\n    window: [7d]\n")), "6:13: window must be a string");
  EXPECT_EQ(load_error(one_rule(cap + "    max: 2\n    window: 7d\n    across_channels: yes\n")),
            "7:22: across_channels must be true or false");
  EXPECT_EQ(load_error(one_rule(cap + "    max: 2\n    window: 7d\n    events: []\n")),
            "7:13: events must list at least one event type");
  EXPECT_EQ(load_error(one_rule("    kind: quiet_period\n    effect: suppress\n    window: 10d\n")),
            "2:5: rule 'r' needs events: (the event types that start the quiet period)");
  EXPECT_EQ(
      load_error(one_rule("    kind: recent_purchase\n    effect: suppress\n    window: 30d\n    match: [offer]\n")),
      "6:12: match lists product (offer vs. event product) and/or category (offer_category vs. event "
      "category), got 'offer'");

  const std::string hours = "    kind: contact_hours\n    effect: suppress\n";
  EXPECT_EQ(load_error(one_rule(hours + "    from: \"08:00\"\n    to: \"20:00\"\n")),
            "2:5: rule 'r' needs a timezone: (here or at the top of the rulebook)");
  EXPECT_EQ(load_error(one_rule(hours + "    timezone: Europe/Berln\n    from: \"08:00\"\n    to: \"20:00\"\n")),
            "5:15: timezone: unknown time zone 'Europe/Berln' (use an IANA name like Europe/Berlin)");
  EXPECT_EQ(load_error("timezone: Mars/Olympus\nrules: []\n"),
            "1:11: timezone: unknown time zone 'Mars/Olympus' (use an IANA name like Europe/Berlin)");
  EXPECT_EQ(load_error("timezone: Europe/Berlin\n" + one_rule(hours + "    from: \"8:00\"\n    to: \"20:00\"\n")),
            "6:11: from: '8:00' is not a time of day like 08:00");
  EXPECT_EQ(load_error("timezone: Europe/Berlin\n" + one_rule(hours + "    from: \"08:00\"\n    to: \"20:60\"\n")),
            "7:9: to: '20:60' is not a time of day like 08:00 (or 24:00)");
  EXPECT_EQ(load_error("timezone: Europe/Berlin\n" + one_rule(hours + "    from: \"24:00\"\n    to: \"20:00\"\n")),
            "6:11: from: '24:00' is not a time of day like 08:00");
  EXPECT_EQ(load_error("timezone: Europe/Berlin\n" + one_rule(hours + "    from: \"08:00\"\n    to: \"08:00\"\n")),
            "7:9: from and to describe the whole day or nothing; leave the rule out or change the times");
  EXPECT_EQ(load_error("timezone: Europe/Berlin\n" + one_rule(hours + "    to: \"20:00\"\n")),
            "3:5: rule 'r' needs from: and to: (local times like 08:00 and 20:00)");
  EXPECT_EQ(load_error("timezone: Europe/Berlin\n" +
                       one_rule(hours + "    from: \"08:00\"\n    to: \"20:00\"\n    days: [mon-fri, sonntag]\n")),
            "8:21: days: 'sonntag' is not a day (mon, tue, wed, thu, fri, sat, sun, or a range like mon-fri)");
  EXPECT_EQ(load_error("timezone: Europe/Berlin\n" +
                       one_rule(hours + "    from: \"08:00\"\n    to: \"20:00\"\n    days: [fri-mon]\n")),
            "8:12: days: a range runs from Monday towards Sunday, like mon-fri");
}

TEST(LoadErrors, SuppressionLists) {
  const std::string s = "    kind: suppression\n    effect: suppress\n";
  EXPECT_EQ(load_error(one_rule(s + "    lists: [blacklist]\n")),
            "5:12: lists must be a mapping of list name to its settings, e.g. blacklist: {all_purposes: true}");
  EXPECT_EQ(load_error(one_rule(s + "    lists:\n      blacklist: { all_purpose: true }\n")),
            "6:20: unknown key 'all_purpose' in list 'blacklist' (allowed: all_purposes, channels, description)");
  EXPECT_EQ(load_error(one_rule(s + "    lists:\n      blacklist: { all_purposes: 1 }\n")),
            "6:34: all_purposes must be true or false");
  EXPECT_EQ(load_error(one_rule(s + "    other_lists: block\n")),
            "5:18: other_lists must be apply (entries on lists not named here suppress too) or ignore");
}

TEST(LoadErrors, ConditionErrorsPointInsideTheCondition) {
  const std::string c = "    kind: condition\n    effect: suppress\n";
  // Plain scalar: the column of the problem in the file.
  EXPECT_EQ(load_error(one_rule(c + "    when: profile.credit_score < 500 and offer_category = 'credit'\n")),
            "5:57: when: '=' is not an operator; use '==' to compare");
  // Single- and double-quoted scalars: one more for the quote.
  EXPECT_EQ(load_error(one_rule(c + "    when: \"profile.x < 500 or\"\n")),
            "5:30: when: expected a condition, got end of the condition");
  EXPECT_EQ(load_error(one_rule(c + "    when: 'profile.x <> 1'\n")),
            "5:23: when: expected a value after '<', got '>'");
  // A block scalar on the next line.
  EXPECT_EQ(load_error(one_rule(c + "    when: |\n      profile.x == 1 and and\n")),
            "6:26: when: expected a condition, got keyword 'and'");
  // When the text is not verbatim in the file (escapes, folded lines), the scalar's position and the column.
  EXPECT_EQ(load_error(one_rule(c + "    when: \"profile.x == \\\"a\\\" or\"\n")),
            "5:11: when: expected a condition, got end of the condition (at column 20 of the condition)");
  EXPECT_EQ(load_error(one_rule(c + "    when: >\n      profile.x == 1\n      and\n")),
            "5:11: when: expected a condition, got end of the condition (at column 20 of the condition)");
  // Undeclared attributes are an error when attributes are declared.
  EXPECT_EQ(
      load_error("attributes: { credit_score: number }\n" + one_rule(c + "    when: profile.credit_scor < 500\n")),
      "6:19: when: unknown attribute 'credit_scor' (declared under attributes: credit_score)");
  EXPECT_EQ(
      load_error("attributes: { credit_score: number }\n" + one_rule(c + "    when: profile.credit_score < '500'\n")),
      "6:34: when: cannot compare profile.credit_score (number) with '500' (string)");
  EXPECT_EQ(load_error("channels: [email, post]\n" + one_rule(c + "    when: channel == 'phone'\n")),
            "6:22: when: 'phone' is not a channel of this rulebook (email, post)");
  EXPECT_EQ(load_error(one_rule(c + "    when: [a]\n")), "5:11: when must be a string");
}

TEST(LoadErrors, TestCases) {
  const std::string rb = "rules:\n  - {name: consent, kind: consent, effect: suppress}\ntests:\n";
  const std::string ok_case = "  - name: t\n    at: 2026-03-03T10:00:00Z\n    proposal: { channel: email }\n";
  EXPECT_EQ(load_error(rb + ok_case + "    expect: { decision: send }\n"), "<no error>");
  EXPECT_EQ(load_error(rb + "  - name: t\n    at: 2026-03-03T10:00:00\n"),
            "5:9: at: '2026-03-03T10:00:00' is not an RFC 3339 time like 2026-03-03T10:00:00+01:00");
  EXPECT_EQ(load_error(rb + "  - name: t\n    proposal: {channel: email}\n    expect: {decision: send}\n"),
            "4:5: test case 't' needs at: (the decision time, RFC 3339)");
  EXPECT_EQ(load_error(rb + ok_case + "    expect: { decision: maybe }\n"), "7:25: decision must be send or suppress");
  EXPECT_EQ(load_error(rb + ok_case + "    expect: { decision: send, reasons: [consent_missing] }\n"),
            "7:40: a send has no blocking reasons (use notes:)");
  EXPECT_EQ(load_error(rb + ok_case + "    expect: { decision: suppress, reasons: [{code: x, rule: nope}] }\n"),
            "7:61: no rule is named 'nope'");
  EXPECT_EQ(load_error(rb + ok_case + "    expect: { decision: suppress, reasons: [{code: x, channel: fax}] }\n"),
            "7:64: channel: 'fax' is not a channel (channels: email, phone, sms, post)");
  EXPECT_EQ(
      load_error(rb + ok_case + "    expect: { decision: send }\n" + ok_case + "    expect: { decision: send }\n"),
      "8:11: duplicate test case name 't'");
  EXPECT_EQ(load_error(rb + "  - name: t\n    at: 2026-03-03T10:00:00Z\n    proposal: { channel: fax }\n"),
            "6:26: channel: 'fax' is not a channel (channels: email, phone, sms, post)");
  EXPECT_EQ(load_error(rb + "  - name: t\n    at: 2026-03-03T10:00:00Z\n    proposal: { channel: email, offr: x }\n"),
            "6:33: unknown key 'offr' in proposal (allowed: customer, channel, purpose, campaign, offer, "
            "offer_category, transactional)");
  EXPECT_EQ(load_error(rb + "  - name: t\n    at: 2026-03-03T10:00:00Z\n    unknown: true\n    customer: {}\n"),
            "7:15: test case 't': an unknown customer has no customer data");
  EXPECT_EQ(load_error("purposes: [service]\n" + rb +
                       "  - name: t\n    at: 2026-03-03T10:00:00Z\n    proposal: { "
                       "channel: email }\n"),
            "7:15: purpose: 'marketing' is not a declared purpose (purposes: service)");
  const std::string with_customer = "  - name: t\n    at: 2026-03-03T10:00:00Z\n    customer:\n";
  EXPECT_EQ(load_error(rb + with_customer + "      consents: [{channel: email, status: yes}]\n"),
            "7:43: status must be granted, denied or revoked");
  EXPECT_EQ(
      load_error(rb + with_customer + "      events: [{event_type: visit, days_ago: 1, at: 2026-03-01T00:00:00Z}]\n"),
      "7:16: event: give only one of at, days_ago and ago");
  EXPECT_EQ(load_error(rb + with_customer + "      events: [{event_type: visit, days_ago: soon}]\n"),
            "7:46: days_ago must be a number of days (0 to 36500), fractions allowed");
  EXPECT_EQ(load_error(rb + with_customer + "      events: [{days_ago: 1}]\n"), "7:16: an event needs event_type");
  EXPECT_EQ(load_error(rb + with_customer + "      channels: { email: broken }\n"),
            "7:26: a channel is valid, invalid or missing (or a mapping {address, valid, reason, since})");
  EXPECT_EQ(load_error(rb + with_customer + "      suppressions: [{list: b, until: tomorrow}]\n"),
            "7:39: until: 'tomorrow' is not an RFC 3339 time like 2026-03-03T10:00:00+01:00");
  EXPECT_EQ(load_error("attributes: { score: number }\n" + rb + with_customer + "      attributes: { scor: 1 }\n"),
            "8:21: attribute 'scor' is not declared under attributes:");
  EXPECT_EQ(load_error("attributes: { score: number }\n" + rb + with_customer + "      attributes: { score: high }\n"),
            "8:28: attribute 'score' is declared as number");
}

}  // namespace
}  // namespace touchpoint::core::rules
