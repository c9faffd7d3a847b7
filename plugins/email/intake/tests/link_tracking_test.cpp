// The click and open endpoints over real HTTP on loopback: redirects only to
// the signed URL, the pixel, machines flagged, repeats emitted once, and
// hostile tokens answered without emitting anything.
#include <gtest/gtest.h>

#include "hash.hpp"
#include "link_server_fixture.hpp"
#include "test_support.hpp"
#include "tracking_token.hpp"

namespace tp_email::intake {
namespace {

using test::data_of;
using test::Reply;

constexpr const char* kBrowser =
    "User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1";

class LinkTracking : public test::LinkServerTest {
 protected:
  void SetUp() override {
    LinkServerConfig cfg;
    cfg.machine.user_agents = {"barracuda", "python-"};
    cfg.machine.within_seconds = 5;
    start(cfg);
  }
  int64_t an_hour_ago() const { return now_.load() - 3600; }
  std::string click_path(const std::string& url) {
    return "/c/" + sign_click_token(kSecret, kContact, an_hour_ago(), url);
  }
  std::string open_path() { return "/o/" + sign_open_token(kSecret, kContact, an_hour_ago()) + ".gif"; }
};

TEST_F(LinkTracking, AClickRedirectsToTheSignedUrlAndIsRecorded) {
  const std::string url = "https://bank.example/angebot?x=1&y=%C3%BC#top";
  Reply r = request(click_path(url), nullptr, nullptr, {kBrowser});
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.headers["location"], url);
  EXPECT_EQ(r.headers["referrer-policy"], "no-referrer");
  EXPECT_EQ(r.headers["cache-control"], "no-store, private");
  const auto records = emitted();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].type, "response");
  const auto d = data_of(records[0]);
  EXPECT_EQ(d["contact_id"], kContact);
  EXPECT_EQ(d["channel"], "email");
  EXPECT_EQ(d["kind"], "clicked");
  EXPECT_EQ(d["at"], "2025-12-01T12:00:00Z");
  EXPECT_EQ(d["detail"]["url"], url);
  EXPECT_EQ(d["detail"]["machine"], false);
  EXPECT_FALSE(d["detail"].contains("machine_reason"));
  EXPECT_EQ(d["detail"]["user_agent"], std::string(kBrowser).substr(12));
  // The token format, checked with an HMAC written independently of the signer.
  const std::string token = click_path(url).substr(3);
  const std::string message = "click\n" + std::string(kContact) + "\n" + std::to_string(an_hour_ago()) + "\n" + url;
  EXPECT_EQ(token.substr(token.rfind('.') + 1), detail::hmac_sha256_hex(kSecret, message).substr(0, 32));
}

TEST_F(LinkTracking, AnOpenAnswersATransparentGif) {
  Reply r = request(open_path(), nullptr, nullptr, {kBrowser});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "image/gif");
  ASSERT_EQ(r.body.size(), 43u);
  EXPECT_EQ(r.body.substr(0, 6), "GIF89a");
  const auto records = emitted();
  ASSERT_EQ(records.size(), 1u);
  const auto d = data_of(records[0]);
  EXPECT_EQ(d["kind"], "opened");
  EXPECT_EQ(d["detail"]["machine"], false);
  EXPECT_FALSE(d["detail"].contains("url"));
  EXPECT_EQ(request(open_path().substr(0, open_path().size() - 4)).status, 404) << "the name ends in .gif";
}

TEST_F(LinkTracking, MachinesAreRecordedAndFlagged) {
  const std::string path = click_path("https://bank.example/a");
  struct Case {
    std::vector<std::string> headers;
    const char* method;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {{kBrowser}, "HEAD", "head_request"},
      {{"User-Agent:"}, nullptr, "no_user_agent"},
      {{"User-Agent: Mozilla/5.0"}, nullptr, "generic_user_agent"},
      {{"User-Agent: Mozilla/5.0 (compatible; Barracuda Sentinel)"}, nullptr, "user_agent:barracuda"},
      {{"User-Agent: python-requests/2.31"}, nullptr, "user_agent:python-"},
  };
  for (const Case& c : cases) {
    emitted_.clear();
    start([] {
      LinkServerConfig cfg;
      cfg.machine.user_agents = {"barracuda", "python-"};
      return cfg;
    }());
    Reply r = request(path, nullptr, c.method, c.headers);
    EXPECT_EQ(r.status, 302) << c.reason;
    EXPECT_EQ(r.headers["location"], "https://bank.example/a") << c.reason;
    const auto records = emitted();
    ASSERT_EQ(records.size(), 1u) << c.reason;
    EXPECT_EQ(data_of(records[0])["detail"]["machine"], true) << c.reason;
    EXPECT_EQ(data_of(records[0])["detail"]["machine_reason"], c.reason);
  }
  // Within seconds of sending: a gateway's scanner, whatever it claims to be.
  emitted_.clear();
  const std::string fresh = "/o/" + sign_open_token(kSecret, kContact, now_.load() - 2) + ".gif";
  EXPECT_EQ(request(fresh, nullptr, nullptr, {kBrowser}).status, 200);
  ASSERT_EQ(emitted().size(), 1u);
  EXPECT_EQ(data_of(emitted()[0])["detail"]["machine_reason"], "too_soon_after_send");
}

