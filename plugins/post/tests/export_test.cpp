// The sink through the real plugin library: batch files and manifests in a directory.
#include <gtest/gtest.h>

#include "sha256.hpp"
#include "test_support.hpp"

namespace touchpoint::post::test {
namespace {

struct Export : ::testing::Test {
  TempDir tmp;
  Harness h{TP_POST_PLUGIN};
  std::string out() const { return (tmp.path() / "out").string(); }
  std::unique_ptr<touchpoint::testing::Instance> open(nlohmann::json extra = nlohmann::json::object()) {
    nlohmann::json cfg = {{"target", {{"dir", out()}}}};
    cfg.update(extra);
    return h.open(cfg.dump());
  }
  std::vector<std::string> data_files() const {
    std::vector<std::string> r;
    for (const std::string& n : names(out()))
      if (n.find(".manifest.json") == std::string::npos) r.push_back(n);
    return r;
  }
};

TEST_F(Export, WritesCsvWithHeaderManifestAndRowKeys) {
  auto inst = open({{"delimiter", ";"}});
  std::vector<EmittedRecord> batch{letter(1), letter(2), letter(3)};
  const auto outcomes = inst->write(batch);
  ASSERT_EQ(outcomes.size(), 3u);
  const auto files = data_files();
  ASSERT_EQ(files.size(), 1u);
  const std::string name = files[0];
  EXPECT_EQ(name.rfind("letters-", 0), 0u) << name;
  EXPECT_EQ(name.substr(name.size() - 11), "-000001.csv") << name;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(outcomes[i].status, TP_OK) << outcomes[i].message;
    EXPECT_EQ(outcomes[i].message, name + ":" + std::to_string(i + 1));  // the row key
  }
  const std::string csv = slurp(tmp.path() / "out" / name);
  EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
            "contact_id;salutation;first_name;last_name;street;zip;city;country;campaign;offer;template");
  EXPECT_NE(csv.find("\r\n" + contact_id(2) +
                     ";Frau;Anna;Müller;Hauptstr. 2;10115;Berlin;DE;spring-savings;"
                     "savings-plus;spring-letter\r\n"),
            std::string::npos)
      << csv;
  const auto manifest = nlohmann::json::parse(slurp(tmp.path() / "out" / (name + ".manifest.json")));
  EXPECT_EQ(manifest["file"], name);
  EXPECT_EQ(manifest["rows"], 3);
  EXPECT_EQ(manifest["bytes"], csv.size());
  EXPECT_EQ(manifest["sha256"], sha256_hex(csv));
  EXPECT_EQ(manifest["encoding"], "utf-8");
  EXPECT_TRUE(manifest["created"].get<std::string>().find('T') != std::string::npos);
  // Nothing else in the directory: no temporary file is left behind.
  EXPECT_EQ(names(out()).size(), 2u);
}

TEST_F(Export, QuotesFieldsPerRfc4180AndMapsColumns) {
  auto inst = open({{"columns",
                     {{{"column", "Kundennr"}, {"field", "contact_id"}},
                      {{"column", "Zeile1"}, {"field", "address_line_1"}},
                      {{"column", "Zeile3"}, {"field", "address_line_3"}},
                      "campaign",
                      {{"column", "Zins"}, {"field", "vars.rate"}},
                      {{"column", "Nr"}, {"field", "row"}}}}});
  EmittedRecord r = letter(7);
  auto data = nlohmann::json::parse(r.data);
  data["campaign"] = "Spring, \"best\" offer";
  data["vars"] = {{"rate", "3,1 %"}};
  r.data = data.dump();
  const auto outcomes = inst->write({r});
  ASSERT_EQ(outcomes[0].status, TP_OK) << outcomes[0].message;
  const std::string csv = slurp(tmp.path() / "out" / data_files()[0]);
  EXPECT_EQ(csv, "Kundennr,Zeile1,Zeile3,campaign,Zins,Nr\r\n" + contact_id(7) +
                     ",Frau Anna Müller,10115 Berlin,\"Spring, \"\"best\"\" offer\",\"3,1 %\",1\r\n");
}

