// Against the real postfix: delivery into the Maildir with the right headers,
// a real DSN for an unknown user, connection reuse and throughput, STARTTLS.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "plugin_test_support.hpp"

namespace tp_email::test {
namespace {

using touchpoint::testing::EmittedRecord;

class Delivery : public PluginTest {};

TEST_F(Delivery, ABatchArrivesInTheMaildirWithTheHeaders) {
  TcpProxy proxy(postfix_.port());
  auto sink = open(proxy.port());
  std::vector<EmittedRecord> batch;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(random_contact_id());
    batch.push_back(message(ids.back(), i % 2 ? "bob@bank.example" : "anna@bank.example"));
  }
  tp_status overall = TP_STATUS_INTERNAL;
  const auto outcomes = sink->write(batch, &overall);
  ASSERT_EQ(overall, TP_OK);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(outcomes[i].status, TP_OK) << outcomes[i].message;
    EXPECT_EQ(outcomes[i].message, ids[i] + "@mail.bank.example") << "the provider id is the Message-ID";
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto mails = wait_for_mail(postfix_.maildir_new(i % 2 ? "bob" : "anna"), "X-Touchpoint-Contact: " + ids[i]);
    ASSERT_EQ(mails.size(), 1u) << ids[i];
    ParsedMail p(mails[0]);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p.header("Return-Path"), "<bounces+" + ids[i] + "@bank.example>") << "VERP";
    EXPECT_EQ(p.header("Message-Id"), "<" + ids[i] + "@mail.bank.example>");
    EXPECT_EQ(p.header("List-Unsubscribe").rfind("<https://bank.example/u/" + ids[i] + ".", 0), 0u);
    EXPECT_EQ(p.header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
    EXPECT_EQ(p.to_name(), "Anna Müller");
    EXPECT_EQ(p.subject(), "Anna, Ihr Zinssatz: 3.1 %");
    EXPECT_EQ(p.content_type(), "multipart/alternative");
  }
  EXPECT_EQ(proxy.connections(), 1u) << "one connection for the batch";
  // Postfix logged the sender and the Message-ID of each.
  const std::string log = postfix_.log();
  EXPECT_NE(log.find("from=<bounces+" + ids[0] + "@bank.example>"), std::string::npos);
  EXPECT_NE(log.find("message-id=<" + ids[0] + "@mail.bank.example>"), std::string::npos);
  EXPECT_FALSE(logged("does not advertise DSN")) << "postfix offers DSN";
}

TEST_F(Delivery, AnUnknownUserBouncesWithARealDsnToTheVerpAddress) {
  auto sink = open(postfix_.port());
  const std::string cid = random_contact_id();
  const auto outcomes = sink->write({message(cid, "nobody-here@bank.example")});
  ASSERT_EQ(outcomes[0].status, TP_OK) << "accepted at RCPT, bounced later";
  const auto dsns = wait_for_mail(postfix_.maildir_new("bounces"), "Original-Envelope-Id: " + cid);
  ASSERT_EQ(dsns.size(), 1u) << "no DSN for " << cid << "\n" << postfix_.log();
  const std::string& dsn = dsns[0];
  ParsedMail p(dsn);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.content_type(), "multipart/report");
  EXPECT_NE(p.header("Content-Type").find("report-type=delivery-status"), std::string::npos);
  EXPECT_EQ(p.header("Return-Path"), "<>") << "a bounce has the null sender";
  EXPECT_EQ(p.header("To"), "bounces+" + cid + "@bank.example") << "the VERP address carries the contact id";
  EXPECT_NE(dsn.find("Delivered-To: bounces+" + cid + "@bank.example"), std::string::npos);
  // ENVID and ORCPT made it to the report; RET=HDRS returned only the headers.
  EXPECT_NE(dsn.find("Final-Recipient: rfc822; nobody-here@bank.example"), std::string::npos);
  EXPECT_NE(dsn.find("Original-Recipient: rfc822;nobody-here@bank.example"), std::string::npos);
  EXPECT_NE(dsn.find("Status: 5.1.1"), std::string::npos);
  EXPECT_NE(dsn.find("Content-Type: text/rfc822-headers"), std::string::npos);
  EXPECT_EQ(dsn.find("Content-Type: message/rfc822"), std::string::npos);
  EXPECT_NE(dsn.find("Message-Id: <" + cid + "@mail.bank.example>"), std::string::npos);
  EXPECT_NE(dsn.find("X-Touchpoint-Contact: " + cid), std::string::npos);
  if (const char* save = std::getenv("TP_EMAIL_SAVE_DSN")) write_file(save, dsn);
}

