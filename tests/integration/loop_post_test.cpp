// The postal channel end to end through the real binary and a real OpenSSH
// server (tests/fixtures/sftp/sshd.sh): letters are uploaded to the letter
// shop over SFTP; the shop's return file comes back over SFTP; "unknown at
// this address" makes the address invalid, so the next postal decision
// suppresses with channel_invalid, and "moved" brings the new address.
#include "loop_support.hpp"

namespace tp_it {
namespace {
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const fs::path kSshdFixture = fs::path(TP_SOURCE_DIR) / "tests/fixtures/sftp/sshd.sh";

class LoopPostTest : public LoopTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    sshd_ = root_ / "sshd";
    CommandResult r = run_command({kSshdFixture.string(), "start", sshd_.string()}, root_, 60s);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    sshd_started_ = true;
    const std::string port = std::to_string(std::stoi(r.out));
    shop_in_ = root_ / "shop/in";
    shop_out_ = root_ / "shop/out";
    fs::create_directories(shop_in_);
    fs::create_directories(shop_out_);
    auto sftp = [&](const fs::path& dir) {
      return "{ url: \"sftp://127.0.0.1:" + port + dir.string() +
             "/\", username: root, private_key_file: " + (sshd_ / "client_key").string() +
             ", known_hosts: " + (sshd_ / "known_hosts").string() + ", timeout_ms: 10000 }";
    };

    ASSERT_NO_FATAL_FAILURE(write_shipped_customer_setup());
    write_pipeline_file("letters.yaml",
                        "name: letters\n"
                        "source:\n"
                        "  plugin: post\n"
                        "  poll_interval_ms: 100\n"
                        "  config:\n"
                        "    returns: { sftp: " +
                            sftp(shop_out_) +
                            " }\n"
                            "store: true\n"
                            "sinks:\n"
                            "  - name: shop\n"
                            "    plugin: post\n"
                            "    channel: post\n"
                            "    config: { format: jsonl, target: { sftp: " +
                            sftp(shop_in_) + " } }\n");
    ASSERT_NO_FATAL_FAILURE(start_hub());
  }
  void TearDown() override {
    if (hub_) hub_->terminate(20s);
    if (sshd_started_) run_command({kSshdFixture.string(), "stop", sshd_.string()}, root_, 60s);
    HubTest::TearDown();
  }

  static json person(const std::string& id, const std::string& email, const std::string& street) {
    return customer(id, email, "post",
                    {{"first_name", "Anna"},
                     {"last_name", "Weiß"},
                     {"address", {{"street", street}, {"zip", "10115"}, {"city", "Berlin"}, {"country", "DE"}}}});
  }
  static json letter(const std::string& id, const std::string& email) {
    return request(id, email, "post", "winter", {{"offer", "savings"}, {"template", "winter-letter"}});
  }

  fs::path sshd_, shop_in_, shop_out_;
  bool sshd_started_ = false;
};

TEST_F(LoopPostTest, LettersGoOutOverSftpAndTheReturnFileComesBack) {
  json people = person("K-1", "anna@example.de", "Alte Str. 1");
  for (const json& e : person("K-2", "berta@example.de", "Lindenweg 2")) people.push_back(e);
  ASSERT_NO_FATAL_FAILURE(send(people));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", 4)) << hub_->log();
  ASSERT_NO_FATAL_FAILURE(
      send(json::array({letter("winter:K-1", "anna@example.de"), letter("winter:K-2", "berta@example.de")})));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM contacts WHERE state='sent'", 2, 30s)) << hub_->log();
  const std::string unknown = contact_of("winter:K-1"), moved = contact_of("winter:K-2");

  // Both letters are at the shop, behind their manifest, with the contact ids.
  std::vector<json> rows = jsonl_rows(shop_in_, /*with_manifest=*/true);
  ASSERT_EQ(rows.size(), 2u) << hub_->log();
  std::map<std::string, json> by_contact;
  for (const json& r : rows) by_contact[r["contact_id"]] = r;
  ASSERT_TRUE(by_contact.count(unknown) && by_contact.count(moved));
  EXPECT_EQ(by_contact[unknown]["street"], "Alte Str. 1");
  EXPECT_EQ(by_contact[unknown]["last_name"], "Weiß");
  EXPECT_EQ(by_contact[unknown]["template"], "winter-letter");
  // The provider id is the row key in the uploaded file.
  auto provider = store().rows("SELECT provider_id FROM contacts WHERE id=?", {unknown});
  ASSERT_EQ(provider.size(), 1u);
  EXPECT_NE(provider[0][0].find(".jsonl:"), std::string::npos) << provider[0][0];

  // The shop's return file, with one hostile row that must be a dead letter, not a crash.
  write_file_atomic(shop_out_ / "returns-1.csv", "contact_id,reason,new_street,new_zip,new_city\n" + unknown +
                                                     ",unknown,,,\n" + moved +
                                                     ",moved,Neue Str. 5,20095,Hamburg\n"
                                                     "../../etc/passwd,unknown,,,\n");
  ASSERT_TRUE(poll_until([&] { return state_of(unknown) == "returned" && state_of(moved) == "returned"; }, 30s))
      << state_of(unknown) << " " << state_of(moved) << "\n"
      << hub_->log();
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM dead_letters", 1)) << hub_->log();
  // Read over SFTP and moved to done/ on the server once durable.
  EXPECT_TRUE(poll_until([&] { return fs::exists(shop_out_ / "done/returns-1.csv"); }, 10s));

  // Unknown at this address: the next postal decision suppresses with the reason.
  const json after = decide("anna@example.de", "post");
  EXPECT_EQ(after["decision"], "suppress") << after.dump();
  ASSERT_FALSE(after["reasons"].empty()) << after.dump();
  EXPECT_EQ(after["reasons"][0]["code"], "channel_invalid") << after.dump();
  // Moved: the new address came with the return, so the customer can be written to again.
  EXPECT_EQ(decide("berta@example.de", "post")["decision"], "send");

  EXPECT_EQ(history_of(unknown),
            (std::vector<std::string>{"requested", "decided", "sending", "sent", "response:letter_returned"}));
}

}  // namespace
}  // namespace tp_it
