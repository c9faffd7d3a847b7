// End-to-end tests: the real libtp_webhook.so loaded through the SDK harness,
// driven over loopback with libcurl.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "test_support.hpp"
#include "tp_common/sha256.hpp"
#include "tp_common/signature.hpp"

namespace touchpoint::webhook::test {
namespace {

using namespace std::chrono_literals;

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class WebhookHttp : public WebhookFixture {};

TEST_F(WebhookHttp, OpenWritesPortFileLogsAndSetsGauge) {
  open();
  EXPECT_EQ(counter("webhook_listening_port"), port_);
  bool logged = false;
  for (const auto& line : harness_.logs())
    if (line.message == "listening on 127.0.0.1:" + std::to_string(port_)) logged = true;
  EXPECT_TRUE(logged);
  EXPECT_EQ(instance_->check(), TP_OK);
  EXPECT_EQ(instance_->read(), TP_OK);
  EXPECT_TRUE(harness_.records().empty());
}

TEST_F(WebhookHttp, SingleObjectIsAcknowledgedAfterItIsDurable) {
  open();
  HttpResponse res = client_.post(url(), R"({ "id": "u1", "email": "a@b.c", "n": 1 })");
  ASSERT_EQ(res.error, "");
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(res.body, R"({"accepted":1})");
  EXPECT_EQ(res.headers["content-type"], "application/json");
  // The 202 is only written from the done callback, so the record is already there.
  auto records = harness_.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].id, "u1");
  EXPECT_EQ(records[0].type, "event");
  EXPECT_EQ(records[0].key, "");
  EXPECT_EQ(records[0].ts_ms, 0);
  EXPECT_EQ(records[0].data, R"({"id":"u1","email":"a@b.c","n":1})");
  EXPECT_EQ(harness_.cursors().size(), 1u);
  EXPECT_EQ(counter("webhook_requests_total{status=202}"), 1);
  EXPECT_EQ(counter("webhook_records_total"), 1);
}

TEST_F(WebhookHttp, ArrayOfObjectsIsOneUnit) {
  open();
  const std::string body = R"([{"id":"a","v":1},{"id":"b","v":[1,2]},{"v":{"x":null}}])";
  HttpResponse res = client_.post(url(), body);
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(res.body, R"({"accepted":3})");
  auto records = harness_.records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].id, "a");
  EXPECT_EQ(records[1].data, R"({"id":"b","v":[1,2]})");
  EXPECT_EQ(records[2].id, tp_common::sha256_hex(body).substr(0, 32) + ":2") << "derived: see WebhookIds";
  EXPECT_EQ(records[2].data, R"({"v":{"x":null}})");
  EXPECT_EQ(harness_.cursors().size(), 1u) << "one emit per request";
  EXPECT_EQ(counter("webhook_records_total"), 3);
}

TEST_F(WebhookHttp, NdjsonWithBlankLinesAndCrlf) {
  open(R"("threads":1)");
  HttpResponse res = client_.post(url(), "{\"id\":\"1\"}\r\n\r\n{\"id\":\"2\"}\n   \n{\"id\":\"3\",\"k\":true}\n");
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(res.body, R"({"accepted":3})");
  auto records = harness_.records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].id, "1");
  EXPECT_EQ(records[2].data, R"({"id":"3","k":true})");
}

TEST_F(WebhookHttp, EnvelopeForm) {
  open();
  HttpResponse res = client_.post(url(), R"({"id":"e1","type":"profile","key":"cust-9","ts":"2024-01-02T03:04:05.678Z",
                                             "data":{"email":"x@y.z"},"meta":{"src":"crm"}})");
  EXPECT_EQ(res.status, 202);
  auto records = harness_.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].id, "e1");
  EXPECT_EQ(records[0].type, "profile");
  EXPECT_EQ(records[0].key, "cust-9");
  EXPECT_EQ(records[0].ts_ms, 1704164645678);
  EXPECT_EQ(records[0].data, R"({"email":"x@y.z"})");
  EXPECT_EQ(records[0].meta, R"({"src":"crm"})");
}