TEST_F(Delivery, OneConnectionAcrossBatchesReconnectAfterTheServerDroppedIt) {
  TcpProxy proxy(postfix_.port());
  auto sink = open(proxy.port());
  constexpr int kBatches = 3, kPerBatch = 100;
  const std::string tag = random_contact_id().substr(0, 14);
  const auto start = std::chrono::steady_clock::now();
  for (int b = 0; b < kBatches; ++b) {
    std::vector<EmittedRecord> batch;
    for (int i = 0; i < kPerBatch; ++i) {
      char suffix[16];
      std::snprintf(suffix, sizeof(suffix), "%02d%08d", b, i);
      batch.push_back(message(tag + suffix, "anna@bank.example"));
    }
    for (const auto& o : sink->write(batch)) ASSERT_EQ(o.status, TP_OK) << o.message;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(proxy.connections(), 1u) << kBatches * kPerBatch << " messages over one connection";
  std::printf("[ email ] %d messages over 1 connection in %.3f s: %.0f messages/s\n", kBatches * kPerBatch, seconds,
              kBatches * kPerBatch / seconds);
  RecordProperty("messages_per_second", static_cast<int>(kBatches * kPerBatch / seconds));

  proxy.drop_connections();  // like smtpd_timeout closing an idle connection
  const std::string cid = random_contact_id();
  const auto outcomes = sink->write({message(cid, "anna@bank.example")});
  EXPECT_EQ(outcomes[0].status, TP_OK) << outcomes[0].message;
  EXPECT_EQ(proxy.connections(), 2u) << "noticed at RSET, reconnected, sent";
  EXPECT_EQ(wait_for_mail(postfix_.maildir_new("anna"), "X-Touchpoint-Contact: " + cid).size(), 1u);
  EXPECT_EQ(wait_for_mail(postfix_.maildir_new("anna"), "X-Touchpoint-Contact: " + tag, kBatches * kPerBatch).size(),
            static_cast<size_t>(kBatches * kPerBatch));
}

TEST_F(Delivery, StartTlsWithTheServerCertificateVerified) {
  auto cfg = nlohmann::json::parse(sink_config(templates_.path(), postfix_.port()));
  cfg["smtp"]["tls"] = "required";
  cfg["smtp"]["ca_file"] = (postfix_.dir() / "etc" / "cert.pem").string();
  auto tls = harness_.open(cfg.dump());
  const std::string cid = random_contact_id();
  const auto outcomes = tls->write({message(cid, "anna@bank.example")});
  ASSERT_EQ(outcomes[0].status, TP_OK) << outcomes[0].message;
  EXPECT_EQ(wait_for_mail(postfix_.maildir_new("anna"), "X-Touchpoint-Contact: " + cid).size(), 1u);
  EXPECT_NE(postfix_.log().find("TLS connection established from"), std::string::npos);
}

TEST_F(Delivery, StartTlsRefusesAnUntrustedCertificate) {
  auto cfg = nlohmann::json::parse(sink_config(templates_.path(), postfix_.port()));
  cfg["smtp"]["tls"] = "required";  // system CAs only: the fixture's self-signed certificate is not trusted
  auto tls = harness_.open(cfg.dump());
  const auto outcomes = tls->write({message(random_contact_id(), "anna@bank.example")});
  EXPECT_EQ(outcomes[0].status, TP_STATUS_RETRYABLE);
  EXPECT_NE(outcomes[0].message.find("ertificate"), std::string::npos) << outcomes[0].message;
}

TEST_F(Delivery, TheRateLimitSpacesMessages) {
  auto sink = open(postfix_.port(), "", ",\"rate_per_second\":10");
  std::vector<EmittedRecord> batch;
  for (int i = 0; i < 15; ++i) batch.push_back(message(random_contact_id(), "anna@bank.example"));
  const auto start = std::chrono::steady_clock::now();
  for (const auto& o : sink->write(batch)) ASSERT_EQ(o.status, TP_OK) << o.message;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(seconds, 0.45) << "a burst of 10, then 5 at 10/s";
  EXPECT_LT(seconds, 5.0);
}

TEST_F(Delivery, ABatchIsSpreadOverTheConfiguredConnectionsAndEveryMessageArrivesOnce) {
  TcpProxy proxy(postfix_.port());
  auto sink = open(proxy.port(), R"(,"connections":4)");
  constexpr int kMessages = 400;
  const std::string tag = random_contact_id().substr(0, 14);
  std::vector<EmittedRecord> batch;
  for (int i = 0; i < kMessages; ++i) {
    char suffix[16];
    std::snprintf(suffix, sizeof(suffix), "%010d", i);
    batch.push_back(message(tag + suffix, "anna@bank.example"));
  }
  batch.push_back({"not-a-message", "profile", "42", "{}", "{}", 0});  // reported in its place, not sent
  const auto start = std::chrono::steady_clock::now();
  const auto outcomes = sink->write(batch);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(outcomes.size(), batch.size());
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_EQ(outcomes[i].status, TP_OK) << i << ": " << outcomes[i].message;
    EXPECT_EQ(outcomes[i].message, batch[i].id + "@mail.bank.example") << "the id of record " << i;
  }
  EXPECT_EQ(outcomes[kMessages].status, TP_STATUS_PERMANENT);
  EXPECT_EQ(proxy.connections(), 4u);
  std::printf("[ email ] %d messages over 4 connections in %.3f s: %.0f messages/s\n", kMessages, seconds,
              kMessages / seconds);
  RecordProperty("messages_per_second_4_connections", static_cast<int>(kMessages / seconds));
  const auto arrived = wait_for_mail(postfix_.maildir_new("anna"), "X-Touchpoint-Contact: " + tag, kMessages);
  EXPECT_EQ(arrived.size(), static_cast<size_t>(kMessages));
}

}  // namespace
}  // namespace tp_email::test
