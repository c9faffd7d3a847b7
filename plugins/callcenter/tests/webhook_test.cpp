// The disposition webhook over real HTTP on loopback (libcurl client): signatures, replays,
// hostile bodies, and 200 only once the unit is durable.
#include <chrono>
#include <string>

#include "support.hpp"
#include "tp_common/signature.hpp"

namespace touchpoint::callcenter::test {
namespace {

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

class WebhookTest : public PluginTest {
 protected:
  void SetUp() override {
    inst_ = open(R"({"webhook":{"listen":"127.0.0.1:0","path":"/dispositions","secret":")" + std::string(kSecret) +
                 R"(","max_body_bytes":1048576},"outcome_map":{"DNC":"do_not_call"}})");
    port_ = static_cast<int>(harness_.counters().at("callcenter_webhook_port"));
    ASSERT_GT(port_, 0);
  }
  void TearDown() override { inst_.reset(); }

  static int64_t now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::string url(const std::string& path = "/dispositions") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  HttpResponse post(const std::string& body, const std::string& id = "msg_1", int64_t ts = 0,
                    const std::string& signature = "") {
    const std::string stamp = std::to_string(ts == 0 ? now() : ts);
    const std::string sig = signature.empty() ? signer_.sign(id, stamp, body) : signature;
    return http_post(url(), body,
                     {"Content-Type: application/json", "webhook-id: " + id, "webhook-timestamp: " + stamp,
                      "webhook-signature: " + sig});
  }

  tp_common::SignatureVerifier signer_{kSecret, 300};
  std::unique_ptr<touchpoint::testing::Instance> inst_;
  int port_ = 0;
};

TEST_F(WebhookTest, SignedDispositionsAreEmittedAndAnswered200) {
  auto res = post(R"({"dispositions":[{"contact_id":"c-1","outcome":"DNC","at":"2026-12-01T10:00:00Z"},)"
                  R"({"contact_id":"c-2","outcome":"sale","revenue":99.9,"product":"savings-plus"}]})");
  ASSERT_EQ(res.status, 200) << res.body << res.error;
  EXPECT_EQ(res.body, R"({"accepted":2})");
  const auto records = harness_.records();
  ASSERT_EQ(records.size(), 2u) << "durable before the 200";
  EXPECT_EQ(records[0].type, "response");
  EXPECT_EQ(records[0].data,
            R"({"contact_id":"c-1","channel":"phone","kind":"call_outcome","at":"2026-12-01T10:00:00Z",)"
            R"("detail":{"outcome":"do_not_call","provider_outcome":"DNC"}})");
  EXPECT_NE(records[1].data.find(R"("revenue":99.9)"), std::string::npos);
  EXPECT_EQ(records[0].id.rfind("wh:", 0), 0u);
  EXPECT_EQ(records[0].id.substr(records[0].id.size() - 2), ":0");
  EXPECT_EQ(records[1].id.substr(records[1].id.size() - 2), ":1");
}

TEST_F(WebhookTest, BadSignaturesAre401) {
  const std::string body = R"({"contact_id":"c-1","outcome":"busy"})";
  EXPECT_EQ(post(body, "msg_1", 0, "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").status, 401);
  tp_common::SignatureVerifier other("whsec_b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==", 300);
  EXPECT_EQ(post(body, "msg_1", 0, other.sign("msg_1", std::to_string(now()), body)).status, 401);
  EXPECT_EQ(post(body, "msg_1", now() - 301).status, 401) << "older than the 5-minute tolerance";
  EXPECT_EQ(post(body, "msg_1", now() + 400).status, 401);
  EXPECT_EQ(http_post(url(), body, {"Content-Type: application/json"}).status, 401);
  // Signed for another body.
  const std::string stamp = std::to_string(now());
  auto tampered = http_post(url(), R"({"contact_id":"c-2","outcome":"busy"})",
                            {"Content-Type: application/json", "webhook-id: msg_1", "webhook-timestamp: " + stamp,
                             "webhook-signature: " + signer_.sign("msg_1", stamp, body)});
  EXPECT_EQ(tampered.status, 401);
  EXPECT_EQ(harness_.records().size(), 0u);
  EXPECT_EQ(post(body).status, 200);
}

TEST_F(WebhookTest, AReplayedWebhookIdIsNotEmittedAgain) {
  const std::string body = R"({"contact_id":"c-1","outcome":"busy"})";
  ASSERT_EQ(post(body, "msg_replay").status, 200);
  auto again = post(body, "msg_replay");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, R"({"accepted":0,"duplicate":true})");
  EXPECT_EQ(harness_.records().size(), 1u);
  EXPECT_EQ(post(body, "msg_other").status, 200);
  EXPECT_EQ(harness_.records().size(), 2u);
}

