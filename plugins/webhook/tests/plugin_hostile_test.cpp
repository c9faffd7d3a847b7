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

TEST_F(WebhookHostile, SlowlorisIsCutOffByTheHeaderTimeout) {
  open(R"("header_timeout_seconds":1)");
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
    ASSERT_TRUE(wait_until([&] { return counter("webhook_connections") == 1; }));
  }  // closed here
  // The server has handled the close once the connection is gone.
  EXPECT_TRUE(wait_until([&] { return counter("webhook_connections") == 0; }));
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

// ------------------------------------------------- connections and deadlines

// Sends `data` one byte at a time, waiting up to `gap` for the server to close
// the connection after each byte. Returns the bytes sent before it closed
// (all of them when it never did).
size_t trickle(RawSocket& s, std::string_view data, std::chrono::milliseconds gap) {
  for (size_t i = 0; i < data.size(); ++i) {
    if (!s.send_all(data.substr(i, 1))) return i;
    bool closed = false;
    s.read_until_close(gap, &closed);
    if (closed) return i + 1;
  }
  return data.size();
}

TEST_F(WebhookHostile, HeaderDeadlineIsTotalForTheWholeHeader) {
  // Beast's tcp_stream::expires_after sets one deadline for all reads that
  // follow: a client trickling a byte every 250 ms (each read well within the
  // limit) is still cut off when the header has taken 1 s in total.
  open(R"("header_timeout_seconds":1,"read_timeout_seconds":60)");
  RawSocket slow(port_);
  ASSERT_TRUE(slow.connected());
  const std::string header = "POST /ingest HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(40, 'a') + "\r\n\r\n";
  auto start = std::chrono::steady_clock::now();
  size_t sent = trickle(slow, header, 250ms);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(sent, header.size()) << "the trickling client was never cut off";
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 3s);
  expect_still_serving();
}

TEST_F(WebhookHostile, BodyDeadlineIsTotalForTheWholeBody) {
  open(R"("read_timeout_seconds":1,"header_timeout_seconds":60)");
  RawSocket slow(port_);
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(slow.send_all("POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n"));
  const std::string body = R"({"a":")" + std::string(32, 'b') + R"("})";
  ASSERT_EQ(body.size(), 40u);
  auto start = std::chrono::steady_clock::now();
  size_t sent = trickle(slow, body, 250ms);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(sent, body.size()) << "the trickling client was never cut off";
  EXPECT_LT(took, 3s);
  EXPECT_TRUE(harness_.records().empty());
  expect_still_serving();
}

