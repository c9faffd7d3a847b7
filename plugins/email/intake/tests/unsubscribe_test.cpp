// Token verification and the one-click endpoint over real HTTP on loopback.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include "hash.hpp"
#include "link_server_fixture.hpp"
#include "test_support.hpp"
#include "unsubscribe_token.hpp"

namespace tp_email::intake {
namespace {

using test::data_of;
using test::Reply;

constexpr const char* kSecret = test::kLinkSecret;
constexpr const char* kContact = test::kLinkContact;

// What the sender's sign() produces (same format, written independently here).
std::string sign(const std::string& contact, const std::string& secret = kSecret) {
  return contact + "." + detail::hmac_sha256_hex(secret, contact).substr(0, 32);
}

TEST(UnsubscribeToken, Verify) {
  const TokenResult ok = check_unsubscribe_token(kSecret, sign(kContact));
  EXPECT_EQ(ok.check, TokenCheck::ok);
  EXPECT_EQ(ok.contact_id, kContact);
  EXPECT_EQ(check_unsubscribe_token(kSecret, sign(kContact, "other")).check, TokenCheck::forged);
  std::string flipped = sign(kContact);
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_EQ(check_unsubscribe_token(kSecret, flipped).check, TokenCheck::forged);
  EXPECT_EQ(check_unsubscribe_token("", sign(kContact)).check, TokenCheck::forged);
  const std::string good = sign(kContact);
  for (const std::string& bad :
       {good.substr(0, good.size() - 1), good + "0", std::string(kContact), std::string(kContact) + ".",
        "." + good.substr(27), std::string("c-3F9A0C1D2E4B5A6978877665") + good.substr(26),
        good.substr(0, 27) + std::string(32, 'G'), std::string(""), std::string("../../etc/passwd"), good + "/x",
        good.substr(0, 26) + ".." + good.substr(27)})
    EXPECT_EQ(check_unsubscribe_token(kSecret, bad).check, TokenCheck::malformed) << bad;
}

class Unsubscribe : public test::LinkServerTest {};

TEST_F(Unsubscribe, GetShowsAConfirmPageAndChangesNothing) {
  const Reply r = request("/u/" + sign(kContact));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<form method=\"post\" action=\"/u/" + sign(kContact) + "\">"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("name=\"List-Unsubscribe\" value=\"One-Click\""), std::string::npos);
  EXPECT_TRUE(emitted().empty());
}

TEST_F(Unsubscribe, OneClickPostEmitsAnUnsubscribeResponse) {
  const Reply r = request("/u/" + sign(kContact), "List-Unsubscribe=One-Click");
  EXPECT_EQ(r.status, 200);
  const auto records = emitted();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].type, "response");
  const auto d = data_of(records[0]);
  EXPECT_EQ(d["contact_id"], kContact);
  EXPECT_EQ(d["channel"], "email");
  EXPECT_EQ(d["kind"], "unsubscribe");
  EXPECT_EQ(d["detail"]["method"], "one-click");
  // A second click gives the same response id: the hub applies it once.
  EXPECT_EQ(request("/u/" + sign(kContact), "List-Unsubscribe=One-Click").status, 200);
  ASSERT_EQ(emitted().size(), 2u);
  EXPECT_EQ(emitted()[1].id, records[0].id);
}

TEST_F(Unsubscribe, ForgedTruncatedAndUnknownTokensEmitNothing) {
  const std::string good = sign(kContact);
  EXPECT_EQ(request("/u/" + sign(kContact, "guess"), "List-Unsubscribe=One-Click").status, 404);
  EXPECT_EQ(request("/u/" + good.substr(0, good.size() - 4), "List-Unsubscribe=One-Click").status, 400);
  EXPECT_EQ(request("/u/" + std::string(kContact), "List-Unsubscribe=One-Click").status, 400);
  EXPECT_EQ(request("/u/", "List-Unsubscribe=One-Click").status, 400);
  EXPECT_EQ(request("/u/%2e%2e%2fetc%2fpasswd").status, 400);
  EXPECT_EQ(request("/u/" + good + "?x=1", "List-Unsubscribe=One-Click").status, 400);
  EXPECT_EQ(request("/unsubscribe/" + good, "List-Unsubscribe=One-Click").status, 404);
  EXPECT_EQ(request("/").status, 404);
  EXPECT_TRUE(emitted().empty());
}

TEST_F(Unsubscribe, PostNeedsTheOneClickBody) {
  const std::string path = "/u/" + sign(kContact);
  EXPECT_EQ(request(path, "").status, 400);
  EXPECT_EQ(request(path, "List-Unsubscribe=Yes").status, 400);
  EXPECT_EQ(request(path, "x=1&List-Unsubscribe=One-Click").status, 200);
  EXPECT_EQ(request(path, "List-Unsubscribe=One-Click", "PUT").status, 405);
  const std::string big(64 * 1024, 'a');
  EXPECT_EQ(request(path, big.c_str()).status, 413);
  EXPECT_EQ(emitted().size(), 1u);
}

TEST_F(Unsubscribe, RefusedEmitIs503) {
  accept_ = false;
  EXPECT_EQ(request("/u/" + sign(kContact), "List-Unsubscribe=One-Click").status, 503);
}

TEST_F(Unsubscribe, StopIsIdempotentAndClosesThePort) {
  const std::uint16_t port = server_->port();
  ASSERT_NE(port, 0);
  server_->stop();
  server_->stop();
  CURL* h = curl_easy_init();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/u/x";
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
  EXPECT_NE(curl_easy_perform(h), CURLE_OK);
  curl_easy_cleanup(h);
}

}  // namespace
}  // namespace tp_email::intake
