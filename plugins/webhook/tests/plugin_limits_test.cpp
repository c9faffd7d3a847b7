// The real plugin over loopback: the host's record limits, deterministic
// record ids, replay protection and the Content-Type check.
#include <gtest/gtest.h>
#include <touchpoint/abi.h>

#include <chrono>
#include <set>

#include "test_support.hpp"
#include "tp_common/sha256.hpp"
#include "tp_common/signature.hpp"

namespace touchpoint::webhook::test {
namespace {

using namespace std::chrono_literals;

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string body_id(std::string_view body, size_t index) {
  return tp_common::sha256_hex(body).substr(0, 32) + ":" + std::to_string(index);
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------- limits

class WebhookLimits : public WebhookFixture {};

TEST_F(WebhookLimits, BodyLimitOverTheUnitLimitIsAConfigError) {
  std::string error;
  EXPECT_EQ(harness_.validate(R"({"max_body_bytes":67108864})", &error), TP_OK) << error;
  EXPECT_EQ(harness_.validate(R"({"max_body_bytes":67108865})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_TRUE(contains(error, "'max_body_bytes'")) << error;
  EXPECT_TRUE(contains(error, "67108864")) << error;
}

TEST_F(WebhookLimits, UnitOverTheHostLimitIs413AndNothingIsEmitted) {
  // 210,000 empty objects: a 630 KB body, but as a unit over 64 MiB: each
  // record is "{}" plus a 64-byte type, a derived id of about 207 bytes (the
  // Idempotency-Key and the index) and 64 bytes of overhead.
  const std::string type(64, 't');
  open(R"("max_records_per_request":1000000,"type":")" + type + "\"");
  const std::vector<std::string> headers = {"Idempotency-Key: " + std::string(200, 'k')};
  std::string body = "[";
  for (int i = 0; i < 210000; ++i) body += i ? ",{}" : "{}";
  body += "]";
  HttpResponse res = client_.post(url(), body, headers);
  EXPECT_EQ(res.status, 413) << res.body.substr(0, 300);
  EXPECT_TRUE(contains(res.body, "TP_MAX_UNIT_BYTES")) << res.body;
  EXPECT_TRUE(contains(res.body, "split it into smaller requests")) << res.body;
  EXPECT_TRUE(harness_.records().empty());
  EXPECT_TRUE(harness_.cursors().empty()) << "nothing was emitted";
  // 190,000 of them fit (about 64,000,000 bytes): accepted in one unit.
  body.resize(3 * 190000 + 1);
  body.back() = ']';
  res = client_.post(url(), body, headers);
  EXPECT_EQ(res.status, 202) << res.body.substr(0, 300);
  EXPECT_EQ(res.body, R"({"accepted":190000})");
  EXPECT_EQ(harness_.cursors().size(), 1u);
}

TEST_F(WebhookLimits, RecordOverTheHostLimitIs413NamingTheRecord) {
  open(R"("max_body_bytes":20971520)");
  const std::string big(TP_MAX_RECORD_BYTES, 'x');  // with its quotes and key, over 16 MiB
  HttpResponse res = client_.post(url(), R"([{"a":1},{"big":")" + big + R"("}])");
  EXPECT_EQ(res.status, 413);
  EXPECT_TRUE(contains(res.body, "record 1: data + meta is 16777226 bytes")) << res.body;
  EXPECT_TRUE(contains(res.body, "TP_MAX_RECORD_BYTES")) << res.body;
  // data and meta count together.
  const std::string half(TP_MAX_RECORD_BYTES / 2, 'x');
  res = client_.post(url(), R"({"data":{"s":")" + half + R"("},"meta":{"s":")" + half + R"("}})");
  EXPECT_EQ(res.status, 413);
  EXPECT_TRUE(contains(res.body, "record 0: data + meta")) << res.body;
  EXPECT_TRUE(harness_.cursors().empty());
  // Just under the limit is fine.
  res = client_.post(url(), R"({"s":")" + std::string(TP_MAX_RECORD_BYTES - 8, 'x') + R"("})");
  EXPECT_EQ(res.status, 202) << res.body.substr(0, 300);
  ASSERT_EQ(harness_.records().size(), 1u);
  EXPECT_EQ(harness_.records()[0].data.size(), TP_MAX_RECORD_BYTES);
}

TEST_F(WebhookLimits, IdKeyAndTypeOverTheLimitsAre400NamingRecordAndField) {
  open(R"("key_field":"email")");
  struct Case {
    std::string body, expected;
  };
  const std::vector<Case> cases = {
      {R"([{"id":"ok"},{"id":")" + std::string(257, 'i') + R"("}])",
       "record 1: the id (field 'id') is 257 bytes; the host accepts at most 256 (TP_MAX_ID_BYTES)"},
      {R"({"email":")" + std::string(1025, 'e') + R"("})",
       "record 0: the key (field 'email') is 1025 bytes; the host accepts at most 1024 (TP_MAX_KEY_BYTES)"},
      {R"({"data":{},"key":")" + std::string(2000, 'k') + R"("})", "record 0: the key (field 'key') is 2000 bytes"},
      {R"([{},{},{"data":{},"type":")" + std::string(65, 't') + R"("}])",
       "record 2: 'type' is 65 bytes; the host accepts at most 64 (TP_MAX_TYPE_BYTES)"},
      {R"({"data":{},"type":"Profile"})", "record 0: 'type' must use only a-z, 0-9, '_', '.', '-'"},
      {R"({"data":{},"type":"crm/contact"})", "record 0: 'type' must use only"},
  };
  for (const Case& c : cases) {
    HttpResponse res = client_.post(url(), c.body);
    EXPECT_EQ(res.status, 400) << c.expected;
    EXPECT_TRUE(contains(res.body, c.expected)) << res.body;
  }
  EXPECT_TRUE(harness_.cursors().empty()) << "nothing was emitted";
  // At the limits: accepted.
  HttpResponse res = client_.post(url(), R"({"id":")" + std::string(256, 'i') + R"(","type":")" + std::string(64, 't') +
                                             R"(","key":")" + std::string(1024, 'k') + R"(","data":{}})");
  EXPECT_EQ(res.status, 202) << res.body;
}

TEST_F(WebhookLimits, ConfiguredTypeMustBeValid) {
  std::string error;
  EXPECT_EQ(harness_.validate(R"({"type":"Customer Profile"})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_TRUE(contains(error, "'type'")) << error;
}

// ---------------------------------------------------- deterministic ids

class WebhookIds : public WebhookFixture {};

TEST_F(WebhookIds, RetryOfABodyWithoutIdsYieldsTheSameIds) {
  open();
  const std::string body = R"([{"email":"a@b.c"},{"id":"own"},{"email":"d@e.f"}])";
  ASSERT_EQ(client_.post(url(), body).status, 202);
  ASSERT_EQ(client_.post(url(), body).status, 202);  // the client's retry after a timeout
  auto records = harness_.records();
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[0].id, body_id(body, 0));
  EXPECT_EQ(records[1].id, "own");
  EXPECT_EQ(records[2].id, body_id(body, 2));
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(records[i].id, records[i + 3].id) << "the store keeps one of each";
}

TEST_F(WebhookIds, WebhookIdHeaderGivesIdsPerIndex) {
  open(R"("replay_cache_size":0)");
  const std::string body = R"([{"a":1},{"messageId":"seg-1"},{"id":7},{"data":{},"id":"env"},{"b":2}])";
  ASSERT_EQ(client_.post(url(), body, {"webhook-id: msg_2x"}).status, 202);
  auto records = harness_.records();
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0].id, "msg_2x:0");
  EXPECT_EQ(records[1].id, "seg-1");
  EXPECT_EQ(records[2].id, "7");
  EXPECT_EQ(records[3].id, "env");
  EXPECT_EQ(records[4].id, "msg_2x:4");
  // Another body under the same webhook-id (a re-signed retry) keeps the ids.
  ASSERT_EQ(client_.post(url(), R"([{"a":1.0},{"x":1}])", {"webhook-id: msg_2x"}).status, 202);
  records = harness_.records();
  ASSERT_EQ(records.size(), 7u);
  EXPECT_EQ(records[5].id, "msg_2x:0");
  EXPECT_EQ(records[6].id, "msg_2x:1");
}

TEST_F(WebhookIds, IdempotencyKeyHeaderAndPrecedence) {
  open(R"("replay_cache_size":0)");
  ASSERT_EQ(client_.post(url(), "{}", {"Idempotency-Key: order-77"}).status, 202);
  ASSERT_EQ(client_.post(url(), "{}", {"idempotency-key: order-78", "webhook-id: msg_9"}).status, 202);
  auto records = harness_.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].id, "order-77:0");
  EXPECT_EQ(records[1].id, "msg_9:0") << "webhook-id wins over Idempotency-Key";
}

