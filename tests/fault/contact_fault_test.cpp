// A channel sink that kills the hub while it is sending (docs/channels.md,
// "At most once"): the contacts of the batch in flight are found marked
// `sending` at the next start. With the default `in_doubt: dead_letter` no
// contact reaches the provider twice; with `in_doubt: resend` the batch in
// flight is sent once more, marked in_doubt, and nothing else is.
#include <csignal>
#include <fstream>

#include "fault_support.hpp"

namespace tp_fault {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using tp_it::poll_until;

class ContactFaultTest : public FaultTest {
 protected:
  static constexpr int kCustomers = 60;
  static constexpr int kBatch = 10;  // the channel sink's batch_size

  void write_setup(const std::string& in_doubt) {
    out_ = root_ / "sent.jsonl";
    marker_ = root_ / "crash.once";
    write_config("{ segment_size: 1MiB }", "{ batch_records: 1024, poll_interval_ms: 50, shutdown_timeout_ms: 10000 }",
                 std::string("customer:\n  rulebook: ") + TP_SOURCE_DIR + "/config/rulebook.yaml\n");
    write_pipeline("records", webhook_source("records"));
    std::string sink = faulty_sink("smtp",
                                   {{"out_file", out_.string()},
                                    {"crash_in_write", 3},
                                    {"crash_once_file", marker_.string()},
                                    {"crash_point", "after"}},
                                   2000, kBatch);
    sink += "    channel: email\n    in_doubt: " + in_doubt + "\n";
    write_pipeline("mail", webhook_source("mail"), sink);
  }

  /// Profiles with e-mail and marketing consent, then one e-mail contact request each.
  std::vector<std::string> submit() {
    json people = json::array(), requests = json::array();
    std::vector<std::string> ids;
    for (int i = 0; i < kCustomers; ++i) {
      const std::string who = "p" + std::to_string(i) + "@fault.example.com";
      people.push_back({{"id", "prof-" + std::to_string(i)},
                        {"type", "profile"},
                        {"data", {{"customer_id", "K-" + std::to_string(i)}, {"email", who}}}});
      people.push_back({{"id", "cons-" + std::to_string(i)},
                        {"type", "consent"},
                        {"data",
                         {{"customer", who},
                          {"channel", "email"},
                          {"purpose", "marketing"},
                          {"status", "granted"},
                          {"at", "2026-01-01T00:00:00Z"}}}});
      const std::string rid = "req-" + std::to_string(i);
      requests.push_back(
          {{"id", rid},
           {"type", "contact_request"},
           {"data", {{"customer", who}, {"channel", "email"}, {"campaign", "fault"}, {"purpose", "marketing"}}}});
      ids.push_back(rid);
    }
    EXPECT_EQ(post("records", people.dump()).status, 202);
    EXPECT_TRUE(wait_applied(20s));
    EXPECT_EQ(post("records", requests.dump()).status, 202);
    return ids;
  }

  std::set<std::string> in_flight() {
    std::set<std::string> ids;
    std::ifstream m(marker_);
    for (std::string id; std::getline(m, id);)
      if (!id.empty()) ids.insert(id);
    return ids;
  }

  std::map<std::string, int64_t> states() {
    std::map<std::string, int64_t> out;
    for (const auto& row : store().rows("SELECT state, COUNT(*) FROM contacts GROUP BY state"))
      out[row[0]] = std::stoll(row[1]);
    return out;
  }