TEST_F(WebhookHttp, SegmentMessageIdBecomesTheRecordId) {
  open();
  HttpResponse res = client_.post(url(), R"({"messageId":"ajs-123","type":"track","event":"Signed Up"})");
  EXPECT_EQ(res.status, 202);
  auto records = harness_.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].id, "ajs-123");
  EXPECT_EQ(records[0].type, "event");  // the configured type: "type" is not an envelope here
}

TEST_F(WebhookHttp, ConfiguredTypeIdFieldAndKeyField) {
  open(R"("type":"profile","id_field":"user_id","key_field":"email","path":"/hooks/crm")");
  HttpResponse res = client_.post(url("/hooks/crm"), R"({"user_id":42,"email":"a@b.c"})");
  EXPECT_EQ(res.status, 202);
  auto records = harness_.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].id, "42");
  EXPECT_EQ(records[0].key, "a@b.c");
  EXPECT_EQ(records[0].type, "profile");
  EXPECT_EQ(client_.post(url("/ingest"), "{}").status, 404);
}

TEST_F(WebhookHttp, EmptyArrayIsAcceptedWithoutEmitting) {
  open();
  HttpResponse res = client_.post(url(), "[]");
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(res.body, R"({"accepted":0})");
  EXPECT_TRUE(harness_.cursors().empty());
}

TEST_F(WebhookHttp, MalformedJsonIs400WithPosition) {
  open();
  HttpResponse res = client_.post(url(), R"({"a":1,})");
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find(R"("error":"malformed JSON)"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find(R"("position":7})"), std::string::npos) << res.body;
  EXPECT_TRUE(harness_.records().empty());
  EXPECT_EQ(counter("webhook_requests_total{status=400}"), 1);
}

TEST_F(WebhookHttp, TruncatedBodyIs400AtTheEnd) {
  open();
  const std::string body = R"([{"a":1},{"b":)";
  HttpResponse res = client_.post(url(), body);
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("truncated"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find("\"position\":" + std::to_string(body.size()) + "}"), std::string::npos) << res.body;
  EXPECT_TRUE(harness_.records().empty());
}

TEST_F(WebhookHttp, InvalidUtf8Is400) {
  open();
  HttpResponse res = client_.post(url(), "{\"a\":\"\xff\xfe\"}");
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("UTF-8"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find(R"("position":6})"), std::string::npos) << res.body;
  EXPECT_TRUE(harness_.records().empty());
}

TEST_F(WebhookHttp, NdjsonErrorsReportTheLine) {
  open();
  HttpResponse res = client_.post(url(), "{\"a\":1}\n{\"b\":2}\n{\"c\":\n");
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("line 3"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find(R"("position":3})"), std::string::npos) << res.body;
  EXPECT_TRUE(harness_.records().empty()) << "a bad line rejects the whole request";
}

TEST_F(WebhookHttp, NonObjectElementIs400) {
  open();
  HttpResponse res = client_.post(url(), R"([{"a":1}, 17])");
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("not a JSON object"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find(R"("position":10})"), std::string::npos) << res.body;
  EXPECT_EQ(client_.post(url(), R"("just a string")").status, 400);
  EXPECT_TRUE(harness_.records().empty());
}

std::string nested(int levels) {
  std::string s;
  for (int i = 0; i < levels; ++i) s += "{\"a\":";
  s += "1";
  for (int i = 0; i < levels; ++i) s += "}";
  return s;
}

TEST_F(WebhookHttp, DeeplyNestedBodyIs400) {
  open();
  HttpResponse res = client_.post(url(), nested(1000));
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("nested deeper than 64"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find(R"("position":320})"), std::string::npos) << res.body;  // the 65th '{'
  EXPECT_EQ(client_.post(url(), nested(65)).status, 400);
  EXPECT_EQ(client_.post(url(), nested(64)).status, 202);
  EXPECT_EQ(harness_.records().size(), 1u);
}

TEST_F(WebhookHttp, TooManyRecordsIs400) {
  open(R"("max_records_per_request":2)");
  HttpResponse res = client_.post(url(), R"([{"a":1},{"a":2},{"a":3}])");
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("too many records"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find(R"("position":17})"), std::string::npos) << res.body;
  EXPECT_EQ(client_.post(url(), R"([{"a":1},{"a":2}])").status, 202);
  EXPECT_EQ(harness_.records().size(), 2u);
}

