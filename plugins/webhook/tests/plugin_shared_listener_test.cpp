// Shared listeners: webhook instances of one process whose `listen` is the
// same address share one acceptor, and requests are dispatched by path to
// the instance that registered it. Every instance here has a Harness of its
// own (the same .so, so the same registry) so that the test sees which host
// a record reached.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "test_support.hpp"
#include "tp_common/signature.hpp"

namespace touchpoint::webhook::test {
namespace {

using namespace std::chrono_literals;
using touchpoint::testing::Harness;

// One "pipeline": a host of its own with one webhook instance.
struct Pipeline {
  explicit Pipeline(const std::string& name = "") {
    if (!name.empty()) harness.set_setting("instance", name);  // what the hub gives: the pipeline name
  }

  // Opens the instance; `config` is the body of the JSON object.
  void open(const std::string& config) { instance = harness.open("{" + config + "}"); }

  // The message of a failing open, "" when it succeeds.
  std::string open_error(const std::string& config) {
    try {
      instance = harness.open("{" + config + "}");
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }

  void close() { instance.reset(); }

  double counter(const std::string& name) const {
    auto counters = harness.counters();
    auto it = counters.find(name);
    return it == counters.end() ? 0.0 : it->second;
  }
  uint16_t port() const { return static_cast<uint16_t>(counter("webhook_listening_port")); }

  Harness harness{TP_WEBHOOK_PLUGIN};
  std::unique_ptr<touchpoint::testing::Instance> instance;
};

std::string url(uint16_t port, const std::string& path) { return "http://127.0.0.1:" + std::to_string(port) + path; }

std::string listen_on(uint16_t port) { return R"("listen":"127.0.0.1:)" + std::to_string(port) + "\""; }

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The shipped example: sign-ups on /ingest, envelopes of every record type on
// /v1/records, one port.
class SharedListener : public ::testing::Test {
 protected:
  void SetUp() override {
    signups.open(R"("listen":"127.0.0.1:0","path":"/ingest","type":"profile","key_field":"customer_id",)"
                 R"("max_body_bytes":1000,"max_inflight_bytes":268435456)");
    port = signups.port();
    ASSERT_GT(port, 0);
    records.open(listen_on(port) + R"(,"path":"/v1/records","key_field":"customer_id","max_body_bytes":100000,)"
                                   R"("max_records_per_request":10)");
  }

  Pipeline signups{"web-signups"};
  Pipeline records{"records"};
  uint16_t port = 0;
  HttpClient client;
};

TEST_F(SharedListener, BothPathsOnOnePortReachTheirOwnInstance) {
  EXPECT_EQ(records.port(), port) << "the second instance joined the first one's listener";
  bool logged = false;
  for (const auto& line : records.harness.logs())
    if (line.message == "path /v1/records shares the listener on 127.0.0.1:" + std::to_string(port) +
                            " with 1 other webhook instance(s) of this process")
      logged = true;
  EXPECT_TRUE(logged);

  // A flat sign-up: the sign-up instance's defaults (type profile, key customer_id).
  HttpResponse res = client.post(url(port, "/ingest"), R"({"id":"s-1","customer_id":"C-1","email":"a@example.com"})");
  EXPECT_EQ(res.status, 202) << res.body;
  ASSERT_EQ(signups.harness.records().size(), 1u);
  EXPECT_EQ(signups.harness.records()[0].type, "profile");
  EXPECT_EQ(signups.harness.records()[0].key, "C-1");
  EXPECT_TRUE(records.harness.records().empty());

  // Envelopes of all record types on the same connection, to the other path.
  const std::string envelopes = R"([
    {"type":"consent","data":{"customer":"anna@example.de","channel":"email","purpose":"marketing",
                              "status":"granted","at":"2024-05-01T10:00:00Z"}},
    {"type":"event","data":{"customer_id":"C-1","name":"newsletter_opened"}},
    {"type":"suppression","data":{"customer":"bob@example.de","channel":"email","reason":"bounce"}},
    {"type":"profile","data":{"customer_id":"C-1","first_name":"Anna"}}])";
  res = client.post(url(port, "/v1/records"), envelopes);
  EXPECT_EQ(res.status, 202) << res.body;
  EXPECT_EQ(res.body, R"({"accepted":4})");
  EXPECT_EQ(res.new_connections, 0) << "one connection serves both paths";
  auto got = records.harness.records();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].type, "consent");
  EXPECT_EQ(got[0].key, "") << "no customer_id in a consent's data";
  EXPECT_EQ(got[1].type, "event");
  EXPECT_EQ(got[1].key, "C-1");
  EXPECT_EQ(got[2].type, "suppression");
  EXPECT_EQ(got[3].type, "profile");
  EXPECT_EQ(got[3].key, "C-1") << "an envelope without a key takes key_field from its data";
  EXPECT_EQ(got[3].data, R"({"customer_id":"C-1","first_name":"Anna"})");
  EXPECT_EQ(signups.harness.records().size(), 1u) << "nothing of /v1/records reached the sign-up instance";

  // A plain object on /v1/records gets that instance's default type.
  res = client.post(url(port, "/v1/records"), R"({"customer_id":"C-2","x":1})");
  EXPECT_EQ(res.status, 202);
  ASSERT_EQ(records.harness.records().size(), 5u);
  EXPECT_EQ(records.harness.records()[4].type, "event");
  EXPECT_EQ(records.harness.records()[4].key, "C-2");

  // Metrics go to each instance's own host.
  EXPECT_EQ(signups.counter("webhook_requests_total{status=202}"), 1);
  EXPECT_EQ(signups.counter("webhook_records_total"), 1);
  EXPECT_EQ(records.counter("webhook_requests_total{status=202}"), 2);
  EXPECT_EQ(records.counter("webhook_records_total"), 5);
}