TEST_F(Export, Latin1EncodesAndRejectsWhatItCannotHold) {
  auto inst = open({{"encoding", "latin-1"}, {"line_ending", "lf"}, {"columns", {"contact_id", "last_name"}}});
  EmittedRecord polish = letter(2, nullptr, {{"salutation", "Herr"}, {"first_name", "Łukasz"}, {"last_name", "Łęcki"}});
  const auto outcomes = inst->write({letter(1), polish, letter(3)});
  EXPECT_EQ(outcomes[0].status, TP_OK);
  EXPECT_EQ(outcomes[1].status, TP_STATUS_PERMANENT);
  EXPECT_NE(outcomes[1].message.find("last_name"), std::string::npos) << outcomes[1].message;
  EXPECT_NE(outcomes[1].message.find("cannot be encoded in ISO-8859-1"), std::string::npos) << outcomes[1].message;
  EXPECT_EQ(outcomes[2].status, TP_OK);
  EXPECT_EQ(outcomes[2].message.substr(outcomes[2].message.rfind(':')), ":2");  // rows stay contiguous
  const std::string csv = slurp(tmp.path() / "out" / data_files()[0]);
  EXPECT_EQ(csv, "contact_id,last_name\n" + contact_id(1) + ",M\xFCller\n" + contact_id(3) + ",M\xFCller\n");
  EXPECT_EQ(nlohmann::json::parse(slurp(tmp.path() / "out" / (data_files()[0] + ".manifest.json")))["encoding"],
            "latin-1");
}

TEST_F(Export, RecordsWithoutUsableAddressArePermanent) {
  auto inst = open();
  EmittedRecord no_to = letter(1);
  auto d = nlohmann::json::parse(no_to.data);
  d.erase("to");
  no_to.data = d.dump();
  EmittedRecord no_zip = letter(2, {{"street", "Hauptstr. 1"}, {"city", "Berlin"}});
  EmittedRecord blank_city = letter(3, {{"street", "Hauptstr. 1"}, {"zip", "1"}, {"city", "  "}});
  EmittedRecord to_string = letter(4, "anna@example.de");
  EmittedRecord nul = letter(5, {{"street", std::string("Haupt\0str", 9)}, {"zip", "1"}, {"city", "B"}});
  EmittedRecord not_json = letter(6);
  not_json.data = "{\"to\":";
  EmittedRecord email = letter(7);
  d = nlohmann::json::parse(email.data);
  d["channel"] = "email";
  email.data = d.dump();
  const auto outcomes = inst->write({no_to, no_zip, blank_city, to_string, nul, not_json, email, letter(8)});
  const char* expected[] = {"data.to is not an address object",
                            "data.to.zip is missing",
                            "data.to.city is missing",
                            "data.to is not an address object",
                            "data.to.street contains control",
                            "not a JSON object",
                            "not post"};
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(outcomes[i].status, TP_STATUS_PERMANENT) << i;
    EXPECT_NE(outcomes[i].message.find(expected[i]), std::string::npos) << i << ": " << outcomes[i].message;
  }
  EXPECT_EQ(outcomes[7].status, TP_OK);
  EXPECT_EQ(outcomes[7].message.substr(outcomes[7].message.rfind(':')), ":1");
  // A batch of nothing but bad records writes no file at all.
  (void)inst->write({no_to});
  EXPECT_EQ(data_files().size(), 1u);
}

TEST_F(Export, UnwritableTargetIsRetryableForTheWholeBatch) {
  spit(tmp.path() / "blocker", "a file where the directory should be");
  auto inst = h.open(nlohmann::json{{"target", {{"dir", (tmp.path() / "blocker" / "out").string()}}}}.dump());
  EmittedRecord bad = letter(2, {{"street", "x"}});
  const auto outcomes = inst->write({letter(1), bad, letter(3)});
  EXPECT_EQ(outcomes[0].status, TP_STATUS_RETRYABLE);
  EXPECT_NE(outcomes[0].message.find("batch not delivered"), std::string::npos) << outcomes[0].message;
  EXPECT_EQ(outcomes[1].status, TP_STATUS_PERMANENT);  // its own problem, whatever the target
  EXPECT_EQ(outcomes[2].status, TP_STATUS_RETRYABLE);
  EXPECT_EQ(inst->check(), TP_STATUS_RETRYABLE);
}

