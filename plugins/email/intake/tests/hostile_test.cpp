// Malformed, huge and hostile input: a clear error or a bounded response, never a crash.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "test_support.hpp"

namespace tp_email::intake {
namespace {

using test::data_of;
using test::sample;

const char* const kSamples[] = {"postfix_hard.eml",   "exim_mailbox_full.eml", "gmail_policy.eml",
                                "microsoft_hard.eml", "arf_abuse.eml",         "arf_redacted.eml",
                                "delivered.eml",      "postfix_delayed.eml",   "returned_headers_only.eml"};

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const std::size_t at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// A DSN to one contact with `n` per-recipient groups.
std::string many_recipients(std::size_t n) {
  std::string s =
      "From: MAILER-DAEMON@mx.example\nTo: bounces+c-3f9a0c1d2e4b5a6978877665@bank.example\n"
      "Message-ID: <many@mx.example>\nMIME-Version: 1.0\n"
      "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\n"
      "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n";
  for (std::size_t i = 0; i < n; ++i)
    s += "\nFinal-Recipient: rfc822; r" + std::to_string(i) + "@x.example\nAction: failed\nStatus: 5.1.1\n";
  s += "\n--B--\n";
  return s;
}

void expect_sane(const ParseResult& r) {
  if (!r.ok()) {
    EXPECT_TRUE(r.responses.empty());
    return;
  }
  EXPECT_FALSE(r.responses.empty());
  for (const Response& x : r.responses) {
    EXPECT_FALSE(x.id.empty());
    EXPECT_TRUE(!x.contact_id.empty() || !x.provider_id.empty());
    const touchpoint::Record rec = to_record(x);
    EXPECT_NO_THROW((void)data_of(rec));
    EXPECT_LT(rec.data.size(), 8u * 1024u);
  }
}

TEST(Hostile, EmptyAndGarbage) {
  EXPECT_FALSE(parse_report("").ok());
  EXPECT_FALSE(parse_report("\n\n\n").ok());
  EXPECT_FALSE(parse_report(std::string(4096, '\xff')).ok());
  EXPECT_FALSE(parse_report(std::string(100, '\0')).ok());
  EXPECT_FALSE(parse_report("Subject: only headers\n").ok());
}

TEST(Hostile, TruncatedAtEveryFewBytes) {
  for (const char* name : kSamples) {
    const std::string full = sample(name);
    for (std::size_t n = 0; n < full.size(); n += 37) expect_sane(parse_report(full.substr(0, n)));
  }
}

TEST(Hostile, TruncatedInsideTheRecipientGroupStillReadsWhatIsThere) {
  const std::string full = sample("postfix_hard.eml");
  const std::size_t cut = full.find("Remote-MTA: dns; mx.example.de");
  ASSERT_NE(cut, std::string::npos);
  const ParseResult r = parse_report(full.substr(0, cut));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.responses.at(0).kind, "bounce_hard");
  EXPECT_EQ(r.responses.at(0).contact_id, "c-3f9a0c1d2e4b5a6978877665");
}

TEST(Hostile, MissingBoundaryIsAnError) {
  std::string s = sample("postfix_hard.eml");
  s = replace(s, ";\n\tboundary=\"4Qx1k23ZlPz9sWn.1764579603/mail.bank.example\"", "");
  const ParseResult r = parse_report(s);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.error.empty());
}

TEST(Hostile, TenThousandRecipientsAreCapped) {
  const auto start = std::chrono::steady_clock::now();
  const ParseResult r = parse_report(many_recipients(10000));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.responses.size(), 100u);
  EXPECT_NE(r.notice.find("lists 10000 recipients; only the first 100"), std::string::npos) << r.notice;
  EXPECT_LT(took, std::chrono::seconds(10));
  ParseLimits wide;
  wide.max_recipients = 10000;
  EXPECT_EQ(parse_report(many_recipients(10000), wide).responses.size(), 10000u);
}

TEST(Hostile, FiveMegabyteHeaderLine) {
  const std::string big(5u * 1024u * 1024u, 'a');
  std::string s = "X-Junk: " + big + "\n" + sample("postfix_hard.eml");
  const ParseResult r = parse_report(s);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.responses.at(0).kind, "bounce_hard");
  // The same inside the machine-readable part: the diagnostic is cut, the record stays small.
  std::string d = replace(sample("postfix_hard.eml"), "Diagnostic-Code: smtp; 550 5.1.1",
                          "Diagnostic-Code: smtp; 550 5.1.1 " + big);
  const ParseResult r2 = parse_report(d);
  ASSERT_TRUE(r2.ok()) << r2.error;
  EXPECT_LE(r2.responses.at(0).diagnostic.size(), 1000u);
  EXPECT_LT(to_record(r2.responses.at(0)).data.size(), 2048u);
  // And a 5-MB Message-ID of the original: the provider id is capped at 256 bytes.
  std::string m = replace(sample("foreign_message_id.eml"), "<4Qx9.legacy-system@bank.example>", "<" + big + "@x>");
  const ParseResult r3 = parse_report(m);
  ASSERT_TRUE(r3.ok()) << r3.error;
  EXPECT_LE(r3.responses.at(0).provider_id.size(), 256u);
}