TEST_F(SharedListener, EachPathHasItsOwnLimits) {
  // 2000 bytes: over /ingest's max_body_bytes (1000), within /v1/records' (100000).
  const std::string big = R"({"customer_id":"C-1","pad":")" + std::string(1960, 'x') + R"("})";
  HttpResponse res = client.post(url(port, "/ingest"), big);
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(res.body, "{\"error\":\"body exceeds max_body_bytes (1000)\"}");
  EXPECT_EQ(client.post(url(port, "/v1/records"), big).status, 202);

  // A chunked body over the limit is cut off by the path's limit too.
  res = client.post(url(port, "/ingest"), big, {"Transfer-Encoding: chunked"});
  EXPECT_EQ(res.status, 413);

  // max_records_per_request is 10 on /v1/records and the default on /ingest.
  std::string eleven = "[";
  for (int i = 0; i < 11; ++i) eleven += std::string(i ? "," : "") + R"({"n":)" + std::to_string(i) + "}";
  eleven += "]";
  EXPECT_EQ(client.post(url(port, "/v1/records"), eleven).status, 400);
  EXPECT_EQ(client.post(url(port, "/ingest"), eleven).status, 202);

  EXPECT_EQ(signups.counter("webhook_requests_total{status=413}"), 2);
  EXPECT_EQ(records.counter("webhook_requests_total{status=413}"), 0);
  EXPECT_EQ(records.counter("webhook_requests_total{status=400}"), 1);
  EXPECT_EQ(signups.harness.records().size(), 11u);
  EXPECT_EQ(records.harness.records().size(), 1u);
}

TEST(SharedListenerConfig, SecretsAndReplayCachesArePerInstance) {
  Pipeline open_one("open");
  open_one.open(R"("listen":"127.0.0.1:0","path":"/open")");
  const uint16_t port = open_one.port();
  Pipeline signed_one("signed");
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  signed_one.open(listen_on(port) + R"(,"path":"/signed","secret":")" + secret + "\"");

  HttpClient client;
  EXPECT_EQ(client.post(url(port, "/signed"), "{}").status, 401) << "the signed path requires a signature";
  const std::string body = R"({"id":"x"})";
  const std::string ts = std::to_string(now_seconds());
  const tp_common::SignatureVerifier signer(secret, 300);
  const std::vector<std::string> headers = {"webhook-id: msg_1", "webhook-timestamp: " + ts,
                                            "webhook-signature: " + signer.sign("msg_1", ts, body)};
  EXPECT_EQ(client.post(url(port, "/signed"), body, headers).body, R"({"accepted":1})");
  EXPECT_EQ(client.post(url(port, "/signed"), body, headers).body, R"({"accepted":0,"duplicate":true})");
  // The same webhook-id on the other path is another instance's: not a replay there.
  EXPECT_EQ(client.post(url(port, "/open"), body, {"webhook-id: msg_1"}).body, R"({"accepted":1})");
  EXPECT_EQ(signed_one.counter("webhook_duplicates_total"), 1);
  EXPECT_EQ(open_one.counter("webhook_duplicates_total"), 0);
  EXPECT_EQ(signed_one.harness.records().size(), 1u);
  EXPECT_EQ(open_one.harness.records().size(), 1u);
}