TEST_F(WebhookHttp, HugeBodyIs413) {
  open();
  std::string body = "[";
  while (body.size() < 11u * 1024 * 1024)
    body += R"({"padding":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},)";
  body += "{}]";
  HttpResponse res = client_.post(url(), body);  // libcurl sends Expect: 100-continue
  EXPECT_EQ(res.status, 413);
  EXPECT_NE(res.body.find("max_body_bytes"), std::string::npos) << res.body;
  EXPECT_TRUE(harness_.records().empty());
  EXPECT_EQ(client_.post(url(), "{}").status, 202);
}

TEST_F(WebhookHttp, ContentLengthOverTheLimitIs413) {
  open(R"("max_body_bytes":1024)");
  HttpResponse res = client_.post(url(), "[" + std::string(4000, ' ') + "]", {"Expect:"});
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(client_.post(url(), "[" + std::string(1000, ' ') + "]").status, 202);
}

TEST_F(WebhookHttp, ChunkedBodyOverTheLimitIs413) {
  open(R"("max_body_bytes":1024)");
  std::string body = "[";
  for (int i = 0; i < 200; ++i) body += R"({"i":12345},)";
  body += "{}]";
  HttpResponse res = client_.post(url(), body, {"Transfer-Encoding: chunked", "Expect:"});
  EXPECT_EQ(res.status, 413);
  EXPECT_TRUE(harness_.records().empty());
  res = client_.post(url(), R"([{"i":1},{"i":2}])", {"Transfer-Encoding: chunked"});
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(harness_.records().size(), 2u);
}

TEST_F(WebhookHttp, WrongPathAndMethod) {
  open();
  HttpResponse res = client_.post(url("/other"), "{}");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.headers["content-type"], "application/json");
  res = client_.request("GET", url(), "");
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.headers["allow"], "POST, OPTIONS");
  EXPECT_EQ(client_.request("PUT", url(), "{}").status, 405);
  EXPECT_EQ(client_.post(url("/ingest?source=crm"), "{}").status, 202) << "the query string is ignored";
  EXPECT_EQ(harness_.records().size(), 1u);
  EXPECT_EQ(counter("webhook_requests_total{status=404}"), 1);
  EXPECT_EQ(counter("webhook_requests_total{status=405}"), 2);
}

TEST_F(WebhookHttp, KeepAliveServesSeveralRequestsOnOneConnection) {
  open();
  for (int i = 0; i < 5; ++i) {
    HttpResponse res = client_.post(url(), "{\"id\":\"" + std::to_string(i) + "\"}");
    EXPECT_EQ(res.status, 202);
    EXPECT_EQ(res.new_connections, i == 0 ? 1 : 0) << "request " << i;
  }
  // Error responses with a fully read body keep the connection too.
  EXPECT_EQ(client_.post(url(), "{bad").status, 400);
  EXPECT_EQ(client_.post(url(), "{}").new_connections, 0);
  EXPECT_EQ(harness_.records().size(), 6u);
}

TEST_F(WebhookHttp, BackpressureIs503WithRetryAfterAndEmitsNothing) {
  open();
  harness_.refuse_emits(TP_STATUS_BACKPRESSURE);
  HttpResponse res = client_.post(url(), R"([{"a":1},{"a":2}])");
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.headers["retry-after"], "1");
  EXPECT_TRUE(harness_.records().empty());
  EXPECT_TRUE(harness_.cursors().empty());
  harness_.refuse_emits(TP_OK);
  res = client_.post(url(), R"([{"a":1},{"a":2}])");
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(harness_.records().size(), 2u);
  EXPECT_EQ(counter("webhook_requests_total{status=503}"), 1);
  EXPECT_EQ(counter("webhook_records_total"), 2);
}

TEST_F(WebhookHttp, ShuttingDownIs503WithoutRetryHint) {
  open();
  harness_.refuse_emits(TP_STATUS_SHUTTING_DOWN);
  HttpResponse res = client_.post(url(), "{}");
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.headers.count("retry-after"), 0u);
  EXPECT_TRUE(harness_.records().empty());
}