TEST_F(WebhookTest, BackpressureIs503AndNothingIsRemembered) {
  const std::string body = R"({"contact_id":"c-1","outcome":"busy"})";
  harness_.refuse_next_emits(1, TP_STATUS_BACKPRESSURE, "journal full");
  auto res = post(body, "msg_bp");
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(harness_.records().size(), 0u);
  // The sender's retry of the same id goes through: a refused request is not a replay.
  auto retry = post(body, "msg_bp");
  EXPECT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(harness_.records().size(), 1u);
  harness_.refuse_next_emits(1, TP_STATUS_PERMANENT, "too large for the hub");
  EXPECT_EQ(post(body, "msg_perm").status, 400);
}

TEST_F(WebhookTest, MalformedBodiesAre400WithTheField) {
  auto field_error = post(R"([{"contact_id":"c-1","outcome":"busy"},{"contact_id":"c-2","outcome":"maybe"}])", "m1");
  EXPECT_EQ(field_error.status, 400);
  EXPECT_NE(field_error.body.find(R"("field":"outcome","index":1)"), std::string::npos) << field_error.body;
  EXPECT_EQ(harness_.records().size(), 0u) << "a request is all or nothing";

  auto nan = post(R"({"contact_id":"c-1","outcome":"sale","revenue":"NaN"})", "m2");
  EXPECT_EQ(nan.status, 400);
  EXPECT_NE(nan.body.find(R"("field":"revenue")"), std::string::npos);
  auto huge_number = post(R"({"contact_id":"c-1","outcome":"sale","revenue":1e309})", "m3");
  EXPECT_EQ(huge_number.status, 400);
  EXPECT_NE(huge_number.body.find("out of range"), std::string::npos);
  auto year = post(R"({"contact_id":"c-1","outcome":"callback","callback_at":"99999-01-01T00:00:00Z"})", "m4");
  EXPECT_NE(year.body.find(R"("field":"callback_at")"), std::string::npos);
  auto nul = post(R"({"contact_id":"c-1","outcome":"sale","note":"a\u0000b"})", "m5");
  EXPECT_NE(nul.body.find(R"("field":"note")"), std::string::npos);
  auto control = post(R"({"contact_id":"c-\u001b[2J","outcome":"sale"})", "m6");
  EXPECT_NE(control.body.find(R"("field":"contact_id")"), std::string::npos);
  auto big_outcome = post(R"({"contact_id":"c-1","outcome":")" + std::string(5 << 20, 'x') + "\"}", "m7");
  EXPECT_EQ(big_outcome.status, 413) << "over max_body_bytes";
  auto outcome_1k = post(R"({"contact_id":"c-1","outcome":")" + std::string(1000, 'x') + "\"}", "m8");
  EXPECT_EQ(outcome_1k.status, 400);
  EXPECT_LT(outcome_1k.body.size(), 300u) << "the error does not echo the input";
  auto bomb = post(std::string(200000, '[') + std::string(200000, ']'), "m9");
  EXPECT_EQ(bomb.status, 400);
  EXPECT_NE(bomb.body.find("nested deeper"), std::string::npos);
  auto latin1 = post("{\"contact_id\":\"c-1\",\"outcome\":\"sale\",\"note\":\"M\xFCller\"}", "m10");
  EXPECT_EQ(latin1.status, 400);
  EXPECT_EQ(post("", "m11").status, 400);
  EXPECT_EQ(post("{\"contact_id\":", "m12").status, 400);
  EXPECT_EQ(harness_.records().size(), 0u);
}

TEST_F(WebhookTest, TwentyMegabyteBodyIs413) {
  const std::string body(20 << 20, 'x');
  auto res = post(body, "big");
  EXPECT_EQ(res.status, 413) << res.error;
  // The server is still there.
  EXPECT_EQ(post(R"({"contact_id":"c-1","outcome":"busy"})", "after").status, 200);
}

TEST_F(WebhookTest, WrongPathMethodAndContentType) {
  const std::string body = R"({"contact_id":"c-1","outcome":"busy"})";
  EXPECT_EQ(http_post(url("/other"), body, {}).status, 404);
  const std::string stamp = std::to_string(now());
  EXPECT_EQ(http_post(url(), body,
                      {"Content-Type: text/csv", "webhook-id: x", "webhook-timestamp: " + stamp,
                       "webhook-signature: " + signer_.sign("x", stamp, body)})
                .status,
            415);
  EXPECT_EQ(http_post(url(), body, {"webhook-id: " + std::string(20000, 'i')}).status, 431);
}

TEST_F(WebhookTest, CloseWithAnIdleConnectionDoesNotHang) {
  ASSERT_EQ(post(R"({"contact_id":"c-1","outcome":"busy"})").status, 200);
  const auto start = std::chrono::steady_clock::now();
  inst_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace touchpoint::callcenter::test