TEST_F(SharedListener, UnknownPathsAre404AndCountForEveryInstance) {
  HttpResponse res = client.post(url(port, "/nope"), "{}");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, R"({"error":"no such path"})");
  EXPECT_EQ(client.post(url(port, "/v1/records/"), "{}").status, 404) << "paths match exactly";
  EXPECT_EQ(client.post(url(port, "/v1"), "{}").status, 404);
  EXPECT_EQ(client.post(url(port, "/ingest?x=1"), "{}").status, 202) << "the query is ignored";
  // Nothing about the listener as a whole belongs to one path: both see it.
  EXPECT_EQ(signups.counter("webhook_requests_total{status=404}"), 3);
  EXPECT_EQ(records.counter("webhook_requests_total{status=404}"), 3);
  // The 404s closed their connections (their bodies were not read); the
  // last connection stays. Both instances see the listener's count.
  EXPECT_TRUE(wait_until(
      [&] { return signups.counter("webhook_connections") == 1 && records.counter("webhook_connections") == 1; }));
  EXPECT_TRUE(records.harness.records().empty());
}

TEST_F(SharedListener, SamePathOnTheSameAddressIsAClearError) {
  Pipeline third("crm");
  const std::string error = third.open_error(listen_on(port) + R"(,"path":"/ingest")");
  EXPECT_TRUE(contains(error, "open failed (" + std::to_string(TP_STATUS_INVALID_CONFIG) + ")")) << error;
  EXPECT_TRUE(contains(
      error, "'path' /ingest on 127.0.0.1:" + std::to_string(port) + " is already served by instance 'web-signups'"))
      << error;
  // "localhost" is the same address.
  EXPECT_TRUE(contains(third.open_error(R"("listen":"localhost:)" + std::to_string(port) + R"(","path":"/v1/records")"),
                       "already served by instance 'records'"));
  // A host that names no instance still gets a readable message.
  Pipeline anonymous;
  EXPECT_TRUE(contains(anonymous.open_error(listen_on(port) + R"(,"path":"/ingest")"),
                       "already served by instance 'web-signups'"));
  // The refused opens changed nothing.
  HttpClient client_of_third;
  EXPECT_EQ(client_of_third.post(url(port, "/ingest"), R"({"customer_id":"C-1"})").status, 202);
  EXPECT_EQ(signups.harness.records().size(), 1u);
  EXPECT_TRUE(third.harness.records().empty());
}

TEST(SharedListenerConfig, AnonymousOwnerIsDescribed) {
  Pipeline first;  // no "instance" setting
  first.open(R"("listen":"127.0.0.1:0","path":"/a")");
  Pipeline second("b");
  const std::string error = second.open_error(listen_on(first.port()) + R"(,"path":"/a")");
  EXPECT_TRUE(contains(error, "is already served by another webhook instance of this process")) << error;
}

TEST_F(SharedListener, SocketSettingsMustAgree) {
  struct Case {
    const char* setting;
    const char* theirs;
    const char* mine;
  };
  for (const Case& c :
       {Case{"threads", "2", "3"}, Case{"max_connections", "1024", "10"}, Case{"header_timeout_seconds", "10", "5"},
        Case{"idle_timeout_seconds", "60", "61"}, Case{"max_inflight_bytes", "268435456", "536870912"}}) {
    Pipeline third("crm");
    const std::string error =
        third.open_error(listen_on(port) + R"(,"path":"/crm",")" + c.setting + R"(":")" + c.mine + "\"");
    EXPECT_TRUE(contains(error, "open failed (" + std::to_string(TP_STATUS_INVALID_CONFIG) + ")")) << error;
    EXPECT_TRUE(contains(error, std::string("'") + c.setting + "' is " + c.mine + ", but the listener on 127.0.0.1:" +
                                    std::to_string(port) + ", which this instance shares with instance "))
        << error;
    EXPECT_TRUE(contains(error, std::string(", has ") + c.theirs + ";")) << error;
  }
  // The same values, given explicitly or not, agree; per-path settings may differ.
  Pipeline fourth("crm");
  fourth.open(listen_on(port) +
              R"(,"path":"/crm","threads":2,"max_inflight_bytes":"268435456","read_timeout_seconds":5,)"
              R"("type":"event","replay_cache_size":0,"tolerance_seconds":60)");
  EXPECT_EQ(client.post(url(port, "/crm"), "{}").status, 202);
  EXPECT_EQ(fourth.harness.records().size(), 1u);
}

