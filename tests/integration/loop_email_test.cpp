// The closed loop with one e-mail, end to end through the real binary and a
// real postfix (tests/fixtures/mail/postfix.sh): a contact request is
// decided and sent over SMTP; the address does not exist, so postfix
// returns a real DSN to the VERP address; the email plugin's intake reads it
// from the bounce Maildir; the hub marks the address invalid, and the next
// decision for the customer suppresses with channel_invalid (5.1.1).
// And click and open tracking: the delivered message's tracked link and
// pixel, fetched like a person and like a privacy proxy, become responses on
// the contact that sent them.
#include <regex>

#include "loop_support.hpp"

namespace tp_it {
namespace {
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const fs::path kPostfixFixture = fs::path(TP_SOURCE_DIR) / "tests/fixtures/mail/postfix.sh";

class LoopEmailTest : public LoopTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    mta_ = root_ / "mta";
    // postfix's daemons run as the postfix user: they must be able to reach
    // their directories under the test's private (0700) temp dir.
    fs::permissions(root_, fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);
    CommandResult r = run_command({kPostfixFixture.string(), "start", mta_.string()}, root_, 60s);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    smtp_port_ = std::stoi(r.out);
    mta_started_ = true;

    ASSERT_NO_FATAL_FAILURE(write_shipped_customer_setup());
    const fs::path templates = root_ / "templates";
    fs::create_directories(templates);
    write_file(templates / "spring.subject", "Frühlingszinsen für {{customer.first_name}}");
    write_file(templates / "spring.txt", "Hallo {{customer.first_name}}, {{vars.rate}} für Sie.\n");
    write_file(templates / "offer.subject", "Ihr Angebot");
    write_file(templates / "offer.txt", "Hallo {{customer.first_name}}: https://bank.example/angebot\n");
    write_file(templates / "offer.html",
               "<html><body><p>Hallo {{customer.first_name}}</p>"
               "<a href=\"https://bank.example/angebot?k={{vars.rate}}&amp;x=1\">Zum Angebot</a></body></html>");
    write_file(root_ / "unsubscribe.secret", "an-unsubscribe-secret-of-32-bytes!");
    write_pipeline_file("mail.yaml",
                        "name: mail\n"
                        "source:\n"
                        "  plugin: email\n"
                        "  poll_interval_ms: 100\n"
                        "  config:\n"
                        "    intake: { maildir: " +
                            (mta_ / "mail/bounces").string() +
                            " }\n"
                            "    unsubscribe: { url_base: \"https://bank.example/u\", listen: \"127.0.0.1:0\", "
                            "secret: \"${file:" +
                            (root_ / "unsubscribe.secret").string() +
                            "}\" }\n"
                            // The test clicks within seconds of sending, which would count as a scanner.
                            "    tracking: { url_base: \"https://t.bank.example\", machine_within_seconds: 0 }\n"
                            "store: true\n"
                            "sinks:\n"
                            "  - name: smtp\n"
                            "    plugin: email\n"
                            "    channel: email\n"
                            "    config:\n"
                            "      smtp: { host: 127.0.0.1, port: " +
                            std::to_string(smtp_port_) +
                            ", tls: none }\n"
                            "      from: \"Bank <news@bank.example>\"\n"
                            "      return_path: bounces@bank.example\n"
                            "      templates: " +
                            templates.string() +
                            "\n"
                            "      unsubscribe:\n"
                            "        url_base: https://bank.example/u\n"
                            "        secret: ${file:" +
                            (root_ / "unsubscribe.secret").string() +
                            "}\n"
                            "      tracking: { url_base: \"https://t.bank.example\" }\n");
    ASSERT_NO_FATAL_FAILURE(start_hub());
  }
  void TearDown() override {
    if (hub_) hub_->terminate(20s);
    if (mta_started_) run_command({kPostfixFixture.string(), "stop", mta_.string()}, root_, 60s);
    HubTest::TearDown();
  }

