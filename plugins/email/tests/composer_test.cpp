// The message as composed from a contact: envelope, headers, MIME structure,
// templates, and hostile or huge input.
#include "composer.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <touchpoint/testing.hpp>

#include "test_support.hpp"
#include "unsubscribe_token.hpp"

namespace tp_email {
namespace {

using nlohmann::json;
using test::ParsedMail;

class ComposerTest : public ::testing::Test {
 protected:
  ComposerTest() {
    test::write_template(
        dir_.path(), "spring", "{{customer.first_name}}, Ihr Zinssatz: {{vars.rate}} – jetzt",
        "Hallo {{customer.first_name}} {{customer.last_name}},\nZins {{vars.rate}}.\n"
        "Abmelden: {{unsubscribe_url}}\n",
        "<p>Hallo {{customer.first_name}}</p><p>{{vars.rate}}</p><a href=\"{{unsubscribe_url}}\">x</a>");
    test::write_template(dir_.path(), "plain", "Nur Text", "Hallo {{customer.first_name}}\n");
    test::write_template(dir_.path(), "big", "Big", "{{vars.blob}}\n", "<p>{{vars.blob}}</p>");
    config_ = parse_email_config(test::sink_config(dir_.path(), 2525));
    templates_ = std::make_unique<TemplateStore>(dir_.path().string());
  }
  Composed compose(const std::string& data, std::string_view id = "c-000000000000000000000001") {
    return Composer(config_, *templates_).compose(id, data, 1764590400);
  }
  std::string compose_error(const std::string& data) {
    try {
      (void)compose(data);
      return {};
    } catch (const ComposeError& e) {
      return e.what();
    }
  }
  json contact(const std::string& cid = "c-3f9a0c1d2e4b5a6978877665") {
    return json::parse(test::message_data(cid, "anna@example.de"));
  }