TEST(SharedListenerConfig, PortZeroAlwaysBindsANewListener) {
  Pipeline a("a"), b("b");
  a.open(R"("listen":"127.0.0.1:0","path":"/same")");
  b.open(R"("listen":"127.0.0.1:0","path":"/same","threads":1)");
  EXPECT_NE(a.port(), b.port());
  HttpClient client;
  EXPECT_EQ(client.post(url(a.port(), "/same"), "{}").status, 202);
  EXPECT_EQ(client.post(url(b.port(), "/same"), "{}").status, 202);
  EXPECT_EQ(a.harness.records().size(), 1u);
  EXPECT_EQ(b.harness.records().size(), 1u);
}

TEST(SharedListenerConfig, AnotherAddressOnTheSamePortNamesTheListener) {
  Pipeline a("a");
  a.open(R"("listen":"127.0.0.1:0","path":"/a")");
  Pipeline b("b");
  const std::string error = b.open_error(R"("listen":"0.0.0.0:)" + std::to_string(a.port()) + R"(","path":"/b")");
  EXPECT_TRUE(contains(error, "open failed (" + std::to_string(TP_STATUS_RETRYABLE) + ")")) << error;
  EXPECT_TRUE(contains(error, "cannot bind 0.0.0.0:" + std::to_string(a.port()))) << error;
  EXPECT_TRUE(contains(error, "(instance 'a' listens on 127.0.0.1:" + std::to_string(a.port()) +
                                  "; give the same 'listen' to share its listener)"))
      << error;
}

TEST_F(SharedListener, ClosingOneKeepsTheOtherServing) {
  HttpClient kept_alive;
  ASSERT_EQ(kept_alive.post(url(port, "/ingest"), R"({"customer_id":"C-1"})").status, 202);

  signups.close();  // the instance that bound the listener
  // Its path was served here: 503 (retry later), never 404 (gone for good).
  EXPECT_EQ(client.post(url(port, "/ingest"), R"({"customer_id":"C-2"})").status, 503);
  HttpResponse res = kept_alive.post(url(port, "/v1/records"), R"({"type":"profile","data":{"customer_id":"C-3"}})");
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(res.new_connections, 0) << "connections outlive the instance that accepted them";
  EXPECT_EQ(client.post(url(port, "/v1/records"), R"({"x":1})").status, 202);
  EXPECT_EQ(records.harness.records().size(), 2u);
  EXPECT_EQ(signups.harness.records().size(), 1u);
  EXPECT_EQ(signups.counter("webhook_requests_total{status=503}"), 0) << "no host call of a closed instance";
  EXPECT_EQ(records.counter("webhook_requests_total{status=503}"), 1);

  // The path can be registered again, by a new instance.
  Pipeline again("web-signups");
  again.open(listen_on(port) + R"(,"path":"/ingest","type":"profile")");
  EXPECT_EQ(client.post(url(port, "/ingest"), R"({"customer_id":"C-4"})").status, 202);
  EXPECT_EQ(again.harness.records().size(), 1u);

  // When the last instance closes the port is released: it can be bound anew.
  again.close();
  records.close();
  RawSocket refused(port);
  EXPECT_FALSE(refused.connected()) << "nobody listens any more";
  Pipeline fresh("fresh");
  fresh.open(listen_on(port) + R"(,"path":"/fresh","threads":1)");
  EXPECT_EQ(client.post(url(port, "/fresh"), "{}").status, 202);
  EXPECT_EQ(fresh.harness.records().size(), 1u);
}

TEST_F(SharedListener, TwoInstancesOfOneHarness) {
  // The hub gives each pipeline its own host; one harness for both works too
  // (one host context), and the paths still select the instance's settings.
  Harness harness(TP_WEBHOOK_PLUGIN);
  auto a = harness.open("{" + listen_on(port) + R"(,"path":"/a","type":"alpha"})");
  auto b = harness.open("{" + listen_on(port) + R"(,"path":"/b","type":"beta"})");
  EXPECT_EQ(client.post(url(port, "/a"), "{}").status, 202);
  EXPECT_EQ(client.post(url(port, "/b"), "{}").status, 202);
  auto got = harness.records();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, "alpha");
  EXPECT_EQ(got[1].type, "beta");
  a.reset();
  EXPECT_EQ(client.post(url(port, "/a"), "{}").status, 503);
  EXPECT_EQ(client.post(url(port, "/b"), "{}").status, 202);
}

