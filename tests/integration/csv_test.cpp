// CSV inbox source end to end: a Latin-1, semicolon-separated export dropped
// into the inbox lands in the store; a malformed row becomes a dead letter
// with file:line; the file moves to done/.
#include <nlohmann/json.hpp>

#include "support.hpp"

namespace tp_it {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

class CsvTest : public HubTest {
 protected:
  void write_csv_pipeline() {
    inbox_ = data_ / "inbox" / "cc";
    write_pipeline_file("cc.yaml",
                        "name: cc\n"
                        "source:\n"
                        "  plugin: csv\n"
                        "  poll_interval_ms: 50\n"
                        "  config:\n"
                        "    inbox: " +
                            inbox_.string() +
                            "\n"
                            "    delimiter: \";\"\n"
                            "    encoding: latin-1\n"
                            "    type: profile\n"
                            "    key_column: Kundennummer\n"
                            "    columns: { Kundennummer: customer_id, E-Mail: email, Vorname: first_name,"
                            " Nachname: last_name, Ort: address.city }\n"
                            "    only_mapped: true\n"
                            "    settle_ms: 0\n"
                            "transforms:\n"
                            "  - normalize_email: { field: email, on_invalid: remove }\n"
                            "  - default: { channel: callcenter }\n"
                            "store: true\n");
  }
  fs::path inbox_;
};

TEST_F(CsvTest, Latin1SemicolonFileIsIngestedBadRowIsDeadLetteredFileMovedToDone) {
  write_hub_config();
  write_csv_pipeline();
  ASSERT_NO_FATAL_FAILURE(start_hub());

  // Latin-1 bytes: \xfc = ü, \xf6 = ö, \xdf = ß. Line 4 has one column too many.
  const std::string csv =
      "Kundennummer;E-Mail;Vorname;Nachname;Ort\r\n"
      "K1;Anna.Mueller@Example.DE;Anna;M\xfcller;K\xf6ln\r\n"
      "K2;bernd@example.de;Bernd;Gro\xdf;M\xfcnchen\r\n"
      "K3;broken@example.de;Nur;Drei;Felder;Zuviel\r\n"
      "\"K4\";\"carla@example.de\";\"Carla\";\"O'Neil; Jr.\";\"D\xfcsseldorf\"\r\n";
  fs::create_directories(inbox_);
  write_file_atomic(inbox_ / "contacts.csv", csv);

  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records WHERE pipeline='cc'", 3));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM dead_letters", 1));
  // Moved to done/ once the whole file is durable.
  ASSERT_TRUE(poll_until([&] { return fs::exists(inbox_ / "done" / "contacts.csv"); }, 10s));
  EXPECT_FALSE(fs::exists(inbox_ / "contacts.csv"));
  EXPECT_EQ(read_file(inbox_ / "done" / "contacts.csv"), csv) << "the original bytes are kept";

  StoreReader& db = store();
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM records WHERE pipeline='cc'"), 3);
  auto rows = db.rows("SELECT key, data FROM records WHERE pipeline='cc' ORDER BY key");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "K1");
  EXPECT_EQ(rows[1][0], "K2");
  EXPECT_EQ(rows[2][0], "K4");
  json k1 = json::parse(rows[0][1]), k2 = json::parse(rows[1][1]), k4 = json::parse(rows[2][1]);
  EXPECT_EQ(k1.value("last_name", ""), "M\xc3\xbcller") << k1.dump();  // decoded to UTF-8
  EXPECT_EQ(k1["address"].value("city", ""), "K\xc3\xb6ln") << k1.dump();
  EXPECT_EQ(k1.value("channel", ""), "callcenter");
  EXPECT_EQ(k2.value("last_name", ""), "Gro\xc3\x9f");
  EXPECT_EQ(k4.value("last_name", ""), "O'Neil; Jr.") << "quoted delimiter: " << k4.dump();
  EXPECT_EQ(k4["address"].value("city", ""), "D\xc3\xbcsseldorf");
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM identities WHERE kind='ext:cc'"), 3);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM profiles"), 3);

  // The bad row: a dead letter of the source step with file:line.
  auto dl = db.rows("SELECT id, pipeline, step, error_class, reason, location, payload FROM dead_letters");
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(dl[0][1], "cc");
  EXPECT_EQ(dl[0][2], "source");
  EXPECT_EQ(dl[0][3], "malformed");
  EXPECT_NE(dl[0][4].find("column"), std::string::npos) << dl[0][4];
  EXPECT_EQ(dl[0][5], "contacts.csv:4");
  EXPECT_NE(dl[0][6].find("Zuviel"), std::string::npos) << "payload is the raw row: " << dl[0][6];

  // The CLI shows it with its location ...
  CommandResult c = cli({"dlq", "list"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("contacts.csv:4"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("1 entry"), std::string::npos) << c.out;
  // ... and refuses to replay a raw source reject (fix the input and deliver it again).
  c = cli({"dlq", "replay", dl[0][0]});
  EXPECT_EQ(c.exit_code, 3) << c.out << c.err;
  EXPECT_NE(c.err.find("cannot be replayed"), std::string::npos) << c.err;

  // profile show by the external id of the csv source.
  c = cli({"profile", "show", "ext:cc:K2", "--json"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(json::parse(c.out)["attributes"]["first_name"].value("value", ""), "Bernd") << c.out;

  // A second file after restart: the first is not read again, the new one is.
  EXPECT_EQ(hub_->terminate(20s), 0);
  ASSERT_NO_FATAL_FAILURE(start_hub());
  write_file_atomic(inbox_ / "more.csv",
                    "Kundennummer;E-Mail;Vorname;Nachname;Ort\nK5;e@example.de;Eva;\xc4hrlich;Ulm\n");
  ASSERT_TRUE(poll_until([&] { return fs::exists(inbox_ / "done" / "more.csv"); }, 10s));
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records WHERE key='K5'", 1));
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM records WHERE pipeline='cc'"), 4);
  EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM dead_letters"), 1);
}

}  // namespace
}  // namespace tp_it
