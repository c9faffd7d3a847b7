// protocol: segment over loopback, with the real plugin: its endpoints, the
// 200 {"success":true} after the records are durable, write-key checks, and
// a Segment instance beside a webhook instance on one listener.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "tp_common/base64.hpp"

namespace touchpoint::webhook::test {
namespace {

using touchpoint::testing::Harness;

constexpr const char* kSegment = R"("protocol":"segment","write_keys":["k1","k2"])";

std::string basic(const std::string& key) { return "Authorization: Basic " + tp_common::base64_encode(key + ":"); }

class SegmentHttp : public WebhookFixture {};

TEST_F(SegmentHttp, EveryEndpointAnswers200WhenItsRecordsAreDurable) {
  open(kSegment);
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"/v1/identify", R"({"userId":"u","traits":{"a":1}})"},
      {"/v1/track", R"({"userId":"u","event":"e"})"},
      {"/v1/page", R"({"anonymousId":"x","name":"Home"})"},
      {"/v1/screen", R"({"userId":"u","name":"S"})"},
      {"/v1/group", R"({"userId":"u","groupId":"g"})"},
      {"/v1/alias", R"({"userId":"u","previousId":"x"})"},
      {"/v1/t", R"({"userId":"u","event":"short path"})"},
      {"/v1/batch", R"({"batch":[{"type":"track","userId":"u","event":"b1"},{"type":"page","userId":"u"}]})"},
      {"/v1/import", R"({"batch":[{"type":"identify","userId":"v"}]})"},
  };
  for (const auto& [path, body] : calls) {
    HttpResponse res = client_.post(url(path), body, {"Content-Type: text/plain", basic("k2")});
    ASSERT_EQ(res.error, "");
    EXPECT_EQ(res.status, 200) << path << ": " << res.body;
    EXPECT_EQ(res.body, R"({"success":true})") << path;
  }
  // The response is written from the done callback: everything is there.
  auto records = harness_.records();
  ASSERT_EQ(records.size(), 10u);
  EXPECT_EQ(records[0].type, "profile");
  EXPECT_EQ(records[1].type, "event");
  EXPECT_EQ(records[4].type, "group");
  EXPECT_EQ(records[5].type, "profile");
  EXPECT_NE(records[6].data.find(R"("event_type":"short_path")"), std::string::npos) << records[6].data;
  EXPECT_EQ(counter("webhook_requests_total{status=200}"), static_cast<double>(calls.size()));
  EXPECT_EQ(counter("webhook_records_total"), 10);

  // The old path of protocol: webhook is not served.
  EXPECT_EQ(client_.post(url("/ingest"), "{}", {basic("k1")}).status, 404);
  std::string streams;
  ASSERT_EQ(instance_->discover(&streams), TP_OK);
  EXPECT_NE(streams.find(R"({"name":"/v1/identify","formats":["segment"]})"), std::string::npos) << streams;
  EXPECT_EQ(streams.find(R"("/v1/t")"), std::string::npos) << streams;
}

TEST_F(SegmentHttp, WriteKeysAreCheckedBeforeAnythingIsEmitted) {
  open(std::string(kSegment) + R"(,"path":"/collect/")");
  const std::string body = R"({"userId":"u","event":"e"})";
  HttpResponse res = client_.post(url("/collect/track"), body, {basic("k3")});
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.body, R"({"error":"unknown write key"})");
  res = client_.post(url("/collect/track"), body, {"Authorization: Bearer k1"});
  EXPECT_EQ(res.status, 401);
  EXPECT_NE(res.body.find("Basic"), std::string::npos) << res.body;
  res = client_.post(url("/collect/track"), body, {"Authorization: Basic !!!"});
  EXPECT_EQ(res.status, 401);
  // A key that is a prefix of a real one, or has one more byte, is not it.
  EXPECT_EQ(client_.post(url("/collect/track"), body, {basic("k")}).status, 401);
  EXPECT_EQ(client_.post(url("/collect/track"), body, {basic("k10")}).status, 401);
  EXPECT_EQ(client_.post(url("/collect/track"), R"({"userId":"u","event":"e","writeKey":"k3"})").status, 401);
  EXPECT_TRUE(harness_.records().empty());
  // The bare key without the colon, as some clients send it, and the body's key.
  EXPECT_EQ(
      client_.post(url("/collect/track"), body, {"Authorization: Basic " + tp_common::base64_encode("k1")}).status,
      200);
  EXPECT_EQ(client_.post(url("/collect/track"), R"({"userId":"u","event":"e","writeKey":"k1"})").status, 200);
  EXPECT_EQ(harness_.records().size(), 2u);
}