  fs::path out_, marker_;  // under root_, set by write_setup()
};

TEST_F(ContactFaultTest, ACrashWhileSendingSendsNoContactTwiceByDefault) {
  write_setup("dead_letter");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  submit();
  ASSERT_EQ(hub_->wait_exit(30s), 128 + SIGABRT) << "write() #3 of the channel sink aborts the hub";
  const std::set<std::string> flight = in_flight();
  ASSERT_EQ(flight.size(), static_cast<size_t>(kBatch));

  ASSERT_NO_FATAL_FAILURE(start_hub());
  ASSERT_TRUE(poll_until([&] { return status()["store"]["outbox"] == 0; }, 30s)) << status().dump();
  const auto sent = sink_deliveries(out_);
  EXPECT_EQ(sent.size(), static_cast<size_t>(kCustomers)) << "the batch in flight had reached the sink";
  for (const auto& [id, n] : sent) EXPECT_EQ(n, 1) << id << " sent " << n << " times";
  const auto st = states();
  EXPECT_EQ(st.count("in_doubt") ? st.at("in_doubt") : 0, kBatch);
  EXPECT_EQ(st.count("sent") ? st.at("sent") : 0, kCustomers - kBatch);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters WHERE error_class='in_doubt'"), kBatch);
  for (const std::string& id : flight)
    EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM contacts WHERE id=? AND state='in_doubt'", {id}), 1) << id;
  // The contact's history tells the admin what happened.
  const std::string one = *flight.begin();
  tp_it::CommandResult show = cli({"contact", "show", one, "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  const json life = json::parse(show.out);
  EXPECT_EQ(life["state"], "in_doubt");
  std::vector<std::string> steps;
  for (const json& h : life["history"]) steps.push_back(h["what"]);
  EXPECT_EQ(steps, (std::vector<std::string>{"requested", "decided", "sending", "in_doubt"}));
  EXPECT_EQ(hub_->terminate(20s), 0);
}

TEST_F(ContactFaultTest, WithResendOnlyTheBatchInFlightIsSentTwice) {
  write_setup("resend");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  submit();
  ASSERT_EQ(hub_->wait_exit(30s), 128 + SIGABRT);
  const std::set<std::string> flight = in_flight();
  ASSERT_EQ(flight.size(), static_cast<size_t>(kBatch));
  ASSERT_NO_FATAL_FAILURE(start_hub());
  ASSERT_TRUE(poll_until([&] { return status()["store"]["outbox"] == 0; }, 30s)) << status().dump();
  const auto sent = sink_deliveries(out_);
  EXPECT_EQ(sent.size(), static_cast<size_t>(kCustomers));
  for (const auto& [id, n] : sent) EXPECT_EQ(n, flight.count(id) ? 2 : 1) << id;
  EXPECT_EQ(states().at("sent"), kCustomers);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters"), 0);
  EXPECT_EQ(hub_->terminate(20s), 0);
}

// kill -9 while a letter shop's return file is being read: the file is only
// moved to done/ after its last unit is durable, and each return has a
// stable id, so after the restart every return is applied exactly once.
TEST_F(ContactFaultTest, AKillDuringResponseIntakeLosesNoReturnAndAppliesNoneTwice) {
  constexpr int kLetters = 400;
  write_config("{ segment_size: 1MiB }", "{ batch_records: 64, poll_interval_ms: 20, shutdown_timeout_ms: 10000 }",
               std::string("customer:\n  rulebook: ") + TP_SOURCE_DIR + "/config/rulebook.yaml\n");
  write_pipeline("records", webhook_source("records"));
  const fs::path returns = root_ / "returns", letters = root_ / "letters";
  write_pipeline(
      "letters",
      "source:\n  plugin: post\n  poll_interval_ms: 20\n  config: { returns: { dir: " + returns.string() +
          ", batch_rows: 20 } }\n",
      "  - name: shop\n    plugin: post\n    channel: post\n    batch_size: 1000\n    config: { target: { dir: " +
          letters.string() + " } }\n");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  json people = json::array(), requests = json::array();
  for (int i = 0; i < kLetters; ++i) {
    const std::string who = "r" + std::to_string(i) + "@fault.example.com";
    people.push_back({{"type", "profile"},
                      {"data",
                       {{"customer_id", "K-" + std::to_string(i)},
                        {"email", who},
                        {"address", {{"street", "Weg 1"}, {"zip", "10115"}, {"city", "Berlin"}}}}}});
    people.push_back(
        {{"type", "consent"},
         {"data", {{"customer", who}, {"channel", "post"}, {"purpose", "marketing"}, {"status", "granted"}}}});
    requests.push_back(
        {{"id", "letter-" + std::to_string(i)},
         {"type", "contact_request"},
         {"data", {{"customer", who}, {"channel", "post"}, {"campaign", "kill"}, {"purpose", "marketing"}}}});
  }
  ASSERT_EQ(post("records", people.dump()).status, 202);
  ASSERT_TRUE(wait_applied(30s));
  ASSERT_EQ(post("records", requests.dump()).status, 202);
  ASSERT_TRUE(
      poll_until([&] { return store().scalar("SELECT COUNT(*) FROM contacts WHERE state='sent'") == kLetters; }, 30s));
  std::string file = "contact_id,reason\n";
  for (const auto& row : store().rows("SELECT id FROM contacts")) file += row[0] + ",unknown\n";
  tp_it::write_file(returns / "r.tmp", file);
  fs::rename(returns / "r.tmp", returns / "returns-1.csv");
  // Kill the hub once some of the returns are applied, not all.
  ASSERT_TRUE(poll_until(
      [&] { return store().scalar("SELECT COUNT(*) FROM contact_events WHERE what='response:letter_returned'") > 0; },
      30s));
  hub_->kill9();
  const int64_t before = store().scalar("SELECT COUNT(*) FROM contact_events WHERE what='response:letter_returned'");
  ASSERT_NO_FATAL_FAILURE(start_hub());
  ASSERT_TRUE(poll_until([&] { return fs::exists(returns / "done" / "returns-1.csv"); }, 30s)) << hub_->log();
  ASSERT_TRUE(wait_applied(30s));
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM contacts WHERE state='returned'"), kLetters);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM contact_events WHERE what='response:letter_returned'"), kLetters);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM (SELECT contact_id FROM contact_events WHERE "
                           "what='response:letter_returned' GROUP BY contact_id HAVING COUNT(*) > 1)"),
            0);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM dead_letters"), 0);
  std::cerr << "[fault] response intake: " << before << " of " << kLetters << " returns applied before the kill\n";
  EXPECT_EQ(hub_->terminate(20s), 0);
}

}  // namespace
}  // namespace tp_fault