TEST_F(WebhookIds, LongOrNonPrintableHeaderValuesAreHashed) {
  open(R"("replay_cache_size":0)");
  const std::string long_key(300, 'k');
  ASSERT_EQ(client_.post(url(), "{}", {"Idempotency-Key: " + long_key}).status, 202);
  const std::string utf8_key = "caf\xc3\xa9";
  ASSERT_EQ(client_.post(url(), "{}", {"Idempotency-Key: " + utf8_key}).status, 202);
  const std::string tab_key = "a\tb";
  ASSERT_EQ(client_.post(url(), "{}", {"Idempotency-Key: " + tab_key}).status, 202);
  auto records = harness_.records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].id, tp_common::sha256_hex(long_key) + ":0");
  EXPECT_EQ(records[1].id, tp_common::sha256_hex(utf8_key) + ":0");
  EXPECT_EQ(records[2].id, tp_common::sha256_hex(tab_key) + ":0");
}

// ------------------------------------------------------ replay protection

class WebhookReplay : public WebhookFixture {
 protected:
  static constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

  void open_signed(const std::string& extra = "") {
    open(std::string(R"("secret":")") + kSecret + "\"" + (extra.empty() ? "" : "," + extra));
  }
  std::vector<std::string> signed_headers(const std::string& id, const std::string& body) const {
    const std::string ts = std::to_string(now_seconds());
    return {"webhook-id: " + id, "webhook-timestamp: " + ts, "webhook-signature: " + signer_.sign(id, ts, body)};
  }
  HttpResponse post_signed(const std::string& id, const std::string& body) {
    return client_.post(url(), body, signed_headers(id, body));
  }
  tp_common::SignatureVerifier signer_{kSecret, 300};
};