TEST(Hostile, NulBytes) {
  const std::string base = sample("postfix_hard.eml");
  for (std::size_t at = 0; at < base.size(); at += 53) {
    std::string s = base;
    s.insert(at, std::string("\0\0x\0", 4));
    expect_sane(parse_report(s));
  }
  // A NUL inside the ENVID makes it no contact id; the VERP To still correlates.
  const ParseResult r = parse_report(
      replace(base, "Original-Envelope-Id: c-3f9a", std::string("Original-Envelope-Id: c-\0", 25) + "3f9a"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.responses.at(0).contact_id, "c-3f9a0c1d2e4b5a6978877665");
}

TEST(Hostile, Latin1AndBrokenCharsetsBecomeValidUtf8) {
  std::string s = replace(sample("postfix_hard.eml"), "rejected: User unknown in virtual mailbox table",
                          "rejected: Empf\xe4nger unbekannt \xff\xfe in virtual mailbox table");
  s = replace(s, "Content-Type: message/delivery-status", "Content-Type: message/delivery-status; charset=x-no-such");
  const ParseResult r = parse_report(s);
  ASSERT_TRUE(r.ok()) << r.error;
  const auto d = data_of(to_record(r.responses.at(0)));  // parse would throw on invalid UTF-8
  const std::string diag = d["detail"]["diagnostic"];
  EXPECT_NE(diag.find("Empf\xc3\xa4nger"), std::string::npos) << diag;  // Latin-1 fallback

  std::string e = replace(sample("postfix_hard.eml"), "Diagnostic-Code: smtp; 550 5.1.1",
                          "Diagnostic-Code: smtp; =?x-bogus?Q?=E4=FF?= 550 5.1.1");
  const ParseResult r2 = parse_report(e);
  ASSERT_TRUE(r2.ok()) << r2.error;
  EXPECT_NO_THROW((void)data_of(to_record(r2.responses.at(0))));
}

std::string nested_rfc822(std::size_t depth) {
  std::string inner = "Subject: core\n\nbody\n";
  std::string head, tail;
  for (std::size_t i = 0; i < depth; ++i) head += "Content-Type: message/rfc822\n\n";
  return "From: x@y\nMIME-Version: 1.0\n" + head + inner + tail;
}

std::string nested_multipart(std::size_t depth) {
  std::string s = "From: x@y\nMIME-Version: 1.0\n";
  for (std::size_t i = 0; i < depth; ++i)
    s += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\n\n--b" + std::to_string(i) + "\n";
  s += "Content-Type: text/plain\n\nx\n";
  for (std::size_t i = depth; i-- > 0;) s += "--b" + std::to_string(i) + "--\n";
  return s;
}

TEST(Hostile, NestingBombsAreRefusedUnparsed) {
  const ParseResult r = parse_report(nested_rfc822(100000));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("nested MIME containers"), std::string::npos) << r.error;
  const ParseResult m = parse_report(nested_multipart(5000));
  EXPECT_FALSE(m.ok());
  EXPECT_NE(m.error.find("nested MIME containers"), std::string::npos) << m.error;
  // Folded Content-Type headers count too.
  std::string folded = "From: x@y\n";
  for (int i = 0; i < 1000; ++i) folded += "Content-Type:\n message/rfc822\n\n";
  EXPECT_FALSE(parse_report(folded).ok());
}

TEST(Hostile, NestingUnderTheLimitIsParsedNormally) {
  EXPECT_FALSE(parse_report(nested_rfc822(40)).ok());  // no report inside, but no crash
  EXPECT_FALSE(parse_report(nested_multipart(40)).ok());
  // The report wrapped once in a multipart/mixed (a forwarding system) is found.
  const std::string fwd = "From: relay@x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"W\"\n\n--W\n" +
                          replace(sample("postfix_hard.eml"), "Return-Path: <>\n", "") + "\n--W--\n";
  expect_sane(parse_report(fwd));
}

TEST(Hostile, RandomMutationsOfEverySample) {
  std::mt19937 rng(20261201);  // fixed seed: the same inputs every run
  for (const char* name : kSamples) {
    const std::string base = sample(name);
    for (int round = 0; round < 150; ++round) {
      std::string s = base;
      const int edits = 1 + static_cast<int>(rng() % 8);
      for (int e = 0; e < edits && !s.empty(); ++e) {
        const std::size_t at = rng() % s.size();
        switch (rng() % 4) {
          case 0:
            s[at] = static_cast<char>(rng() & 0xff);
            break;
          case 1:
            s.erase(at, 1 + rng() % 64);
            break;
          case 2:
            s.insert(at, s.substr(rng() % s.size(), rng() % 128));
            break;
          default:
            s.insert(at, 1, "\n:;<>\"=\0+"[rng() % 9]);
            break;
        }
      }
      expect_sane(parse_report(s));
    }
  }
}

}  // namespace
}  // namespace tp_email::intake