  static json person(const std::string& id, const std::string& email, const std::string& name) {
    return customer(id, email, "email", {{"first_name", name}});
  }
  static json mail(const std::string& id, const std::string& email) {
    return request(id, email, "email", "spring", {{"template", "spring"}, {"vars", {{"rate", "3,1 %"}}}});
  }
  size_t maildir_count(const std::string& box) {
    size_t n = 0;
    for (const char* sub : {"new", "cur"}) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(mta_ / "mail" / box / sub, ec)) n += e.is_regular_file();
    }
    return n;
  }

  /// The one message in `box`, its quoted-printable soft breaks and =XX undone.
  std::string delivered_text(const std::string& box) {
    std::string raw;
    for (const char* sub : {"new", "cur"}) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(mta_ / "mail" / box / sub, ec)) raw = read_file(e.path());
    }
    std::string out;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '=' && raw.compare(i + 1, 2, "\r\n") == 0) {
        i += 2;
      } else if (raw[i] == '=' && raw.compare(i + 1, 1, "\n") == 0) {
        i += 1;
      } else if (raw[i] == '=' && i + 2 < raw.size() && std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
        out.push_back(static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16)));
        i += 2;
      } else {
        out.push_back(raw[i]);
      }
    }
    return out;
  }
  std::vector<std::string> timeline_types() {
    std::vector<std::string> types;
    for (const auto& row : store().rows("SELECT event_type FROM timeline ORDER BY record_seq", {}))
      types.push_back(row[0]);
    return types;
  }

  fs::path mta_;
  int smtp_port_ = 0;
  bool mta_started_ = false;
};

TEST_F(LoopEmailTest, OneEMailFromRequestToBounceToSuppression) {
  json people = person("K-1", "anna@bank.example", "Anna");
  for (const json& e : person("K-2", "nobody-here@bank.example", "Nobody")) people.push_back(e);
  ASSERT_NO_FATAL_FAILURE(send(people));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", 4)) << hub_->log();
  ASSERT_NO_FATAL_FAILURE(
      send(json::array({mail("spring:K-1", "anna@bank.example"), mail("spring:K-2", "nobody-here@bank.example")})));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM contacts", 2)) << hub_->log();
  const std::string delivered = contact_of("spring:K-1"), bounced = contact_of("spring:K-2");
  ASSERT_FALSE(delivered.empty());
  ASSERT_FALSE(bounced.empty());

  // Anna's message arrives in her mailbox; the other one comes back as a DSN.
  ASSERT_TRUE(poll_until([&] { return maildir_count("anna") == 1; }, 30s)) << hub_->log();
  EXPECT_TRUE(poll_until([&] { return state_of(delivered) == "sent"; }, 10s)) << state_of(delivered);
  ASSERT_TRUE(poll_until([&] { return state_of(bounced) == "bounced"; }, 60s)) << "state " << state_of(bounced) << "\n"
                                                                               << hub_->log();

  // The next decision for that customer shows why.
  const json decision = decide("nobody-here@bank.example", "email");
  EXPECT_EQ(decision["decision"], "suppress") << decision.dump();
  ASSERT_FALSE(decision["reasons"].empty());
  EXPECT_EQ(decision["reasons"][0]["code"], "channel_invalid") << decision.dump();
  EXPECT_NE(decision["reasons"][0]["detail"].get<std::string>().find("5.1.1"), std::string::npos) << decision.dump();
  EXPECT_EQ(decide("anna@bank.example", "email")["decision"], "send");

  // The contact's life, as the admin sees it.
  HttpResponse life = admin_get("/v1/contacts/" + bounced);
  ASSERT_EQ(life.status, 200) << life.body;
  const json c = json::parse(life.body);
  EXPECT_EQ(c["state"], "bounced");
  EXPECT_EQ(c["provider_id"], bounced + "@bank.example");
  std::vector<std::string> steps;
  for (const json& h : c["history"]) steps.push_back(h["what"]);
  EXPECT_EQ(steps, (std::vector<std::string>{"requested", "decided", "sending", "sent", "response:bounce_hard"}))
      << life.body;
  EXPECT_EQ(admin_get("/v1/contacts/c-000000000000000000000000").status, 404);
}