TEST_F(WebhookReplay, ReplayedWebhookIdIsAcknowledgedWithoutEmittingAgain) {
  open_signed();
  const std::string body = R"([{"email":"a@b.c"},{"email":"d@e.f"}])";
  const std::vector<std::string> headers = signed_headers("msg_r1", body);
  HttpResponse first = client_.post(url(), body, headers);
  EXPECT_EQ(first.status, 202);
  EXPECT_EQ(first.body, R"({"accepted":2})");
  HttpResponse replay = client_.post(url(), body, headers);  // the very same request again
  EXPECT_EQ(replay.status, 202);
  EXPECT_EQ(replay.body, R"({"accepted":0,"duplicate":true})");
  // A re-delivery with a fresh timestamp and signature is the same message.
  HttpResponse redelivery = post_signed("msg_r1", body);
  EXPECT_EQ(redelivery.body, R"({"accepted":0,"duplicate":true})");
  EXPECT_EQ(harness_.records().size(), 2u);
  EXPECT_EQ(harness_.cursors().size(), 1u) << "emitted once";
  EXPECT_EQ(counter("webhook_duplicates_total"), 2);
  EXPECT_EQ(counter("webhook_records_total"), 2);
  // Other ids are not affected.
  EXPECT_EQ(post_signed("msg_r2", body).body, R"({"accepted":2})");
}

TEST_F(WebhookReplay, BadSignatureWithAKnownIdIsStill401) {
  open_signed();
  ASSERT_EQ(post_signed("msg_k", "{}").status, 202);
  std::vector<std::string> headers = signed_headers("msg_k", "{}");
  headers.back() = "webhook-signature: v1,AAAA";
  EXPECT_EQ(client_.post(url(), "{}", headers).status, 401);
}

