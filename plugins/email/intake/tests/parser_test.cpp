// parse_report on realistic reports of the common MTAs and feedback loops.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace tp_email::intake {
namespace {

using test::data_of;
using test::sample;

Response only(const ParseResult& r) {
  EXPECT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.responses.size(), 1u);
  return r.responses.empty() ? Response{} : r.responses.front();
}

TEST(Parser, PostfixHardBounceByEnvid) {
  const ParseResult r = parse_report(sample("postfix_hard.eml"));
  const Response x = only(r);
  EXPECT_EQ(x.kind, "bounce_hard");
  EXPECT_EQ(x.contact_id, "c-3f9a0c1d2e4b5a6978877665");
  EXPECT_EQ(x.provider_id, "c-3f9a0c1d2e4b5a6978877665@mail.bank.example");
  EXPECT_EQ(x.status, "5.1.1");
  EXPECT_EQ(x.diagnostic,
            "550 5.1.1 <anna@example.de>: Recipient address rejected: User unknown in virtual mailbox table");
  EXPECT_EQ(x.recipient, "anna@example.de");
  EXPECT_EQ(x.at, "2026-12-01T09:00:01Z");  // Arrival-Date, there is no Last-Attempt-Date
  EXPECT_EQ(x.id.rfind("email-", 0), 0u);
  EXPECT_EQ(x.id.size(), 6u + 32u);
}

TEST(Parser, RecordFollowsTheChannelContract) {
  const touchpoint::Record rec = to_record(only(parse_report(sample("postfix_hard.eml"))));
  EXPECT_EQ(rec.type, "response");
  const auto d = data_of(rec);
  EXPECT_EQ(d["contact_id"], "c-3f9a0c1d2e4b5a6978877665");
  EXPECT_EQ(d["provider_id"], "c-3f9a0c1d2e4b5a6978877665@mail.bank.example");
  EXPECT_EQ(d["channel"], "email");
  EXPECT_EQ(d["kind"], "bounce_hard");
  EXPECT_EQ(d["at"], "2026-12-01T09:00:01Z");
  EXPECT_EQ(d["detail"]["status"], "5.1.1");
  EXPECT_TRUE(d["detail"]["diagnostic"].is_string());
  EXPECT_FALSE(d["detail"].contains("feedback_type"));
}

TEST(Parser, CrlfLineEndingsGiveTheSameResponse) {
  std::string crlf;
  for (char c : sample("postfix_hard.eml")) {
    if (c == '\n') crlf.push_back('\r');
    crlf.push_back(c);
  }
  const Response a = only(parse_report(sample("postfix_hard.eml")));
  const Response b = only(parse_report(crlf));
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.contact_id, b.contact_id);
  EXPECT_EQ(a.diagnostic, b.diagnostic);
  EXPECT_EQ(a.id, b.id);  // same report Message-ID and recipient
}

TEST(Parser, ResponseIdIsStableAndPerRecipient) {
  const ParseResult a = parse_report(sample("microsoft_hard.eml"));
  const ParseResult b = parse_report(sample("microsoft_hard.eml"));
  ASSERT_EQ(a.responses.size(), 2u);
  EXPECT_EQ(a.responses[0].id, b.responses[0].id);
  EXPECT_NE(a.responses[0].id, a.responses[1].id);
}

TEST(Parser, ReportWithoutMessageIdIsKeyedByItsBytes) {
  const std::string text = sample("header_contact_only.eml");  // has no Message-ID of its own
  const Response a = only(parse_report(text));
  const Response b = only(parse_report(text + "\n"));
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(a.id, only(parse_report(text)).id);
}

TEST(Parser, EximMailboxFullIsSoftByVerp) {
  const Response x = only(parse_report(sample("exim_mailbox_full.eml")));
  EXPECT_EQ(x.kind, "bounce_soft");
  EXPECT_EQ(x.status, "5.2.2");
  EXPECT_EQ(x.contact_id, "c-0123456789abcdef01234567");  // no ENVID: the VERP To
  EXPECT_EQ(x.provider_id, "c-0123456789abcdef01234567@mail.bank.example");
  EXPECT_EQ(x.at, "2026-12-02T08:15:44Z");  // the report's Date
}

TEST(Parser, GmailSpamBlockIsPolicyBlock) {
  const Response x = only(parse_report(sample("gmail_policy.eml")));
  EXPECT_EQ(x.kind, "policy_block");
  EXPECT_EQ(x.status, "5.7.1");
  EXPECT_EQ(x.contact_id, "c-aaaaaaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(x.at, "2026-12-03T19:20:05Z");  // Last-Attempt-Date, in UTC
  EXPECT_NE(x.diagnostic.find("likely unsolicited mail"), std::string::npos);
}

TEST(Parser, MicrosoftNdrTwoRecipientsBothHard) {
  const ParseResult r = parse_report(sample("microsoft_hard.eml"));
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.responses.size(), 2u);
  EXPECT_EQ(r.responses[0].kind, "bounce_hard");
  EXPECT_EQ(r.responses[0].status, "5.1.10");
  EXPECT_EQ(r.responses[0].recipient, "jan@contoso.example");
  EXPECT_EQ(r.responses[1].kind, "bounce_hard");  // 5.4.1 "Recipient address rejected"
  EXPECT_EQ(r.responses[1].status, "5.4.1");
  for (const auto& x : r.responses) EXPECT_EQ(x.contact_id, "c-bbbbbbbbbbbbbbbbbbbbbbbb");
}