TEST_F(SegmentHttp, AWebPageOnAnAllowedOriginMayPostAndOthersMayNot) {
  open(std::string(kSegment) + R"(,"cors_origins":["https://shop.example","http://localhost:3000"])");
  const std::string shop = "Origin: https://shop.example";
  // The browser's preflight for a POST with Authorization and a JSON body.
  HttpResponse pre = client_.request(
      "OPTIONS", url("/v1/track"), "",
      {shop, "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: authorization, content-type"});
  EXPECT_EQ(pre.status, 204) << pre.body;
  EXPECT_EQ(pre.headers["access-control-allow-origin"], "https://shop.example");
  EXPECT_EQ(pre.headers["access-control-allow-methods"], "POST, OPTIONS");
  EXPECT_EQ(pre.headers["access-control-allow-headers"], "Authorization, Content-Type");
  EXPECT_EQ(pre.headers["vary"], "Origin");
  HttpResponse res = client_.post(url("/v1/track"), R"({"userId":"u","event":"e"})",
                                  {shop, basic("k1"), "Content-Type: application/json"});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.headers["access-control-allow-origin"], "https://shop.example") << "the page may read the answer";
  HttpResponse refused = client_.post(url("/v1/track"), R"({"userId":"u","event":"e"})", {shop, basic("nope")});
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.headers["access-control-allow-origin"], "https://shop.example") << "errors are readable too";

  // Another origin, or one that merely starts like an allowed one, gets no CORS headers.
  for (const char* other : {"Origin: https://evil.example", "Origin: https://shop.example.evil.example",
                            "Origin: https://SHOP.example", "Origin: null"}) {
    HttpResponse p = client_.request("OPTIONS", url("/v1/track"), "", {other, "Access-Control-Request-Method: POST"});
    EXPECT_EQ(p.status, 403) << other;
    EXPECT_EQ(p.headers.count("access-control-allow-origin"), 0u) << other;
    HttpResponse r = client_.post(url("/v1/track"), R"({"userId":"u","event":"e"})", {other, basic("k1")});
    EXPECT_EQ(r.headers.count("access-control-allow-origin"), 0u) << other;
  }
  EXPECT_EQ(harness_.records().size(), 5u) << "CORS is the browser's rule: a server-side client still posts";
}

TEST_F(SegmentHttp, CorsOriginsMustBeOrigins) {
  for (const char* bad : {R"(["https://shop.example/path"])", R"(["shop.example"])", R"(["https://Shop.example"])",
                          R"([""])", R"("*")", R"([1])"}) {
    std::string error = "(opened)";
    try {
      open(std::string(kSegment) + R"(,"cors_origins":)" + bad);
    } catch (const std::exception& e) {
      error = e.what();
    }
    EXPECT_NE(error.find("cors_origins"), std::string::npos) << bad << ": " << error;
  }
  EXPECT_NO_THROW(open(std::string(kSegment) + R"(,"cors_origins":["*","http://[::1]:8080"])"));
}

TEST_F(SegmentHttp, ConfigSaysWhichKeysBelongToWhichProtocol) {
  auto error_of = [&](const std::string& extra) {
    try {
      open(extra);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("(opened)");
  };
  EXPECT_NE(error_of(R"("protocol":"segment")").find("'write_keys' must list at least one write key"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kSegment) + R"(,"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")")
                .find("'secret' belongs to protocol: webhook"),
            std::string::npos);
  EXPECT_NE(error_of(R"("write_keys":["k"])").find("'write_keys' belongs to protocol: segment"), std::string::npos);
  EXPECT_NE(error_of(R"("protocol":"rudder")").find("must be webhook or segment"), std::string::npos);
  EXPECT_NE(error_of(std::string(kSegment) + R"(,"event_types":{"Bought":"a b"})").find("'event_types'"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kSegment) + R"(,"anonymous_id_system":"Web:anon")").find("anonymous_id_system"),
            std::string::npos);
}

// One address, two pipelines: the hub's own webhook on /ingest and the Segment API under /v1.
TEST(SegmentSharedListener, ASegmentAndAWebhookInstanceShareOneAddress) {
  Harness webhook_host{TP_WEBHOOK_PLUGIN}, segment_host{TP_WEBHOOK_PLUGIN};
  auto webhook = webhook_host.open(R"({"listen":"127.0.0.1:0"})");
  const auto port = static_cast<uint16_t>(webhook_host.counters().at("webhook_listening_port"));
  const std::string listen = R"("listen":"127.0.0.1:)" + std::to_string(port) + "\"";
  auto segment = segment_host.open("{" + listen + "," + kSegment + "}");
  HttpClient client;
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(client.post(base + "/ingest", R"({"id":"w1"})").status, 202);
  EXPECT_EQ(client.post(base + "/v1/track", R"({"userId":"u","event":"e"})", {basic("k1")}).status, 200);
  EXPECT_EQ(webhook_host.records().size(), 1u);
  EXPECT_EQ(segment_host.records().size(), 1u);
  // A second Segment instance may not take the same endpoints.
  Harness third{TP_WEBHOOK_PLUGIN};
  try {
    (void)third.open("{" + listen + "," + kSegment + "}");
    ADD_FAILURE() << "a second instance took /v1/identify";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/v1/identify"), std::string::npos) << e.what();
  }
  // Closing the Segment pipeline: its endpoints say retry, the webhook goes on.
  segment.reset();
  EXPECT_EQ(client.post(base + "/v1/batch", R"({"batch":[]})", {basic("k1")}).status, 503);
  EXPECT_EQ(client.post(base + "/v1/t", R"({})", {basic("k1")}).status, 503);
  EXPECT_EQ(client.post(base + "/ingest", R"({"id":"w2"})").status, 202);
  EXPECT_EQ(webhook_host.records().size(), 2u);
}

}  // namespace
}  // namespace touchpoint::webhook::test
