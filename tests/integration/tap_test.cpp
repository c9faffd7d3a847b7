// `touchpoint tap` and GET /v1/tap: live records at one point of a running
// pipeline, masked unless allowed, bounded, and released when the watcher goes.
#include <atomic>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support.hpp"

namespace tp_it {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class TapTest : public HubTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    write_hub_config();
    write_webhook_pipeline("web",
                           "  - normalize_email: { field: email }\n"
                           "  - set: { channel: web }\n");
    write_webhook_pipeline("other");
    start_hub();
  }

  /// Posts profiles to `pipeline` every few milliseconds until `done` is set.
  std::thread keep_posting(const std::string& pipeline, std::atomic<bool>& done) {
    return std::thread([this, pipeline, &done] {
      for (int i = 0; !done.load(); ++i) {
        post(pipeline, R"({"customer_id":"c)" + std::to_string(i) +
                           R"(","email":" Anna.Schmidt@Example.DE ","phone":"+49 170 1234567","n":4915112345678})");
        std::this_thread::sleep_for(10ms);
      }
    });
  }

  size_t open_taps() {
    HttpResponse s = admin_get("/status");
    return nlohmann::json::parse(s.body)["taps"].size();
  }

  static std::vector<nlohmann::json> lines_of(const std::string& out) {
    std::vector<nlohmann::json> v;
    std::istringstream in(out);
    std::string l;
    while (std::getline(in, l))
      if (!l.empty()) v.push_back(nlohmann::json::parse(l));
    return v;
  }
};

TEST_F(TapTest, ShowsRecordsAfterAStepMaskedAndEndsAtTheLimit) {
  std::atomic<bool> done{false};
  CommandResult r;
  std::thread tap([&] {
    r = cli({"tap", "web", "--step", "1", "--limit", "3"});
    done = true;
  });
  std::thread poster = keep_posting("web", done);
  tap.join();
  poster.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;  // open, 3 records, end
  EXPECT_EQ(lines[0]["tap"], "open");
  EXPECT_EQ(lines[0]["at"], "after 1:normalize_email");
  EXPECT_EQ(lines[0]["pii"], "masked");
  for (size_t i = 1; i <= 3; ++i) {
    const auto& rec = lines[i]["record"];
    EXPECT_EQ(lines[i]["pipeline"], "web");
    EXPECT_EQ(lines[i]["point"], 1);
    // After step 1 the e-mail is normalized, before step 2 there is no channel yet.
    EXPECT_EQ(rec["data"]["email"], "a***@example.de") << lines[i];
    EXPECT_FALSE(rec["data"].contains("channel")) << lines[i];
    EXPECT_EQ(rec["data"]["phone"].get<std::string>().find("1234567"), std::string::npos) << lines[i];
    EXPECT_TRUE(rec["data"]["n"].is_string()) << lines[i];  // a phone-long number is masked too
  }
  EXPECT_EQ(r.out.find("Anna"), std::string::npos);
  EXPECT_EQ(r.out.find("anna.schmidt"), std::string::npos);
  EXPECT_EQ(lines[4]["tap"], "end");
  EXPECT_EQ(lines[4]["reason"], "limit");
  EXPECT_EQ(lines[4]["records"], 3);
  EXPECT_TRUE(poll_until([&] { return open_taps() == 0; }, 5s));
}

TEST_F(TapTest, AllowPiiShowsClearValuesAtTheOutputOfTheLastStep) {
  std::atomic<bool> done{false};
  CommandResult r;
  std::thread tap([&] {
    r = cli({"tap", "web", "--limit", "1", "--allow-pii"});
    done = true;
  });
  std::thread poster = keep_posting("web", done);
  tap.join();
  poster.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0]["at"], "after 2:set");
  EXPECT_EQ(lines[0]["pii"], "shown");
  EXPECT_EQ(lines[1]["record"]["data"]["email"], "anna.schmidt@example.de");
  EXPECT_EQ(lines[1]["record"]["data"]["channel"], "web");
  EXPECT_EQ(lines[1]["record"]["data"]["n"], 4915112345678);
}