TEST_F(WebhookReplay, OnlyAcceptedRequestsAreRemembered) {
  open_signed(R"("max_records_per_request":2)");
  EXPECT_EQ(post_signed("msg_f", "{bad").status, 400);
  EXPECT_EQ(post_signed("msg_f", "[{},{},{}]").status, 400);
  EXPECT_EQ(post_signed("msg_f", R"({"data":{},"type":"Bad"})").status, 400);
  harness_.refuse_emits(TP_STATUS_BACKPRESSURE);
  EXPECT_EQ(post_signed("msg_f", "{}").status, 503);
  harness_.refuse_emits(TP_OK);
  HttpResponse res = post_signed("msg_f", R"({"a":1})");
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(res.body, R"({"accepted":1})") << "the failed attempts did not count";
  EXPECT_EQ(post_signed("msg_f", R"({"a":1})").body, R"({"accepted":0,"duplicate":true})");
  // An accepted empty body is remembered too.
  EXPECT_EQ(post_signed("msg_e", "[]").body, R"({"accepted":0})");
  EXPECT_EQ(post_signed("msg_e", "[{}]").body, R"({"accepted":0,"duplicate":true})");
  EXPECT_EQ(harness_.records().size(), 1u);
}

TEST_F(WebhookReplay, WorksWithoutASecretToo) {
  open();
  EXPECT_EQ(client_.post(url(), "{}", {"webhook-id: plain_1"}).body, R"({"accepted":1})");
  EXPECT_EQ(client_.post(url(), "{}", {"webhook-id: plain_1"}).body, R"({"accepted":0,"duplicate":true})");
  EXPECT_EQ(client_.post(url(), "{}", {"Idempotency-Key: plain_1"}).body, R"({"accepted":1})")
      << "only webhook-id is a message id; Idempotency-Key only shapes record ids";
}

TEST_F(WebhookReplay, CacheIsBoundedOldestFirst) {
  open_signed(R"("replay_cache_size":2)");
  for (const char* id : {"m1", "m2", "m3"}) EXPECT_EQ(post_signed(id, "{}").body, R"({"accepted":1})") << id;
  EXPECT_EQ(post_signed("m3", "{}").body, R"({"accepted":0,"duplicate":true})");
  EXPECT_EQ(post_signed("m2", "{}").body, R"({"accepted":0,"duplicate":true})");
  EXPECT_EQ(post_signed("m1", "{}").body, R"({"accepted":1})") << "m1 was evicted";
}

TEST_F(WebhookReplay, SizeZeroDisablesIt) {
  open_signed(R"("replay_cache_size":0)");
  EXPECT_EQ(post_signed("m1", "{}").body, R"({"accepted":1})");
  EXPECT_EQ(post_signed("m1", "{}").body, R"({"accepted":1})");
  auto records = harness_.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].id, records[1].id) << "the store still applies it once";
  EXPECT_EQ(counter("webhook_duplicates_total"), 0);
}

// ----------------------------------------------------------- content type

class WebhookContentType : public WebhookFixture {};

TEST_F(WebhookContentType, NonJsonTypesAre415AndNothingIsEmitted) {
  open();
  for (const char* type :
       {"multipart/form-data; boundary=xyz", "application/octet-stream", "text/html", "application/xml"}) {
    HttpResponse res = client_.post(url(), R"({"a":1})", {std::string("Content-Type: ") + type});
    EXPECT_EQ(res.status, 415) << type;
    EXPECT_TRUE(contains(res.body, "unsupported Content-Type")) << res.body;
  }
  EXPECT_TRUE(harness_.records().empty());
  EXPECT_EQ(counter("webhook_requests_total{status=415}"), 4);
}

TEST_F(WebhookContentType, JsonTypesAndNoneAreAccepted) {
  open();
  const std::vector<std::string> types = {"Content-Type: application/json; charset=utf-8",
                                          "Content-Type: application/cloudevents+json",
                                          "Content-Type: application/x-ndjson",
                                          "Content-Type: application/jsonl",
                                          "Content-Type: text/plain",
                                          "Content-Type: application/x-www-form-urlencoded",  // curl -d
                                          "Content-Type:"};
  for (const std::string& type : types) EXPECT_EQ(client_.post(url(), R"({"a":1})", {type}).status, 202) << type;
  EXPECT_EQ(harness_.records().size(), types.size());
}

TEST_F(WebhookContentType, RefusedBeforeTheBodyIsRead) {
  open();
  RawSocket s(port_);
  ASSERT_TRUE(s.connected());
  s.send_all("POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: text/html\r\nContent-Length: 1000000\r\n\r\n");
  std::string reply = s.read_until("\r\n\r\n", 5000ms);
  EXPECT_EQ(reply.rfind("HTTP/1.1 415", 0), 0u) << reply;
}

}  // namespace
}  // namespace touchpoint::webhook::test
