// Against the real postfix: per-recipient failures, a server that goes away
// mid-batch, a server that is not there.
#include "plugin_test_support.hpp"

namespace tp_email::test {
namespace {

using touchpoint::testing::EmittedRecord;

class Failures : public PluginTest {};

TEST_F(Failures, OneBadRecipientDoesNotFailTheOthers) {
  TcpProxy proxy(postfix_.port());
  auto sink = open(proxy.port());
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(random_contact_id());
  const std::vector<EmittedRecord> batch = {message(ids[0], "anna@bank.example"),
                                            message(ids[1], "rejected@bank.example"),
                                            message(ids[2], "tempfail@bank.example"),
                                            message(ids[3], "someone@elsewhere.example"),
                                            message(ids[4], "anna@bank.example", "no-such-template"),
                                            message(ids[5], "bob@bank.example")};
  const auto o = sink->write(batch);
  EXPECT_EQ(o[0].status, TP_OK) << o[0].message;
  EXPECT_EQ(o[1].status, TP_STATUS_PERMANENT);
  EXPECT_NE(o[1].message.find("RCPT TO: 550 5.1.1"), std::string::npos) << o[1].message;
  EXPECT_NE(o[1].message.find("mailbox unavailable"), std::string::npos) << "the server's reply text";
  EXPECT_EQ(o[2].status, TP_STATUS_RETRYABLE);
  EXPECT_NE(o[2].message.find("451 4.3.0"), std::string::npos) << o[2].message;
  EXPECT_EQ(o[3].status, TP_STATUS_PERMANENT);
  EXPECT_NE(o[3].message.find("554 5.7.1"), std::string::npos) << o[3].message;
  EXPECT_EQ(o[4].status, TP_STATUS_PERMANENT);
  EXPECT_NE(o[4].message.find("template 'no-such-template'"), std::string::npos) << o[4].message;
  EXPECT_EQ(o[5].status, TP_OK) << o[5].message;
  EXPECT_EQ(proxy.connections(), 1u) << "RSET after a refused recipient, same connection";
  EXPECT_EQ(wait_for_mail(postfix_.maildir_new("anna"), "X-Touchpoint-Contact: " + ids[0]).size(), 1u);
  EXPECT_EQ(wait_for_mail(postfix_.maildir_new("bob"), "X-Touchpoint-Contact: " + ids[5]).size(), 1u);
  EXPECT_EQ(harness_.counters()["email_messages_total{result=\"sent\"}"], 2);
  EXPECT_EQ(harness_.counters()["email_messages_total{result=\"permanent\"}"], 3);
  EXPECT_EQ(harness_.counters()["email_messages_total{result=\"retryable\"}"], 1);
  for (const auto& l : harness_.logs())
    EXPECT_EQ(l.message.find("rejected@bank.example"), std::string::npos) << "no address in clear: " << l.message;
}

TEST_F(Failures, AServerThatGoesAwayMidBatchLeavesTheRestRetryableNotLost) {
  auto proxy = std::make_unique<TcpProxy>(postfix_.port());
  proxy->go_away_at_message(3);  // cut while the third message's end-of-data is on its way
  auto sink = open(proxy->port());
  std::vector<EmittedRecord> batch;
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(random_contact_id());
    batch.push_back(message(ids.back(), "anna@bank.example"));
  }
  const auto o = sink->write(batch);
  EXPECT_EQ(o[0].status, TP_OK) << o[0].message;
  EXPECT_EQ(o[1].status, TP_OK) << o[1].message;
  for (size_t i = 2; i < o.size(); ++i) EXPECT_EQ(o[i].status, TP_STATUS_RETRYABLE) << i << ": " << o[i].message;
  EXPECT_NE(o[2].message.find("end of DATA"), std::string::npos) << o[2].message;
  EXPECT_NE(o[4].message.find("not attempted"), std::string::npos) << o[4].message;
  // The two that were sent arrived; the cut one was discarded by postfix, not half-delivered.
  EXPECT_EQ(wait_for_mail(postfix_.maildir_new("anna"), "X-Touchpoint-Contact: " + ids[1]).size(), 1u);
  EXPECT_EQ(wait_for_mail(postfix_.maildir_new("anna"), "X-Touchpoint-Contact: " + ids[0]).size(), 1u);

  // The server is back: the hub retries the retryable ones and they all arrive, once each.
  proxy = std::make_unique<TcpProxy>(postfix_.port());
  auto again = open(proxy->port());
  const std::vector<EmittedRecord> retry(batch.begin() + 2, batch.end());
  for (const auto& r : again->write(retry)) EXPECT_EQ(r.status, TP_OK) << r.message;
  for (size_t i = 2; i < ids.size(); ++i)
    EXPECT_EQ(wait_for_mail(postfix_.maildir_new("anna"), "X-Touchpoint-Contact: " + ids[i]).size(), 1u) << i;
  EXPECT_EQ(mail_containing(postfix_.maildir_new("anna"), "X-Touchpoint-Contact: " + ids[2]).size(), 1u)
      << "the cut message was not delivered twice";
}

TEST_F(Failures, NoServerMeansRetryableWithoutHammering) {
  uint16_t dead_port = 0;
  {
    TcpProxy p(1);  // find a free port, then close it
    dead_port = p.port();
  }
  auto sink = open(dead_port);
  std::vector<EmittedRecord> batch;
  for (int i = 0; i < 50; ++i) batch.push_back(message(random_contact_id(), "anna@bank.example"));
  const auto start = std::chrono::steady_clock::now();
  const auto o = sink->write(batch);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  for (const auto& x : o) EXPECT_EQ(x.status, TP_STATUS_RETRYABLE) << x.message;
  EXPECT_NE(o[0].message.find("cannot connect"), std::string::npos) << o[0].message;
  EXPECT_NE(o[49].message.find("not attempted"), std::string::npos) << o[49].message;
  std::string error;
  EXPECT_EQ(sink->check(&error), TP_STATUS_RETRYABLE);
  EXPECT_NE(error.find("cannot connect"), std::string::npos) << error;
}

TEST_F(Failures, RecordsThatAreNotMessagesArePermanent) {
  auto sink = open(postfix_.port());
  EmittedRecord r = message(random_contact_id(), "anna@bank.example");
  r.type = "profile";
  const auto o = sink->write({r});
  EXPECT_EQ(o[0].status, TP_STATUS_PERMANENT);
  EXPECT_NE(o[0].message.find("not 'message'"), std::string::npos);
}

}  // namespace
}  // namespace tp_email::test
