// Hostile clients must neither crash nor wedge the server.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "test_support.hpp"

namespace touchpoint::webhook::test {
namespace {

using namespace std::chrono_literals;

class WebhookHostile : public WebhookFixture {
 protected:
  void expect_still_serving() {
    HttpClient client;
    HttpResponse res = client.post(url(), R"({"id":"after"})");
    EXPECT_EQ(res.status, 202) << res.error;
  }
};

TEST_F(WebhookHostile, GarbageBytesGet400AndTheServerKeepsWorking) {
  open();
  RawSocket s(port_);
  ASSERT_TRUE(s.connected());
  s.send_all("\x16\x03\x01\x02\x00 GARBAGE \xff\xfe\r\n\r\n");
  bool closed = false;
  std::string reply = s.read_until_close(5000ms, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
  expect_still_serving();
  ASSERT_EQ(harness_.records().size(), 1u);
  EXPECT_EQ(harness_.records()[0].id, "after");
}

TEST_F(WebhookHostile, RandomBinaryNoiseOnManyConnections) {
  open();
  std::mt19937 rng(42);
  for (int i = 0; i < 20; ++i) {
    RawSocket s(port_);
    ASSERT_TRUE(s.connected());
    std::string noise(1 + rng() % 3000, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    s.send_all(noise);
    bool closed = false;
    s.read_until_close(5000ms, &closed);
    EXPECT_TRUE(closed) << "connection " << i << " left open";
  }
  expect_still_serving();
}

TEST_F(WebhookHostile, HugeHeaderIsRefused) {
  open();
  RawSocket s(port_);
  ASSERT_TRUE(s.connected());
  std::string request = "POST /ingest HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
  s.send_all(request);
  bool closed = false;
  std::string reply = s.read_until_close(5000ms, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(reply.rfind("HTTP/1.1 431", 0), 0u) << reply.substr(0, 100);
  expect_still_serving();
}

TEST_F(WebhookHostile, SlowlorisIsCutOffByTheReadTimeout) {
  open(R"("read_timeout_seconds":1)");
  RawSocket slow(port_);
  ASSERT_TRUE(slow.connected());
  slow.send_all("POST /ingest HTTP/1.1\r\nHost: x\r\n");  // ... and never finish
  expect_still_serving();                                 // meanwhile others are served
  bool closed = false;
  auto start = std::chrono::steady_clock::now();
  slow.read_until_close(5000ms, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST_F(WebhookHostile, SlowBodyIsCutOffToo) {
  open(R"("read_timeout_seconds":1)");
  RawSocket slow(port_);
  ASSERT_TRUE(slow.connected());
  slow.send_all("POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"a\":");
  bool closed = false;
  slow.read_until_close(5000ms, &closed);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(harness_.records().empty());
  expect_still_serving();
}

TEST_F(WebhookHostile, ClientVanishingMidBodyEmitsNothing) {
  open();
  {
    RawSocket s(port_);
    ASSERT_TRUE(s.connected());
    s.send_all("POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n[{\"a\":1},");
  }  // closed here
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(harness_.records().empty());
  expect_still_serving();
}

TEST_F(WebhookHostile, PipelinedRequestsAreAnsweredInOrder) {
  open();
  RawSocket s(port_);
  ASSERT_TRUE(s.connected());
  std::string one = "POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"id\":\"1\"}";
  std::string two = "POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"id\":\"2\"}";
  std::string bad = "POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n{bad";
  s.send_all(one + two + bad);
  std::string replies = s.read_responses(3, 5000ms);
  ASSERT_EQ(RawSocket::complete_responses(replies), 3u) << replies;
  size_t first = replies.find("HTTP/1.1 202");
  size_t second = replies.find("HTTP/1.1 202", first + 1);
  size_t third = replies.find("HTTP/1.1 400", second + 1);
  EXPECT_NE(first, std::string::npos);
  EXPECT_NE(second, std::string::npos);
  EXPECT_NE(third, std::string::npos);
  auto records = harness_.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].id, "1");
  EXPECT_EQ(records[1].id, "2");
}

TEST_F(WebhookHostile, ManyIdleConnectionsDoNotBlockService) {
  open();
  std::vector<std::unique_ptr<RawSocket>> idle;
  for (int i = 0; i < 200; ++i) {
    idle.push_back(std::make_unique<RawSocket>(port_));
    ASSERT_TRUE(idle.back()->connected());
  }
  expect_still_serving();
}

TEST_F(WebhookHostile, HttpOneZeroWithoutKeepAliveIsClosedAfterTheResponse) {
  open();
  RawSocket s(port_);
  ASSERT_TRUE(s.connected());
  s.send_all("POST /ingest HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}");
  bool closed = false;
  std::string reply = s.read_until_close(5000ms, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(reply.rfind("HTTP/1.0 202", 0), 0u) << reply;
}

}  // namespace
}  // namespace touchpoint::webhook::test