TEST_F(LinkTracking, RepeatedHitsAreEmittedOnceAndAPersonAfterAMachineIsNot) {
  const std::string path = click_path("https://bank.example/a");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(request(path, nullptr, nullptr, {kBrowser}).status, 302);
  EXPECT_EQ(request(path, nullptr, "HEAD", {kBrowser}).status, 302);
  EXPECT_EQ(request(click_path("https://bank.example/b"), nullptr, nullptr, {kBrowser}).status, 302);
  const auto records = emitted();
  ASSERT_EQ(records.size(), 3u) << "person on a, machine on a, person on b";
  EXPECT_NE(records[0].id, records[1].id);
  EXPECT_NE(records[0].id, records[2].id);
  EXPECT_EQ(data_of(records[1])["detail"]["machine"], true);
}

TEST_F(LinkTracking, ARefusedEmitStillRedirectsAndTheNextHitTriesAgain) {
  accept_ = false;
  const std::string path = click_path("https://bank.example/a");
  EXPECT_EQ(request(path, nullptr, nullptr, {kBrowser}).status, 302);
  EXPECT_EQ(request(open_path(), nullptr, nullptr, {kBrowser}).status, 200);
  accept_ = true;
  EXPECT_EQ(request(path, nullptr, nullptr, {kBrowser}).status, 302);
  const auto records = emitted();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].id, records[2].id) << "the same hit, offered again";
}

TEST_F(LinkTracking, ForgedAndHostileTokensEmitNothingAndRedirectNowhere) {
  const std::string good = click_path("https://bank.example/a").substr(3);
  const std::string other = click_path("https://evil.example/a").substr(3);
  const size_t g = good.find('.', 27), e = other.find('.', 27);
  const std::string spliced = good.substr(0, g) + other.substr(e, other.rfind('.') - e) + good.substr(good.rfind('.'));
  for (const auto& [path, status] : std::vector<std::pair<std::string, long>>{
           {"/c/" + spliced, 404},
           {"/c/" + sign_click_token("another-secret-123", kContact, an_hour_ago(), "https://evil.example/"), 404},
           {"/c/" + good.substr(0, good.size() - 1), 400},
           {"/c/", 400},
           {"/c/%2e%2e%2fetc%2fpasswd", 400},
           {"/c/" + std::string(6000, 'A'), 400},
           {"/c/" + std::string(20000, 'A'), 400},
           {"/o/" + std::string(kContact) + ".1.x.gif", 400},
           {"/o/.gif", 400},
           {"/o/x", 404},
           {"/x/" + good, 404}}) {
    Reply r = request(path);
    EXPECT_EQ(r.status, status) << path.substr(0, 80);
    EXPECT_EQ(r.headers.count("location"), 0u) << path.substr(0, 80);
  }
  EXPECT_EQ(request("/c/" + good, "x=1").status, 405);
  EXPECT_EQ(request("/o/" + sign_open_token(kSecret, kContact, 1) + ".gif", nullptr, "DELETE").status, 405);
  EXPECT_TRUE(emitted().empty());
  // A query string a proxy appends is not part of the token.
  EXPECT_EQ(request("/c/" + good + "?utm_source=proxy", nullptr, nullptr, {kBrowser}).status, 302);
  EXPECT_EQ(emitted().size(), 1u);
}

TEST_F(LinkTracking, AHugeUserAgentIsCut) {
  const std::string ua = "User-Agent: Mozilla/5.0 " + std::string(4000, 'x');
  EXPECT_EQ(request(open_path(), nullptr, nullptr, {ua}).status, 200);
  ASSERT_EQ(emitted().size(), 1u);
  EXPECT_EQ(data_of(emitted()[0])["detail"]["user_agent"].get<std::string>().size(), 256u);
}

}  // namespace
}  // namespace tp_email::intake