TEST(Parser, MicrosoftBannedIpIsPolicyBlock) {
  const Response x = only(parse_report(sample("microsoft_policy.eml")));
  EXPECT_EQ(x.kind, "policy_block");
  EXPECT_EQ(x.status, "5.7.606");
  EXPECT_EQ(x.contact_id, "c-cccccccccccccccccccccccc");
  EXPECT_TRUE(x.provider_id.empty());  // no returned headers
}

TEST(Parser, DelayedIsSoftAndVerpComesFromXOriginalTo) {
  const Response x = only(parse_report(sample("postfix_delayed.eml")));
  EXPECT_EQ(x.kind, "bounce_soft");
  EXPECT_EQ(x.status, "4.4.1");
  EXPECT_EQ(x.contact_id, "c-ffffffffffffffffffffffff");
}

TEST(Parser, RelayedIsDeliveredAndXtextEnvidWinsOverVerp) {
  const Response x = only(parse_report(sample("delivered.eml")));
  EXPECT_EQ(x.kind, "delivered");
  EXPECT_EQ(x.status, "2.0.0");
  EXPECT_EQ(x.contact_id, "c-111111111111111111111111");  // ENVID "c+2D111..." decoded; To says c-222...
}

TEST(Parser, OnlyReturnedHeadersCorrelateByMessageId) {
  const Response x = only(parse_report(sample("returned_headers_only.eml")));
  EXPECT_EQ(x.kind, "bounce_hard");
  EXPECT_EQ(x.status, "5.1.2");
  EXPECT_EQ(x.contact_id, "c-dddddddddddddddddddddddd");
}

TEST(Parser, TouchpointHeaderCorrelatesWhenMessageIdIsForeign) {
  const Response x = only(parse_report(sample("header_contact_only.eml")));
  EXPECT_EQ(x.contact_id, "c-eeeeeeeeeeeeeeeeeeeeeeee");
  EXPECT_EQ(x.provider_id, "20261205120000.ABC123@relay.partner.example");
}

TEST(Parser, NoContactIdStillEmitsWithProviderId) {
  const Response x = only(parse_report(sample("foreign_message_id.eml")));
  EXPECT_TRUE(x.contact_id.empty());
  EXPECT_EQ(x.provider_id, "4Qx9.legacy-system@bank.example");
  const auto d = data_of(to_record(x));
  EXPECT_FALSE(d.contains("contact_id"));
  EXPECT_EQ(d["provider_id"], "4Qx9.legacy-system@bank.example");
}

TEST(Parser, NothingToCorrelateIsAnError) {
  const ParseResult r = parse_report(sample("anonymous.eml"));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("names no contact"), std::string::npos) << r.error;
  EXPECT_TRUE(r.responses.empty());
}

TEST(Parser, ArfAbuseIsComplaint) {
  const Response x = only(parse_report(sample("arf_abuse.eml")));
  EXPECT_EQ(x.kind, "complaint");
  EXPECT_EQ(x.feedback_type, "abuse");
  EXPECT_EQ(x.contact_id, "c-3f9a0c1d2e4b5a6978877665");  // Original-Mail-From VERP
  EXPECT_EQ(x.provider_id, "c-3f9a0c1d2e4b5a6978877665@mail.bank.example");
  EXPECT_EQ(x.recipient, "user@example.com");
  EXPECT_EQ(x.at, "2026-03-08T18:00:00Z");
  const auto d = data_of(to_record(x));
  EXPECT_EQ(d["detail"]["feedback_type"], "abuse");
  EXPECT_FALSE(d["detail"].contains("status"));
}

TEST(Parser, RedactedArfCorrelatesByTouchpointHeader) {
  const Response x = only(parse_report(sample("arf_redacted.eml")));
  EXPECT_EQ(x.kind, "complaint");
  EXPECT_EQ(x.contact_id, "c-999999999999999999999999");
  EXPECT_EQ(x.provider_id, "AB12CD34@esp.partner.example");
}

TEST(Parser, NotSpamFeedbackIsNoComplaint) {
  const ParseResult r = parse_report(sample("arf_not_spam.eml"));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("not-spam is not a complaint"), std::string::npos) << r.error;
}

TEST(Parser, AutoReplyIsNoReport) {
  const ParseResult r = parse_report(sample("auto_reply.eml"));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("not a delivery or feedback report (Content-Type text/plain)"), std::string::npos) << r.error;
}

TEST(Parser, ReadReceiptIsNoReport) {
  const ParseResult r = parse_report(sample("read_receipt.eml"));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("report-type disposition-notification"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace tp_email::intake