  test::TempDir dir_;
  EmailConfig config_;
  std::unique_ptr<TemplateStore> templates_;
};

TEST_F(ComposerTest, EnvelopeCarriesTheContactIdInVerpAndEnvid) {
  const Composed m = compose(contact().dump());
  EXPECT_EQ(m.contact_id, "c-3f9a0c1d2e4b5a6978877665");
  EXPECT_EQ(m.envelope.mail_from, "bounces+c-3f9a0c1d2e4b5a6978877665@bank.example");
  EXPECT_EQ(m.envelope.envid, "c-3f9a0c1d2e4b5a6978877665");
  EXPECT_EQ(m.envelope.rcpt, "anna@example.de");
  EXPECT_EQ(m.message_id, "<c-3f9a0c1d2e4b5a6978877665@mail.bank.example>");
}

TEST_F(ComposerTest, HeadersForMarketingMail) {
  const Composed m = compose(contact().dump());
  ParsedMail p(m.message);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.header("Message-Id"), "<c-3f9a0c1d2e4b5a6978877665@mail.bank.example>");
  EXPECT_EQ(p.header("From"), "Bank <news@bank.example>");
  EXPECT_EQ(p.to_name(), "Anna Müller");
  EXPECT_EQ(p.to_address(), "anna@example.de");
  // RFC 2047: the raw header is 7-bit with an encoded-word for "Müller".
  const std::string to = p.header("To");
  EXPECT_NE(to.find("=?UTF-8?"), std::string::npos) << to;
  EXPECT_EQ(to.find("\xc3\xbc"), std::string::npos) << to;
  EXPECT_EQ(p.subject(), "Anna, Ihr Zinssatz: 3.1 % – jetzt");
  EXPECT_NE(p.header("Subject").find("=?UTF-8?"), std::string::npos) << p.header("Subject");
  EXPECT_EQ(p.header("Date"), "Mon, 01 Dec 2025 12:00:00 +0000");
  EXPECT_EQ(p.header("MIME-Version"), "1.0");
  const std::string token = sign_unsubscribe_token("0123456789abcdef0123", "c-3f9a0c1d2e4b5a6978877665");
  EXPECT_EQ(p.header("List-Unsubscribe"), "<https://bank.example/u/" + token +
                                              ">, <mailto:unsubscribe@bank.example?subject=unsubscribe-" + token + ">");
  EXPECT_EQ(p.header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
  EXPECT_EQ(p.header("X-Touchpoint-Contact"), "c-3f9a0c1d2e4b5a6978877665");
}

TEST_F(ComposerTest, TransactionalMailHasNoListUnsubscribe) {
  json c = contact();
  c["transactional"] = true;
  ParsedMail p(compose(c.dump()).message);
  EXPECT_EQ(p.header("List-Unsubscribe"), "");
  EXPECT_EQ(p.header("List-Unsubscribe-Post"), "");
  EXPECT_EQ(p.header("X-Touchpoint-Contact"), "c-3f9a0c1d2e4b5a6978877665");
}

TEST_F(ComposerTest, AReSendHasTheSameMessageIdAndBody) {
  const Composed a = compose(contact().dump());
  const Composed b = compose(contact().dump());
  EXPECT_EQ(a.message_id, b.message_id);
  ParsedMail pa(a.message), pb(b.message);
  EXPECT_EQ(pa.header("Message-Id"), pb.header("Message-Id"));
  EXPECT_EQ(pa.header("List-Unsubscribe"), pb.header("List-Unsubscribe"));
  EXPECT_EQ(pa.part_text("text/plain"), pb.part_text("text/plain"));
  EXPECT_EQ(pa.part_text("text/html"), pb.part_text("text/html"));
}

TEST_F(ComposerTest, MultipartAlternativeUtf8QuotedPrintable) {
  const Composed m = compose(contact().dump());
  ParsedMail p(m.message);
  EXPECT_EQ(p.content_type(), "multipart/alternative");
  EXPECT_EQ(p.part_text("text/plain"),
            "Hallo Anna Müller,\r\nZins 3.1 %.\r\nAbmelden: https://bank.example/u/" +
                sign_unsubscribe_token("0123456789abcdef0123", "c-3f9a0c1d2e4b5a6978877665") + "\r\n");
  EXPECT_NE(p.part_text("text/html").find("<p>Hallo Anna</p>"), std::string::npos);
  EXPECT_NE(m.message.find("Content-Type: text/plain; charset=utf-8"), std::string::npos);
  EXPECT_NE(m.message.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
  EXPECT_NE(m.message.find("M=C3=BCller"), std::string::npos) << "UTF-8 bytes, labelled utf-8";
  // CRLF everywhere, 7-bit, no line longer than RFC 5322 allows.
  std::istringstream lines(m.message);
  std::string line;
  while (std::getline(lines, line)) {
    ASSERT_FALSE(line.empty() || line.back() != '\r') << "bare LF near: " << line;
    ASSERT_LE(line.size(), 999u);
    for (const char c : line) ASSERT_LT(static_cast<unsigned char>(c), 0x80) << line;
  }
}

TEST_F(ComposerTest, TextOnlyTemplateIsASinglePart) {
  json c = contact();
  c["template"] = "plain";
  ParsedMail p(compose(c.dump()).message);
  EXPECT_EQ(p.content_type(), "text/plain");
  EXPECT_EQ(p.part_text("text/plain"), "Hallo Anna\r\n");
}

TEST_F(ComposerTest, HtmlEscapesAHostileFirstNameTextKeepsIt) {
  json c = contact();
  c["customer"]["first_name"] = "<script>alert(\"x\")</script>&";
  ParsedMail p(compose(c.dump()).message);
  const std::string html = p.part_text("text/html");
  EXPECT_EQ(html.find("<script>"), std::string::npos) << html;
  EXPECT_NE(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;"), std::string::npos) << html;
  EXPECT_NE(p.part_text("text/plain").find("<script>alert(\"x\")</script>&"), std::string::npos);
}

TEST_F(ComposerTest, NoHeaderInjectionThroughNamesOrSubject) {
  json c = contact();
  c["customer"]["first_name"] = "Anna\r\nBcc: evil@attacker.example\r\n";
  c["customer"]["last_name"] = "M\nX-Evil: 1";
  const Composed m = compose(c.dump());
  ParsedMail p(m.message);
  EXPECT_EQ(p.header("Bcc"), "");
  EXPECT_EQ(p.header("X-Evil"), "");
  EXPECT_EQ(p.subject().find('\n'), std::string::npos);
  EXPECT_EQ(p.subject().find('\r'), std::string::npos);
  EXPECT_EQ(p.to_address(), "anna@example.de");
}

TEST_F(ComposerTest, NulBytesInVariablesDoNotCutTheMessage) {
  json c = contact();
  c["customer"]["first_name"] = std::string("An\0na", 5);
  ParsedMail p(compose(c.dump()).message);
  EXPECT_EQ(p.part_text("text/plain").substr(0, 16), "Hallo Anna Müll");
  EXPECT_NE(p.part_text("text/plain").find("Abmelden"), std::string::npos);
}

TEST_F(ComposerTest, AFiveMegabyteVariable) {
  json c = contact();
  std::string big;
  big.reserve(5 * 1024 * 1024 + 32);
  while (big.size() < 5 * 1024 * 1024) big += "Zinsen f\xc3\xbcr alle <b> ";
  c["vars"]["blob"] = big;
  c["template"] = "big";
  config_.max_message_bytes = 64u * 1024 * 1024;
  const Composed m = compose(c.dump());
  ParsedMail p(m.message);
  EXPECT_EQ(p.part_text("text/plain"), big + "\r\n");
  EXPECT_NE(p.part_text("text/html").find("Zinsen f\xc3\xbcr alle &lt;b&gt; "), std::string::npos);
  std::istringstream lines(m.message.substr(m.message.find("\r\n\r\n")));  // the body
  std::string line;
  size_t longest = 0;
  while (std::getline(lines, line)) longest = std::max(longest, line.size());
  EXPECT_LE(longest, 78u) << "quoted-printable soft line breaks";
  config_.max_message_bytes = 10u * 1024 * 1024;
  EXPECT_NE(compose_error(c.dump()).find("more than max_message_bytes"), std::string::npos) << "the default limit";
}

TEST_F(ComposerTest, AHugeSubjectIsCutOnACharacterBoundary) {
  json c = contact();
  std::string big;
  while (big.size() < 1024 * 1024) big += "\xc3\xbc";
  c["vars"]["rate"] = big;
  ParsedMail p(compose(c.dump()).message);
  EXPECT_LE(p.subject().size(), 500u);
  EXPECT_GT(p.subject().size(), 400u);
  EXPECT_TRUE(touchpoint::testing::detail::valid_utf8(p.subject()));
}

TEST_F(ComposerTest, AMessageOverMaxMessageBytesFails) {
  config_.max_message_bytes = 4096;
  json c = contact();
  c["vars"]["rate"] = std::string(8192, 'x');
  EXPECT_NE(compose_error(c.dump()).find("more than max_message_bytes (4096)"), std::string::npos);
}

TEST_F(ComposerTest, MissingOrHostileTemplatesFailWithTheReason) {
  json c = contact();
  c["template"] = "autumn";
  EXPECT_NE(
      compose_error(c.dump()).find("template 'autumn': " + (dir_.path() / "autumn.subject").string() + " not found"),
      std::string::npos)
      << compose_error(c.dump());
  test::write_file(dir_.path() / "half.subject", "x");
  c["template"] = "half";
  EXPECT_NE(compose_error(c.dump()).find("half.txt not found"), std::string::npos);
  for (const char* bad : {"../../etc/passwd", "/etc/passwd", ".hidden", "a/b", ""}) {
    c["template"] = bad;
    EXPECT_FALSE(compose_error(c.dump()).empty()) << bad;
  }
  c["template"] = "../spring";
  EXPECT_NE(compose_error(c.dump()).find("not a plain file name"), std::string::npos);
  test::write_template(dir_.path(), "broken", "{{#open}}", "x");
  c["template"] = "broken";
  EXPECT_NE(compose_error(c.dump()).find("is invalid"), std::string::npos) << compose_error(c.dump());
  c.erase("template");
  EXPECT_NE(compose_error(c.dump()).find("no template"), std::string::npos);
  config_.default_template = "plain";
  EXPECT_EQ(compose_error(c.dump()), "");
}

TEST_F(ComposerTest, BadRecordsFailWithTheReason) {
  json c = contact();
  c.erase("to");
  EXPECT_NE(compose_error(c.dump()).find("no address"), std::string::npos);
  c = contact();
  c["to"] = "anna@example.de>\r\nRCPT TO:<evil@x.example";
  EXPECT_NE(compose_error(c.dump()).find("not a valid e-mail address"), std::string::npos);
  c = contact();
  c["to"] = 5;
  EXPECT_NE(compose_error(c.dump()).find("data.to must be a string"), std::string::npos);
  c = contact();
  c["contact_id"] = "c-1>\r\nX: y";
  EXPECT_NE(compose_error(c.dump()).find("contact id"), std::string::npos);
  c = contact();
  c["channel"] = "post";
  EXPECT_NE(compose_error(c.dump()).find("not 'email'"), std::string::npos);
  c = contact();
  c["transactional"] = "yes";
  EXPECT_NE(compose_error(c.dump()).find("transactional"), std::string::npos);
  EXPECT_NE(compose_error("{\"to\":").find("not valid JSON"), std::string::npos);
  EXPECT_NE(compose_error("[1]").find("must be a JSON object"), std::string::npos);
  EXPECT_NE(compose_error("{\"to\":\"\xff\xfe@x.de\"}").find("not valid JSON"), std::string::npos);
}

TEST_F(ComposerTest, TheEnvelopeIdIsUsedWhenDataHasNoContactId) {
  json c = contact();
  c.erase("contact_id");
  const Composed m = compose(c.dump(), "c-abcdefabcdefabcdefabcdef");
  EXPECT_EQ(m.message_id, "<c-abcdefabcdefabcdefabcdef@mail.bank.example>");
}

}  // namespace
}  // namespace tp_email