TEST_F(TapTest, StepZeroSeesRecordsAsReadAndOtherPipelinesAreNotShown) {
  std::atomic<bool> done{false};
  CommandResult r;
  std::thread tap([&] {
    r = cli({"tap", "web", "--step", "0", "--limit", "2", "--allow-pii"});
    done = true;
  });
  std::thread other = keep_posting("other", done);
  std::thread poster = keep_posting("web", done);
  tap.join();
  poster.join();
  other.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0]["at"], "as read from the source");
  for (size_t i = 1; i <= 2; ++i) {
    EXPECT_EQ(lines[i]["pipeline"], "web");
    EXPECT_EQ(lines[i]["record"]["data"]["email"], " Anna.Schmidt@Example.DE ");  // not normalized yet
  }
}

TEST_F(TapTest, AnIdleTapEndsOnTimeAndBadRequestsGetClearErrors) {
  HttpResponse idle = admin_get("/v1/tap?pipeline=web&seconds=1");
  ASSERT_EQ(idle.status, 200) << idle.body;
  EXPECT_EQ(idle.headers["content-type"], "application/x-ndjson");
  auto lines = lines_of(idle.body);
  ASSERT_EQ(lines.size(), 2u) << idle.body;
  EXPECT_EQ(lines[1], nlohmann::json::parse(R"({"tap":"end","reason":"time","records":0,"dropped":0})"));

  EXPECT_EQ(admin_get("/v1/tap").status, 400);
  EXPECT_EQ(admin_get("/v1/tap?pipeline=nosuch").status, 404);
  EXPECT_EQ(admin_get("/v1/tap?pipeline=%00%ff%22").status, 404);
  for (const char* bad : {"step=3", "step=-1", "step=99999999999999999999999", "step=1x", "limit=0", "limit=1000001",
                          "seconds=0", "seconds=86401", "pii=yes"}) {
    HttpResponse r = admin_get(std::string("/v1/tap?pipeline=web&") + bad);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_NE(r.body.find("\"error\""), std::string::npos) << r.body;
  }
  EXPECT_EQ(admin_get("/v1/tap?pipeline=web", false).status, 401);
  CommandResult cli_refused = cli({"tap", "nosuch"});
  EXPECT_EQ(cli_refused.exit_code, 1);
  EXPECT_NE(cli_refused.err.find("404"), std::string::npos) << cli_refused.err;
  EXPECT_NE(cli_refused.err.find("no running pipeline 'nosuch'"), std::string::npos) << cli_refused.err;
}

// Taps are bounded: a third one is refused, and a watcher that leaves frees its tap.
TEST_F(TapTest, AtMostTwoTapsAndAClientThatLeavesFreesItsTap) {
  std::vector<std::thread> watchers;
  for (int i = 0; i < 2; ++i)
    watchers.emplace_back([this] {
      // The client gives up after 1.5 s; the tap would run for 60.
      http_request("GET", hub_->admin_url("/v1/tap?pipeline=web&seconds=60"), "",
                   {"Authorization: Bearer " + admin_token()}, 1500ms);
    });
  ASSERT_TRUE(poll_until([&] { return open_taps() == 2; }, 5s));
  HttpResponse third = admin_get("/v1/tap?pipeline=web");
  EXPECT_EQ(third.status, 429) << third.body;
  EXPECT_EQ(third.headers["retry-after"], "5");
  for (auto& w : watchers) w.join();
  // The next heartbeat write fails on the closed connection and the tap closes.
  EXPECT_TRUE(poll_until([&] { return open_taps() == 0; }, 5s));
  const std::string log = hub_->log();
  EXPECT_NE(log.find("tap on web ended: the client went away"), std::string::npos) << log;
  // The records posted meanwhile were all accepted.
  EXPECT_EQ(post("web", R"({"customer_id":"after","email":"a@example.de"})").status, 202);
}

}  // namespace
}  // namespace tp_it