TEST_F(WebhookHostile, SilentNewConnectionIsClosedByTheHeaderDeadline) {
  open(R"("header_timeout_seconds":1)");  // idle_timeout_seconds stays 60
  RawSocket silent(port_);
  ASSERT_TRUE(silent.connected());
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  silent.read_until_close(5000ms, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(WebhookHostile, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  open(R"("idle_timeout_seconds":1)");  // header_timeout_seconds stays 10
  RawSocket s(port_);
  ASSERT_TRUE(s.connected());
  s.send_all("POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
  ASSERT_EQ(RawSocket::complete_responses(s.read_responses(1, 5000ms)), 1u);
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  s.read_until_close(5000ms, &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(WebhookHostile, IdleTimeoutIsSeparateFromTheHeaderDeadline) {
  open(R"("header_timeout_seconds":1,"idle_timeout_seconds":60)");
  RawSocket s(port_);
  ASSERT_TRUE(s.connected());
  const std::string request = "POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
  s.send_all(request);
  ASSERT_EQ(RawSocket::complete_responses(s.read_responses(1, 5000ms)), 1u);
  bool closed = false;
  s.read_until_close(1800ms, &closed);  // longer than the header deadline
  EXPECT_FALSE(closed) << "an idle keep-alive connection is not held to the header deadline";
  s.send_all(request);
  std::string reply = s.read_responses(1, 5000ms);
  EXPECT_EQ(reply.rfind("HTTP/1.1 202", 0), 0u) << reply;
  EXPECT_EQ(harness_.records().size(), 2u);
}

TEST_F(WebhookHostile, ConnectionsOverTheLimitGet503AndOthersAreStillServed) {
  open(R"("max_connections":2)");
  auto second = std::make_unique<HttpClient>();
  ASSERT_EQ(client_.post(url(), "{}").status, 202);  // both stay open (keep-alive)
  ASSERT_EQ(second->post(url(), "{}").status, 202);
  EXPECT_EQ(counter("webhook_connections"), 2);

  RawSocket third(port_);
  ASSERT_TRUE(third.connected());
  bool closed = false;
  std::string reply = third.read_until_close(5000ms, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(reply.rfind("HTTP/1.1 503", 0), 0u) << reply;
  EXPECT_NE(reply.find("Connection: close"), std::string::npos) << reply;
  EXPECT_NE(reply.find("Retry-After: 1"), std::string::npos) << reply;
  EXPECT_EQ(counter("webhook_connections_refused_total"), 1);

  // The open connections keep being served.
  HttpResponse res = client_.post(url(), "{}");
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(res.new_connections, 0) << "served on the existing connection";
  EXPECT_EQ(second->post(url(), "{}").status, 202);

  // A closed connection frees its slot.
  second.reset();
  ASSERT_TRUE(wait_until([&] { return counter("webhook_connections") == 1; }));
  HttpClient fourth;
  EXPECT_EQ(fourth.post(url(), "{}").status, 202);
  EXPECT_EQ(harness_.records().size(), 5u);
}

TEST_F(WebhookHostile, InflightBodyBudgetIs503BeforeTheBodyIsRead) {
  open(R"("max_body_bytes":1000,"max_inflight_bytes":1500)");
  // A holds 1000 bytes of the budget from the moment its 100 Continue is sent.
  RawSocket a(port_);
  ASSERT_TRUE(a.connected());
  a.send_all("POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n");
  std::string cont = a.read_until("\r\n\r\n", 5000ms);
  ASSERT_EQ(cont.rfind("HTTP/1.1 100", 0), 0u) << cont;

  // 800 more do not fit: 503 + Retry-After, without waiting for the body.
  RawSocket b(port_);
  ASSERT_TRUE(b.connected());
  b.send_all("POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Length: 800\r\n\r\n");
  bool closed = false;
  std::string reply = b.read_until_close(5000ms, &closed);
  EXPECT_EQ(reply.rfind("HTTP/1.1 503", 0), 0u) << reply;
  EXPECT_NE(reply.find("Retry-After: 1"), std::string::npos) << reply;
  EXPECT_NE(reply.find("max_inflight_bytes"), std::string::npos) << reply;
  EXPECT_TRUE(closed);

  // A chunked body may take max_body_bytes: it does not fit either.
  HttpClient chunked;
  HttpResponse res = chunked.post(url(), "{}", {"Transfer-Encoding: chunked"});
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.headers["retry-after"], "1");

  // 400 bytes still fit beside A.
  const std::string small = R"({"p":")" + std::string(392, 'x') + R"("})";
  ASSERT_EQ(small.size(), 400u);
  EXPECT_EQ(client_.post(url(), small).status, 202);

  // A finishes; its bytes return to the budget.
  const std::string body = R"({"p":")" + std::string(992, 'x') + R"("})";
  ASSERT_EQ(body.size(), 1000u);
  a.send_all(body);
  reply = a.read_responses(1, 5000ms);
  EXPECT_NE(reply.find("HTTP/1.1 202"), std::string::npos) << reply;
  EXPECT_EQ(client_.post(url(), std::string(R"({"p":")") + std::string(792, 'x') + "\"}").status, 202);
  EXPECT_EQ(counter("webhook_inflight_refused_total"), 2);
  EXPECT_EQ(harness_.records().size(), 3u);
}

}  // namespace
}  // namespace touchpoint::webhook::test