TEST_F(Export, JsonlWritesOneObjectPerLine) {
  auto inst = open({{"format", "jsonl"}, {"columns", {"contact_id", "name", "street", "in_doubt"}}});
  EmittedRecord again = letter(2);
  again.meta = R"({"in_doubt":true})";
  const auto outcomes = inst->write({letter(1), again});
  ASSERT_EQ(outcomes[1].status, TP_OK);
  const std::string name = data_files()[0];
  EXPECT_EQ(name.substr(name.size() - 6), ".jsonl");
  std::istringstream lines(slurp(tmp.path() / "out" / name));
  std::string line;
  std::vector<nlohmann::json> rows;
  while (std::getline(lines, line)) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0],
            (nlohmann::json{
                {"contact_id", contact_id(1)}, {"name", "Anna Müller"}, {"street", "Hauptstr. 1"}, {"in_doubt", ""}}));
  EXPECT_EQ(rows[1]["in_doubt"], "1");
}

TEST_F(Export, InDoubtResendKeepsTheContactIdSoTheShopCanDropTheDuplicate) {
  auto inst = open({{"columns", {"contact_id", "in_doubt"}}});
  const auto first = inst->write({letter(5)});
  EmittedRecord again = letter(5);
  again.meta = R"({"in_doubt":true})";
  const auto second = inst->write({again});
  ASSERT_EQ(first[0].status, TP_OK);
  ASSERT_EQ(second[0].status, TP_OK);
  EXPECT_NE(first[0].message, second[0].message);  // a new file, a new row key
  const auto files = data_files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(slurp(tmp.path() / "out" / files[1]), "contact_id,in_doubt\r\n" + contact_id(5) + ",1\r\n");
}

TEST_F(Export, EveryBatchIsItsOwnFileInNameOrder) {
  auto inst = open({{"prefix", "bank-mailing"}, {"fsync", false}});
  for (int b = 0; b < 20; ++b) {
    std::vector<EmittedRecord> batch;
    for (int i = 0; i < 50; ++i) batch.push_back(letter(b * 50 + i));
    for (const auto& o : inst->write(batch)) ASSERT_EQ(o.status, TP_OK);
  }
  const auto files = data_files();
  ASSERT_EQ(files.size(), 20u);
  for (size_t i = 0; i < files.size(); ++i) {
    char seq[32];
    std::snprintf(seq, sizeof(seq), "-%06zu.csv", i + 1);
    EXPECT_EQ(files[i].rfind("bank-mailing-", 0), 0u);
    EXPECT_EQ(files[i].substr(files[i].size() - 11), seq);
    EXPECT_EQ(nlohmann::json::parse(slurp(tmp.path() / "out" / (files[i] + ".manifest.json")))["rows"], 50);
  }
}

TEST_F(Export, HostileValuesStayInsideTheirField) {
  auto inst = open({{"columns", {"contact_id", "last_name", "campaign", "vars.x"}}});
  EmittedRecord r =
      letter(1, nullptr, {{"salutation", "Frau"}, {"first_name", "A"}, {"last_name", "=cmd|' /C calc'!A0\",x"}});
  auto d = nlohmann::json::parse(r.data);
  d["campaign"] = std::string(5 * 1024 * 1024, 'z');  // a 5-MB field
  d["vars"] = {{"x", "line1\nline2"}};
  r.data = d.dump();
  const auto outcomes = inst->write({r});
  ASSERT_EQ(outcomes[0].status, TP_OK) << outcomes[0].message;
  const std::string csv = slurp(tmp.path() / "out" / data_files()[0]);
  EXPECT_NE(csv.find(",\"=cmd|' /C calc'!A0\"\",x\"," + std::string(5 * 1024 * 1024, 'z') + ",\"line1\nline2\"\r\n"),
            std::string::npos);
}

}  // namespace
}  // namespace touchpoint::post::test