TEST_F(LoopEmailTest, ATrackedLinkAndPixelFromTheDeliveredMessageBecomeResponses) {
  ASSERT_NO_FATAL_FAILURE(send(person("K-1", "anna@bank.example", "Anna")));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", 2)) << hub_->log();
  ASSERT_NO_FATAL_FAILURE(send(json::array({request("offer:K-1", "anna@bank.example", "email", "offer",
                                                    {{"template", "offer"}, {"vars", {{"rate", "3"}}}})})));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM contacts", 1)) << hub_->log();
  const std::string contact = contact_of("offer:K-1");
  ASSERT_TRUE(poll_until([&] { return maildir_count("anna") == 1; }, 30s)) << hub_->log();
  ASSERT_TRUE(poll_until([&] { return state_of(contact) == "sent"; }, 10s)) << state_of(contact);

  // What Anna's mail program shows: the link through the hub, the pixel.
  const std::string mail = delivered_text("anna");
  std::smatch click, open;
  ASSERT_TRUE(std::regex_search(mail, click, std::regex("href=\"https://t\\.bank\\.example(/c/[A-Za-z0-9._-]+)\"")))
      << mail;
  ASSERT_TRUE(std::regex_search(mail, open, std::regex("src=\"https://t\\.bank\\.example(/o/[A-Za-z0-9._-]+\\.gif)\"")))
      << mail;
  EXPECT_NE(mail.find("Hallo Anna: https://bank.example/angebot"), std::string::npos) << "the text part is as written";
  const int port = gauge_port("email_unsubscribe_port");
  ASSERT_GT(port, 0) << hub_->log();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  // A privacy proxy prefetches the image: recorded, flagged, the contact stays sent.
  HttpResponse pixel = http_request("GET", base + open[1].str(), "", {"User-Agent: Mozilla/5.0"});
  EXPECT_EQ(pixel.status, 200);
  EXPECT_EQ(pixel.headers["content-type"], "image/gif");
  ASSERT_TRUE(poll_until(
      [&] {
        const auto h = history_of(contact);
        return std::find(h.begin(), h.end(), "response:opened") != h.end();
      },
      10s))
      << hub_->log();
  EXPECT_EQ(state_of(contact), "sent");

  // Anna clicks: 302 to exactly the template's link, and the contact is clicked.
  const std::string browser = "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
  HttpResponse r = http_request("GET", base + click[1].str(), "", {browser});
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.headers["location"], "https://bank.example/angebot?k=3&x=1");
  ASSERT_TRUE(poll_until([&] { return state_of(contact) == "clicked"; }, 10s)) << hub_->log();
  EXPECT_EQ(http_request("GET", base + click[1].str(), "", {browser}).status, 302);

  // Someone who changes the link's target gets nowhere.
  std::string forged = click[1].str();
  forged[forged.size() - 40] = forged[forged.size() - 40] == 'A' ? 'B' : 'A';
  HttpResponse f = http_request("GET", base + forged, "", {browser});
  EXPECT_TRUE(f.status == 404 || f.status == 400) << f.status;
  EXPECT_EQ(f.headers.count("location"), 0u);

  const std::vector<std::string> steps = history_of(contact);
  EXPECT_EQ(steps, (std::vector<std::string>{"requested", "decided", "sending", "sent", "response:opened",
                                             "response:clicked"}));
  const std::vector<std::string> types = timeline_types();
  EXPECT_EQ(std::count(types.begin(), types.end(), "email_opened_by_machine"), 1) << testing::PrintToString(types);
  EXPECT_EQ(std::count(types.begin(), types.end(), "email_clicked"), 1) << testing::PrintToString(types);
  EXPECT_EQ(std::count(types.begin(), types.end(), "email_opened"), 0) << testing::PrintToString(types);
}

}  // namespace
}  // namespace tp_it
