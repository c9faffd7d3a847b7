// Click and open tracking on the sending side: the signed tokens, the HTML
// link rewriting (hostile and odd markup included), and the composed message.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "composer.hpp"
#include "test_support.hpp"
#include "tracking_links.hpp"
#include "tracking_token.hpp"
#include "unsubscribe_token.hpp"

namespace tp_email {
namespace {

using nlohmann::json;

constexpr char kSecret[] = "0123456789abcdef0123";
constexpr char kContact[] = "c-3f9a0c1d2e4b5a6978877665";
constexpr int64_t kSent = 1764590400;

TEST(TrackingToken, ClickTokensCarryTheirUrlAndVerify) {
  const std::string url = "https://bank.example/angebot?x=1&y=%C3%BC#top";
  const std::string token = sign_click_token(kSecret, kContact, kSent, url);
  EXPECT_EQ(token.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."),
            std::string::npos)
      << "path-safe without escaping: " << token;
  const TrackingToken t = check_click_token(kSecret, token);
  ASSERT_EQ(t.check, TokenCheck::ok);
  EXPECT_EQ(t.contact_id, kContact);
  EXPECT_EQ(t.sent_unix_s, kSent);
  EXPECT_EQ(t.url, url);
  EXPECT_EQ(check_click_token("another-secret-of-20b", token).check, TokenCheck::forged);
}

TEST(TrackingToken, AClickTokenRedirectsOnlyToTheUrlSignedIntoIt) {
  const std::string good = sign_click_token(kSecret, kContact, kSent, "https://bank.example/a");
  const std::string evil = sign_click_token(kSecret, kContact, kSent, "https://evil.example/a");
  // Put the other URL's part into the good token: the MAC no longer matches.
  auto url_part = [](const std::string& t) {
    const size_t a = t.find('.', t.find('.') + 1), b = t.rfind('.');
    return std::pair{a + 1, b - a - 1};
  };
  std::string spliced = good;
  const auto [gpos, glen] = url_part(good);
  const auto [epos, elen] = url_part(evil);
  spliced.replace(gpos, glen, evil.substr(epos, elen));
  EXPECT_EQ(check_click_token(kSecret, spliced).check, TokenCheck::forged);
  // Another send time or contact with the same MAC: forged as well.
  std::string later = good;
  later.replace(later.find(std::to_string(kSent)), 10, std::to_string(kSent + 1));
  EXPECT_EQ(check_click_token(kSecret, later).check, TokenCheck::forged);
  std::string other = good;
  other.replace(2, 24, std::string(24, '0'));
  EXPECT_EQ(check_click_token(kSecret, other).check, TokenCheck::forged);
}

TEST(TrackingToken, KindsDoNotVerifyAsEachOther) {
  const std::string open = sign_open_token(kSecret, kContact, kSent);
  const std::string unsubscribe = sign_unsubscribe_token(kSecret, kContact);
  EXPECT_EQ(check_open_token(kSecret, open).check, TokenCheck::ok);
  EXPECT_NE(check_unsubscribe_token(kSecret, open).check, TokenCheck::ok);
  EXPECT_NE(check_click_token(kSecret, open).check, TokenCheck::ok);
  EXPECT_NE(check_open_token(kSecret, unsubscribe).check, TokenCheck::ok);
  // An open token's MAC with an unsubscribe shape: "{contact}.{mac}".
  EXPECT_EQ(check_unsubscribe_token(kSecret, std::string(kContact) + open.substr(open.rfind('.'))).check,
            TokenCheck::forged);
}

TEST(TrackingToken, RefusesWhatItCannotRedirectTo) {
  for (const std::string& url :
       {std::string("javascript:alert(1)"), std::string("ftp://x.example/"),
        std::string("https://x.example/\r\nSet-Cookie: a=b"), std::string("https://x y"),
        std::string("//evil.example/"), std::string(), "https://x.example/" + std::string(3000, 'a')})
    EXPECT_THROW(sign_click_token(kSecret, kContact, kSent, url), std::invalid_argument) << url.substr(0, 40);
  EXPECT_TRUE(trackable_url("HTTPS://Bank.example/"));
  EXPECT_THROW(sign_open_token("", kContact, kSent), std::invalid_argument);
}

TEST(TrackingToken, MalformedInputIsMalformed) {
  const std::string good = sign_click_token(kSecret, kContact, kSent, "https://bank.example/a");
  const std::string open = sign_open_token(kSecret, kContact, kSent);
  for (const std::string& bad :
       {std::string(), std::string("."), std::string("...."), good.substr(0, good.size() - 1), good + "0",
        std::string(kContact) + ".", open + ".x", "c-3F9A0C1D2E4B5A6978877665" + open.substr(26),
        std::string(kContact) + ".01764590400" + open.substr(open.rfind('.')),
        std::string(kContact) + ".1234567890123" + open.substr(open.rfind('.')), std::string(5000, 'a'),
        std::string("../../etc/passwd")})
    EXPECT_EQ(check_open_token(kSecret, bad).check, TokenCheck::malformed) << bad.substr(0, 60);
  // A URL part that is not base64url, or decodes to something not trackable.
  std::string plus = good;
  plus[good.find('.', 27) + 2] = '+';
  EXPECT_EQ(check_click_token(kSecret, plus).check, TokenCheck::malformed);
  const std::string js = std::string(kContact) + "." + std::to_string(kSent) + ".amF2YXNjcmlwdDphbGVydCgxKQ." +
                         std::string(32, 'a');  // base64url("javascript:alert(1)")
  EXPECT_EQ(check_click_token(kSecret, js).check, TokenCheck::malformed);
  EXPECT_EQ(check_click_token(kSecret, std::string(kMaxTrackingTokenBytes + 1, 'a')).check, TokenCheck::malformed);
}

std::string rewrite_all(std::string_view html, size_t& n) {
  return rewrite_links(
      html, [](const std::string& url) -> std::optional<std::string> { return "T[" + url + "]"; }, n);
}

TEST(TrackingLinks, RewritesOnlyHrefsOfAnchors) {
  size_t n = 0;
  const std::string out = rewrite_all(
      "<p><a href=\"https://a.example/x?a=1&amp;b=2\">A</a> <A class=x HREF='https://b.example/'>B</A>"
      "<a href=https://c.example/>C</a><link href=\"https://css.example/\"><img src=\"https://img.example/\">"
      "<abbr href=\"https://no.example/\">x</abbr><a name=top>no href</a>"
      "<a data-tp-notrack href=\"https://keep.example/\">K</a></p>",
      n);
  EXPECT_EQ(n, 3u);
  EXPECT_NE(out.find("<a href=\"T[https://a.example/x?a=1&amp;b=2]\">A</a>"), std::string::npos) << out;
  EXPECT_NE(out.find("<A class=x HREF=\"T[https://b.example/]\">B</A>"), std::string::npos) << out;
  EXPECT_NE(out.find("<a href=\"T[https://c.example/]\">C</a>"), std::string::npos) << out;
  EXPECT_NE(out.find("<link href=\"https://css.example/\">"), std::string::npos);
  EXPECT_NE(out.find("<abbr href=\"https://no.example/\">"), std::string::npos);
  EXPECT_NE(out.find("href=\"https://keep.example/\""), std::string::npos);
}

TEST(TrackingLinks, DecodesCharacterReferencesAndKeepsWhatItCannot) {
  EXPECT_EQ(decode_attribute("a&amp;b&lt;&gt;&quot;&apos;&#233;&#xE9;&#x1F600;"),
            "a&b<>\"'\xc3\xa9\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_FALSE(decode_attribute("&nbsp;"));
  EXPECT_FALSE(decode_attribute("a&b"));
  EXPECT_FALSE(decode_attribute("&#0;"));
  EXPECT_FALSE(decode_attribute("&#xD800;"));
  EXPECT_FALSE(decode_attribute("&#99999999999;"));
  size_t n = 0;
  const std::string html = "<a href=\"https://x.example/?a=1&nbsp;\">x</a>";
  EXPECT_EQ(rewrite_all(html, n), html);
  EXPECT_EQ(n, 0u);
  // Whitespace around the URL is what a browser strips too.
  EXPECT_EQ(rewrite_all("<a href=\"\n  https://x.example/ \t\">x</a>", n), "<a href=\"T[https://x.example/]\">x</a>");
}

TEST(TrackingLinks, BrokenMarkupIsLeftAsItIs) {
  for (const std::string html :
       {"<a href=\"https://x.example/", "<a href='https://x.example/'", "<a href=", "<a", "<a ", "<", "<a href",
        "<<<<a>>>", "<a/href=\"https://x.example/\"", "plain text", ""}) {
    size_t n = 1;
    EXPECT_EQ(rewrite_all(html, n), html) << html;
    EXPECT_EQ(n, 0u) << html;
  }
  size_t n = 0;
  // The first of duplicate attributes wins, as in a browser.
  EXPECT_EQ(rewrite_all("<a href=\"https://1.example/\" href=\"https://2.example/\">", n),
            "<a href=\"T[https://1.example/]\" href=\"https://2.example/\">");
  // The replacement is escaped for the attribute.
  EXPECT_EQ(rewrite_links(
                "<a href=x>", [](const std::string&) { return std::optional<std::string>("a\"&b"); }, n),
            "<a href=\"a&quot;&amp;b\">");
}

TEST(TrackingLinks, HugeAndManyLinksAreLinear) {
  std::string html;
  for (int i = 0; i < 50000; ++i) html += "<a href=\"https://x.example/" + std::to_string(i) + "\">l</a>";
  html += "<a href=\"" + std::string(5'000'000, 'h') + "\">";
  size_t n = 0;
  const std::string out = rewrite_all(html, n);
  EXPECT_EQ(n, 50001u);
  EXPECT_EQ(out.size(), html.size() + 50001 * 3);
}

TEST(TrackingLinks, ThePixelGoesBeforeTheLastBodyEnd) {
  EXPECT_EQ(insert_before_body_end("<html><BODY>x</BODY></html>", "<img>"), "<html><BODY>x<img></BODY></html>");
  EXPECT_EQ(insert_before_body_end("<p>x</p>", "<img>"), "<p>x</p><img>");
  EXPECT_EQ(insert_before_body_end("</body>a</body>", "<img>"), "</body>a<img></body>");
  EXPECT_EQ(insert_before_body_end("", "<img>"), "<img>");
}

class TrackedComposerTest : public ::testing::Test {
 protected:
  TrackedComposerTest() {
    test::write_template(dir_.path(), "offer", "Angebot", "Hallo {{customer.first_name}}: https://bank.example/a\n",
                         "<html><body><p>Hallo {{customer.first_name}}</p>"
                         "<a href=\"https://bank.example/a?x=1&amp;y={{vars.code}}\">Angebot</a>"
                         "<a href=\"mailto:hilfe@bank.example\">Hilfe</a>"
                         "<a href=\"https://bank.example/user-guide\">Hilfe</a>"
                         "<a href=\"{{unsubscribe_url}}\">Abmelden</a></body></html>");
    config(json{{"url_base", "https://t.bank.example/"}});
  }
  void config(const json& tracking) {
    json c = json::parse(test::sink_config(dir_.path(), 2525));
    c["tracking"] = tracking;
    config_ = parse_email_config(c.dump());
    templates_ = std::make_unique<TemplateStore>(dir_.path().string());
  }
  std::string html(json data) {
    const Composed m = Composer(config_, *templates_).compose(kContact, data.dump(), kSent);
    test::ParsedMail p(m.message);
    EXPECT_TRUE(p.ok());
    return p.part_text("text/html");
  }
  json contact() {
    json d = json::parse(test::message_data(kContact, "anna@example.de", "Anna", "Müller", "offer"));
    d["vars"] = {{"code", "<&\">"}};
    return d;
  }
  static std::vector<std::string> hrefs(const std::string& html) {
    std::vector<std::string> out;
    const std::regex href("href=\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), href); it != std::sregex_iterator(); ++it)
      out.push_back((*it)[1]);
    return out;
  }

  test::TempDir dir_;
  EmailConfig config_;
  std::unique_ptr<TemplateStore> templates_;
};

TEST_F(TrackedComposerTest, LinksGoThroughTheHubAndThePixelIsAdded) {
  const std::string h = html(contact());
  const std::vector<std::string> links = hrefs(h);
  ASSERT_EQ(links.size(), 4u) << h;
  const std::string prefix = "https://t.bank.example/c/";
  ASSERT_EQ(links[0].rfind(prefix, 0), 0u) << links[0];
  const TrackingToken t = check_click_token(kSecret, links[0].substr(prefix.size()));
  ASSERT_EQ(t.check, TokenCheck::ok);
  EXPECT_EQ(t.url, "https://bank.example/a?x=1&y=<&\">") << "the URL the browser would have followed";
  EXPECT_EQ(t.contact_id, kContact);
  EXPECT_EQ(t.sent_unix_s, kSent);
  EXPECT_EQ(links[1], "mailto:hilfe@bank.example");
  EXPECT_EQ(links[2].rfind(prefix, 0), 0u) << "not under the unsubscribe URL: " << links[2];
  EXPECT_EQ(links[3], "https://bank.example/u/" + sign_unsubscribe_token(kSecret, kContact)) << "the hub's own link";
  const std::string pixel = "<img src=\"https://t.bank.example/o/" + sign_open_token(kSecret, kContact, kSent) +
                            ".gif\" width=\"1\" height=\"1\" alt=\"\" style=\"border:0;width:1px;height:1px\"></body>";
  EXPECT_NE(h.find(pixel), std::string::npos) << h;
}

TEST_F(TrackedComposerTest, TheTextPartKeepsItsLinks) {
  const Composed m = Composer(config_, *templates_).compose(kContact, contact().dump(), kSent);
  test::ParsedMail p(m.message);
  EXPECT_EQ(p.part_text("text/plain"), "Hallo Anna: https://bank.example/a\r\n");
}

TEST_F(TrackedComposerTest, CampaignsAndConsentSwitchItOff) {
  json off = contact();
  off["vars"]["tracking"] = false;
  std::string h = html(off);
  EXPECT_EQ(h.find("t.bank.example"), std::string::npos) << h;

  config(json{{"url_base", "https://t.bank.example"}, {"consent_attribute", "tracking_consent"}});
  h = html(contact());
  EXPECT_EQ(h.find("t.bank.example"), std::string::npos) << "no consent attribute: not tracked";
  json yes = contact();
  yes["customer"]["tracking_consent"] = true;
  EXPECT_NE(html(yes).find("https://t.bank.example/c/"), std::string::npos);
  yes["customer"]["tracking_consent"] = "yes";
  EXPECT_EQ(html(yes).find("t.bank.example"), std::string::npos) << "only true is consent";

  config(json{{"url_base", "https://t.bank.example"}, {"opens", false}});
  h = html(contact());
  EXPECT_NE(h.find("/c/"), std::string::npos);
  EXPECT_EQ(h.find("/o/"), std::string::npos);
  config(json{{"url_base", "https://t.bank.example"}, {"clicks", false}});
  h = html(contact());
  EXPECT_EQ(h.find("/c/"), std::string::npos);
  EXPECT_NE(h.find("/o/"), std::string::npos);
}

TEST_F(TrackedComposerTest, ConfigErrorsNameTheKey) {
  auto error = [&](const json& tracking) {
    try {
      config(tracking);
      return std::string();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  };
  EXPECT_NE(error(json{{"clicks", true}}).find("'tracking.url_base' is required"), std::string::npos);
  EXPECT_NE(error(json{{"url_base", "https://t.example/?a=1&b=2"}}).find("'tracking.url_base' must not"),
            std::string::npos);
  EXPECT_NE(error(json{{"url_base", "https://t.example"}, {"opens", "yes"}}).find("'tracking.opens'"),
            std::string::npos);
  EXPECT_NE(error(json{{"url_base", "https://t.example"}, {"machine_user_agents", json::array({""})}})
                .find("'tracking.machine_user_agents'"),
            std::string::npos);
  EXPECT_NE(error(json{{"url_base", "https://t.example"}, {"machine_within_seconds", -1}})
                .find("'tracking.machine_within_seconds'"),
            std::string::npos);
  EXPECT_NE(error(json{{"url_base", "https://t.example"}, {"pixel", true}}).find("'tracking.pixel'"),
            std::string::npos);
  EXPECT_EQ(error(json{{"url_base", "https://t.example"}, {"machine_user_agents", json::array({"MyScanner"})}}), "");
  EXPECT_EQ(config_.tracking.machine_user_agents, std::vector<std::string>{"myscanner"}) << "lower-cased";
}

}  // namespace
}  // namespace tp_email