TEST_F(WebhookHttp, ConcurrentClients) {
  open(R"("threads":2)");
  constexpr int kClients = 4, kRequests = 40, kPerRequest = 25;
  std::vector<std::future<int>> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(std::async(std::launch::async, [&, c] {
      HttpClient client;
      int ok = 0;
      for (int r = 0; r < kRequests; ++r) {
        std::string body = "[";
        for (int i = 0; i < kPerRequest; ++i)
          body += (i ? "," : "") + std::string(R"({"id":")") + std::to_string(c) + "-" + std::to_string(r) + "-" +
                  std::to_string(i) + R"(","v":)" + std::to_string(i) + "}";
        body += "]";
        if (client.post(url(), body).status == 202) ++ok;
      }
      return ok;
    }));
  }
  for (auto& f : clients) EXPECT_EQ(f.get(), kRequests);
  EXPECT_EQ(harness_.records().size(), static_cast<size_t>(kClients * kRequests * kPerRequest));
  EXPECT_EQ(counter("webhook_records_total"), kClients * kRequests * kPerRequest);
}

TEST_F(WebhookHttp, DiscoverDescribesThePath) {
  open(R"("path":"/hooks/in")");
  std::string json;
  ASSERT_EQ(instance_->discover(&json), TP_OK);
  EXPECT_EQ(json, R"({"streams":[{"name":"/hooks/in","formats":["json","json-array","ndjson"]}]})");
}

TEST_F(WebhookHttp, CloseIsPromptWithIdleKeepAliveConnections) {
  open();
  EXPECT_EQ(client_.post(url(), "{}").status, 202);  // the connection stays open
  RawSocket idle(port_);
  ASSERT_TRUE(idle.connected());
  auto start = std::chrono::steady_clock::now();
  instance_->close();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_NE(client_.post(url(), "{}").status, 202);
}

