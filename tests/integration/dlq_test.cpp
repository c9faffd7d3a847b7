// The dead-letter CLI: list, show, replay (CLI and admin API), purge.
#include <signal.h>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace tp_it {
namespace {
using namespace std::chrono_literals;
using nlohmann::json;

class DlqTest : public HubTest {
 protected:
  json dlq_json() {
    CommandResult c = cli({"dlq", "list", "--json"});
    EXPECT_EQ(c.exit_code, 0) << c.err;
    return json::parse(c.out, nullptr, false);
  }
  /// The dead letter of `record_id` (there must be exactly one).
  json entry(const std::string& record_id) {
    json found;
    for (const json& d : dlq_json())
      if (d["record_id"] == record_id) {
        EXPECT_TRUE(found.is_null()) << "two dead letters for " << record_id;
        found = d;
      }
    return found;
  }
};

TEST_F(DlqTest, ListShowReplayAfterFixAndPurge) {
  write_hub_config();
  write_webhook_pipeline("web", "  - require: { fields: { email: { type: string } } }\n");
  ASSERT_NO_FATAL_FAILURE(start_hub());

  // q-1 and q-2 lack an e-mail; q-3's e-mail is not a string.
  HttpResponse r = post("web", R"([{"id":"q-1","first_name":"Quinn"},{"id":"q-2","first_name":"Quentin"},
                                   {"id":"q-3","email":42},{"id":"ok-1","email":"ok@example.com"}])");
  ASSERT_EQ(r.status, 202) << r.error << r.body;
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM dead_letters", 3));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records WHERE id='ok-1'", 1));

  // list (table)
  CommandResult c = cli({"dlq", "list"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(c.out.rfind("ID\tPIPELINE\tSTEP", 0), 0u) << c.out;
  EXPECT_NE(c.out.find("web\t1:require\trejected"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("missing required field 'email'"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("3 entries"), std::string::npos) << c.out;

  // show
  json q1 = entry("q-1");
  ASSERT_TRUE(q1.is_object());
  const std::string id1 = std::to_string(q1["id"].get<int64_t>());
  c = cli({"dlq", "show", id1});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("record id:   q-1"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("Quinn"), std::string::npos) << "payload: " << c.out;
  c = cli({"dlq", "show", "999999"});
  EXPECT_EQ(c.exit_code, 3) << c.out;
  c = cli({"dlq", "show", "abc"});
  EXPECT_EQ(c.exit_code, 2) << c.out;
  c = cli({"dlq", "list", "--limit", "abc"});
  EXPECT_EQ(c.exit_code, 2) << c.out << c.err;
  EXPECT_NE(c.err.find("--limit"), std::string::npos) << c.err;
  c = cli({"dlq", "list", "--limit", "1"});
  EXPECT_NE(c.out.find("1 entry"), std::string::npos) << c.out;
  c = cli({"profile", "show", "x@example.com", "--events", "many"});
  EXPECT_EQ(c.exit_code, 2) << c.out << c.err;
  c = cli({"dlq", "replay"});
  EXPECT_EQ(c.exit_code, 2) << "replay without a selection is a usage error: " << c.out;

  // Replay before fixing anything: the running hub runs it again, it is rejected again.
  c = cli({"dlq", "replay", id1});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("1 entry marked for replay"), std::string::npos) << c.out;
  ASSERT_TRUE(poll_until([&] { return entry("q-1").value("attempts", 0) == 2; }, 10s)) << dlq_json().dump();
  EXPECT_EQ(entry("q-1")["state"], "new");
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM records WHERE id='q-1'"), 0);

  // Fix the pipeline (a default e-mail before the check) and reload.
  size_t mark = hub_->log_size();
  write_webhook_pipeline("web",
                         "  - default: { email: unknown@example.com }\n"
                         "  - require: { fields: { email: { type: string } } }\n");
  hub_->signal(SIGHUP);
  ASSERT_TRUE(hub_->wait_for_log("pipeline 'web' started", 10s, mark)) << hub_->log_since(mark);

  // Replay q-1 with the CLI, q-2 through the admin API.
  const std::string new_id1 = std::to_string(entry("q-1")["id"].get<int64_t>());
  c = cli({"dlq", "replay", new_id1});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  r = admin_post("/dlq/replay?id=" + std::to_string(entry("q-2")["id"].get<int64_t>()));
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(json::parse(r.body), json({{"requested", 1}}));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records WHERE id IN ('q-1','q-2')", 2));
  auto rows = store().rows("SELECT data FROM records WHERE id='q-1'");
  ASSERT_EQ(rows.size(), 1u);
  json data = json::parse(rows[0][0]);
  EXPECT_EQ(data.value("email", ""), "unknown@example.com");
  EXPECT_EQ(data.value("first_name", ""), "Quinn") << "replayed from the original record";
  ASSERT_TRUE(poll_until([&] { return dlq_json().size() == 1; }, 10s)) << dlq_json().dump();

  // q-3 is still wrong after the fix: replay --all sends it round again, then purge it.
  c = cli({"dlq", "replay", "--all"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  ASSERT_TRUE(poll_until([&] { return entry("q-3").value("attempts", 0) == 2; }, 10s)) << dlq_json().dump();
  EXPECT_NE(entry("q-3")["reason"].get<std::string>().find("must be a string"), std::string::npos);
  c = cli({"dlq", "purge", std::to_string(entry("q-3")["id"].get<int64_t>())});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("1 entry purged"), std::string::npos) << c.out;
  EXPECT_EQ(dlq_json(), json::array());
  c = cli({"dlq", "purge", "12345"});
  EXPECT_EQ(c.exit_code, 3);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM records WHERE id='q-3'"), 0);
  EXPECT_EQ(store().scalar("SELECT COUNT(*) FROM records"), 3);
}

}  // namespace
}  // namespace tp_it