// Concurrent open/close of instances on one address from many instance
// threads: every open either succeeds or is refused for a path another
// instance has, never fails to bind; every instance serves its own path while
// it is open; an instance that stays open is served throughout.
TEST(SharedListenerStress, ConcurrentOpenAndClose) {
  const auto started = std::chrono::steady_clock::now();
  Pipeline anchor("anchor");
  anchor.open(R"("listen":"127.0.0.1:0","path":"/anchor")");
  const uint16_t port = anchor.port();

  struct Result {
    int served = 0;
    int path_taken = 0;
    std::vector<std::string> failures;
  };
  // Each worker opens and closes instances on `port`; workers 0 and 1 share a
  // path, so they race for it.
  auto worker = [port](int id, int rounds) {
    Result r;
    const std::string path = id < 2 ? "/shared" : "/w" + std::to_string(id);
    for (int i = 0; i < rounds; ++i) {
      Pipeline p("w" + std::to_string(id));
      const std::string error = p.open_error(listen_on(port) + R"(,"path":")" + path + "\"");
      if (!error.empty()) {
        if (contains(error, "is already served by instance 'w")) {
          ++r.path_taken;
        } else {
          r.failures.push_back("open: " + error);
        }
        continue;
      }
      HttpClient client;  // a fresh connection: the listener may be a new one
      const std::string body = R"({"worker":)" + std::to_string(id) + R"(,"round":)" + std::to_string(i) + "}";
      HttpResponse res = client.post(url(port, path), body);
      if (res.status == 202) {
        ++r.served;
        // (Workers 0 and 1 share a path: the other's racing request, below,
        // may reach this instance too.)
        auto got = p.harness.records();
        if (std::none_of(got.begin(), got.end(), [&](const auto& rec) { return rec.data == body; }))
          r.failures.push_back("the record did not reach its instance");
      } else {
        r.failures.push_back("POST " + path + " while its instance was open: " + std::to_string(res.status) + " " +
                             res.body + res.error);
      }
      // A request racing with its instance's close: any answer (202 before,
      // 404 after, 503 in between) or a closed connection, but in bounded time.
      auto racing = std::async(std::launch::async, [&] {
        HttpClient other;
        return other.post(url(port, path), body);
      });
      const auto close_started = std::chrono::steady_clock::now();
      p.close();
      if (std::chrono::steady_clock::now() - close_started > 5s)
        r.failures.push_back("close() took more than 5 s (round " + std::to_string(i) + ")");
      HttpResponse late = racing.get();
      if (late.status != 0 && late.status != 202 && late.status != 404 && late.status != 503)
        r.failures.push_back("POST racing with close: " + std::to_string(late.status) + " " + late.body);
    }
    return r;
  };

  auto run_phase = [&](int workers, int rounds, bool with_anchor) {
    std::atomic<bool> stop{false};
    std::atomic<int> anchor_ok{0};
    std::vector<std::string> anchor_failures;
    std::thread hammer;
    if (with_anchor) {
      hammer = std::thread([&] {
        HttpClient client;
        while (!stop.load()) {
          HttpResponse res = client.post(url(port, "/anchor"), "{}");
          if (res.status == 202) {
            ++anchor_ok;
          } else {
            anchor_failures.push_back(std::to_string(res.status) + " " + res.error);
          }
        }
      });
    }
    std::vector<std::future<Result>> futures;
    for (int id = 0; id < workers; ++id) futures.push_back(std::async(std::launch::async, worker, id, rounds));
    int served = 0, taken = 0;
    for (auto& f : futures) {
      Result r = f.get();
      served += r.served;
      taken += r.path_taken;
      for (const std::string& failure : r.failures) ADD_FAILURE() << failure;
    }
    stop = true;
    if (hammer.joinable()) hammer.join();
    EXPECT_GT(served, workers * rounds / 2) << "paths taken: " << taken;
    if (with_anchor) {
      EXPECT_GT(anchor_ok.load(), 0);
      EXPECT_TRUE(anchor_failures.empty()) << anchor_failures.size() << " failures, first: " << anchor_failures[0];
    }
  };

  // With an instance that stays: the listener lives on while others come and go.
  run_phase(6, 20, true);
  EXPECT_EQ(anchor.counter("webhook_requests_total{status=202}"), static_cast<double>(anchor.harness.records().size()));

  // Without it: the listener itself is created and stopped over and over, and
  // an open that meets a listener being stopped waits for it and binds anew.
  anchor.close();
  run_phase(6, 20, false);

  EXPECT_LT(std::chrono::steady_clock::now() - started, 60s);
}

}  // namespace
}  // namespace touchpoint::webhook::test