TEST_F(WebhookHttp, ValidateRejectsBadConfigNamingTheKey) {
  std::string error;
  EXPECT_EQ(harness_.validate(R"({"listen":"127.0.0.1:0","path":"/in","secret":"s3cret"})", &error), TP_OK) << error;
  EXPECT_EQ(harness_.validate(R"({"listn":"127.0.0.1:0"})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("'listn'"), std::string::npos) << error;
  EXPECT_EQ(harness_.validate(R"({"path":"ingest"})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("'path'"), std::string::npos) << error;
  EXPECT_EQ(harness_.validate(R"({"listen":"nowhere"})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("'listen'"), std::string::npos) << error;
  EXPECT_EQ(harness_.validate(R"({"secret":"whsec_!!!"})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("'secret'"), std::string::npos) << error;
  EXPECT_EQ(harness_.validate(R"({"threads":0})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("'threads'"), std::string::npos) << error;
  // A failing open() is tested with the manual host (plugin_manual_host_test.cpp):
  // testing::Harness::open terminates the process when open fails (an SDK bug).
}

// ------------------------------------------------------------- signatures

class WebhookSignatures : public WebhookFixture {
 protected:
  static constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  void SetUp() override { open(std::string(R"("secret":")") + kSecret + "\""); }

  static std::vector<std::string> headers(const std::string& id, int64_t ts, const std::string& signature) {
    std::vector<std::string> h;
    if (!id.empty()) h.push_back("webhook-id: " + id);
    if (ts != 0) h.push_back("webhook-timestamp: " + std::to_string(ts));
    if (!signature.empty()) h.push_back("webhook-signature: " + signature);
    return h;
  }
  std::string sign(const std::string& id, int64_t ts, const std::string& body) const {
    return signer_.sign(id, std::to_string(ts), body);
  }
  tp_common::SignatureVerifier signer_{kSecret, 300};
};

TEST_F(WebhookSignatures, ValidSignatureIsAccepted) {
  const std::string body = R"({"id":"s1"})";
  int64_t ts = now_seconds();
  HttpResponse res = client_.post(url(), body, headers("msg_1", ts, sign("msg_1", ts, body)));
  EXPECT_EQ(res.status, 202) << res.body;
  ASSERT_EQ(harness_.records().size(), 1u);
  EXPECT_EQ(harness_.records()[0].id, "s1");
}

TEST_F(WebhookSignatures, WrongSignatureIs401) {
  const std::string body = R"({"id":"s1"})";
  int64_t ts = now_seconds();
  HttpResponse res = client_.post(url(), body, headers("msg_1", ts, sign("msg_1", ts, R"({"id":"s2"})")));
  EXPECT_EQ(res.status, 401);
  EXPECT_NE(res.body.find("no matching signature"), std::string::npos) << res.body;
  res = client_.post(url(), body, headers("msg_2", ts, sign("msg_1", ts, body)));  // signed for another id
  EXPECT_EQ(res.status, 401);
  EXPECT_TRUE(harness_.records().empty());
  EXPECT_EQ(counter("webhook_requests_total{status=401}"), 2);
}

TEST_F(WebhookSignatures, ExpiredOrFutureTimestampIs401) {
  const std::string body = R"({"id":"s1"})";
  int64_t old_ts = now_seconds() - 3600;
  HttpResponse res = client_.post(url(), body, headers("msg_1", old_ts, sign("msg_1", old_ts, body)));
  EXPECT_EQ(res.status, 401);
  EXPECT_NE(res.body.find("tolerance"), std::string::npos) << res.body;
  int64_t future_ts = now_seconds() + 3600;
  EXPECT_EQ(client_.post(url(), body, headers("msg_1", future_ts, sign("msg_1", future_ts, body))).status, 401);
  EXPECT_TRUE(harness_.records().empty());
}

TEST_F(WebhookSignatures, MissingHeadersAre401) {
  const std::string body = R"({"id":"s1"})";
  int64_t ts = now_seconds();
  EXPECT_EQ(client_.post(url(), body).status, 401);
  EXPECT_EQ(client_.post(url(), body, headers("", ts, sign("", ts, body))).status, 401);
  EXPECT_EQ(client_.post(url(), body, headers("msg_1", 0, sign("msg_1", ts, body))).status, 401);
  EXPECT_EQ(client_.post(url(), body, headers("msg_1", ts, "")).status, 401);
  EXPECT_TRUE(harness_.records().empty());
}

TEST_F(WebhookSignatures, OneValidSignatureAmongSeveralIsEnough) {
  const std::string body = R"([{"id":"r1"},{"id":"r2"}])";
  int64_t ts = now_seconds();
  tp_common::SignatureVerifier old_key("whsec_" + std::string("c2VjcmV0LWtleS1iZWZvcmUtcm90YXRpb24="), 300);
  std::string sigs =
      "v2,bm90LWEtdjEtc2lnbmF0dXJl " + old_key.sign("msg_9", std::to_string(ts), body) + " " + sign("msg_9", ts, body);
  HttpResponse res = client_.post(url(), body, headers("msg_9", ts, sigs));
  EXPECT_EQ(res.status, 202) << res.body;
  EXPECT_EQ(harness_.records().size(), 2u);
  // Only non-matching ones: rejected.
  sigs = old_key.sign("msg_9", std::to_string(ts), body) + " v1,AAAA";
  EXPECT_EQ(client_.post(url(), body, headers("msg_9", ts, sigs)).status, 401);
}

TEST(WebhookRawSecret, RawStringSecretWorks) {
  touchpoint::testing::Harness harness(TP_WEBHOOK_PLUGIN);
  auto port_file = std::filesystem::temp_directory_path() / ("tp_webhook_raw_" + std::to_string(::getpid()));
  auto inst = harness.open(R"({"listen":"127.0.0.1:0","secret":"plain text secret","port_file":")" +
                           port_file.string() + "\"}");
  int port = 0;
  std::ifstream(port_file) >> port;
  std::filesystem::remove(port_file);
  ASSERT_GT(port, 0);
  tp_common::SignatureVerifier signer("plain text secret", 300);
  const std::string body = "{}";
  const std::string ts = std::to_string(now_seconds());
  HttpClient client;
  HttpResponse res =
      client.post("http://127.0.0.1:" + std::to_string(port) + "/ingest", body,
                  {"webhook-id: m1", "webhook-timestamp: " + ts, "webhook-signature: " + signer.sign("m1", ts, body)});
  EXPECT_EQ(res.status, 202) << res.body;
  EXPECT_EQ(harness.records().size(), 1u);
}

}  // namespace
}  // namespace touchpoint::webhook::test
