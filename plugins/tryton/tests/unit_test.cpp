// The parts of the tryton plugin that need no server: config, cursor, the
// party mapping, dates, phone matching and the note text.
#include <gtest/gtest.h>

#include <touchpoint/plugin.hpp>

#include "party_sync.hpp"
#include "tryton_config.hpp"
#include "tryton_time.hpp"
#include "write_back.hpp"

namespace touchpoint::tryton {
namespace {

std::string config_error(const std::string& json) {
  try {
    (void)parse_config(json);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(TrytonConfig, RequiredKeysTypesAndRangesAreNamed) {
  const std::string base = R"("url":"http://127.0.0.1:8000","database":"tp","user":"admin","password":"x")";
  EXPECT_EQ(parse_config("{" + base + "}").page_size, 500);
  EXPECT_EQ(parse_config("{" + base + R"(,"page_size":"50"})").page_size, 50) << "digit strings, as ${env:} gives";
  EXPECT_EQ(config_error(R"({"database":"tp","user":"a","password":"x"})"), "url: is required");
  EXPECT_EQ(config_error(R"({"url":"ftp://x","database":"tp","user":"a","password":"x"})"),
            "url: must start with http:// or https://");
  EXPECT_EQ(config_error("{" + base + R"(,"page_size":0})"), "page_size: must be between 1 and 10000");
  EXPECT_EQ(config_error("{" + base + R"(,"passwrd":"x"})"), "passwrd: unknown key");
  EXPECT_EQ(config_error("{" + base + R"(,"system":"Tryton!"})"),
            "system: must be 1-64 of a-z 0-9 _ - (the identity is ext:<system>)");
  EXPECT_EQ(config_error(R"({"url":"http://h","database":"a/b","user":"a","password":"x"})"),
            "database: must be a database name (1-64 bytes, no '/', '?', '#', '%' or spaces)");
  EXPECT_EQ(config_error("{" + base + R"(,"write_back":{"invalid":"delete"}})"),
            "write_back.invalid: must be deactivate or comment, not 'delete'");
  EXPECT_EQ(config_error("{" + base + R"(,"write_back":{"notes":[1]}})"),
            "write_back.notes: must be a list of response kinds (strings)");
  EXPECT_EQ(config_error("{" + base + R"(,"default_region":"de"})"),
            "default_region: must be a two-letter region code in upper case (DE, AT, CH, ...)");
  EXPECT_EQ(config_error("[]"), "the config must be a JSON object");
  EXPECT_EQ(config_error(std::string(100000, '{')), "the config must be a JSON object");
  const Config c =
      parse_config("{" + base + R"(,"url":"http://h:1///","write_back":{"opportunities":"off","notes":[]}})");
  EXPECT_EQ(c.url, "http://h:1");
  EXPECT_EQ(c.write_back.opportunities, WriteBackConfig::Opportunities::off);
  EXPECT_TRUE(c.write_back.notes.empty());
}

TEST(TrytonCursor, RoundTripsAndRefusesWhatIsNoCursor) {
  const SyncCursor c{1764762825469752, 42, 1764762830000000, 1764762831};
  EXPECT_EQ(decode_cursor(encode_cursor(c)), c);
  EXPECT_FALSE(decode_cursor(""));
  EXPECT_FALSE(decode_cursor("offset=12"));
  EXPECT_FALSE(decode_cursor(R"({"v":2,"since_us":0,"last_id":0,"high_us":0,"sweep_started_s":0})"));
  EXPECT_FALSE(decode_cursor(R"({"v":1,"since_us":-1,"last_id":0,"high_us":0,"sweep_started_s":0})"));
  EXPECT_FALSE(decode_cursor(R"({"v":1,"since_us":"1","last_id":0,"high_us":0,"sweep_started_s":0})"));
}

TEST(TrytonTime, DatetimesConvertBothWaysAndImpossibleOnesAreRefused) {
  const nlohmann::json t{{"__class__", "datetime"},
                         {"year", 2026},
                         {"month", 12},
                         {"day", 3},
                         {"hour", 11},
                         {"minute", 53},
                         {"second", 45},
                         {"microsecond", 469752}};
  const std::optional<int64_t> us = datetime_us(t);
  ASSERT_TRUE(us);
  EXPECT_EQ(iso_us(*us), "2026-12-03T11:53:45.469752Z");
  EXPECT_EQ(datetime_json(*us), t);
  EXPECT_FALSE(datetime_us(nullptr));
  nlohmann::json feb30 = t;
  feb30["month"] = 2;
  feb30["day"] = 30;
  EXPECT_FALSE(datetime_us(feb30));
  nlohmann::json huge = t;
  huge["year"] = 99999999999LL;
  EXPECT_FALSE(datetime_us(huge));
  EXPECT_EQ(date_json(0)["year"], 1970);
}

nlohmann::json dt(int second) {
  return {{"__class__", "datetime"}, {"year", 2026},    {"month", 12}, {"day", 3}, {"hour", 10}, {"minute", 0},
          {"second", second},        {"microsecond", 0}};
}

TEST(TrytonMapping, FirstActiveMechanismsBySequenceAndNullsForWhatIsGone) {
  const nlohmann::json party{{"id", 7},        {"name", "Anna Schmidt"}, {"code", "P7"},
                             {"active", true}, {"create_date", dt(1)},   {"write_date", nullptr}};
  const nlohmann::json old_mail{{"id", 1},       {"type", "email"},      {"value", "old@example.de"}, {"active", false},
                                {"sequence", 1}, {"create_date", dt(2)}, {"write_date", dt(9)}};
  const nlohmann::json second{{"id", 2},        {"type", "email"}, {"value", "second@example.de"},
                              {"active", true}, {"sequence", 20},  {"create_date", dt(3)}};
  const nlohmann::json first{{"id", 3},        {"type", "email"}, {"value", "first@example.de"},
                             {"active", true}, {"sequence", 10},  {"create_date", dt(4)}};
  const nlohmann::json mobile{{"id", 4},     {"type", "mobile"},    {"value", "+49 170 1234567"},
                              {"active", 1}, {"sequence", nullptr}, {"create_date", dt(5)}};
  const nlohmann::json address{{"id", 5},
                               {"street", "Hauptstr. 1"},
                               {"postal_code", "10115"},
                               {"city", "Berlin"},
                               {"country.", {{"id", 1}, {"code", "DE"}}},
                               {"active", 1},
                               {"create_date", dt(6)}};
  const PartyView v = map_party(party, {&old_mail, &second, &first, &mobile}, {&address}, "tryton");
  EXPECT_EQ(v.id, 7);
  EXPECT_EQ(v.stamp_us, *datetime_us(dt(9))) << "the newest change of the party or what belongs to it";
  EXPECT_EQ(v.data["external_ids"], (nlohmann::json{{"tryton", "7"}}));
  EXPECT_EQ(v.data["email"], "first@example.de");
  EXPECT_EQ(v.data["phone"], "+49 170 1234567");
  EXPECT_EQ(v.data["address"],
            (nlohmann::json{{"street", "Hauptstr. 1"}, {"zip", "10115"}, {"city", "Berlin"}, {"country", "DE"}}));
  EXPECT_EQ(v.data["tryton_code"], "P7");
  const PartyView bare = map_party(party, {&old_mail}, {}, "crm");
  EXPECT_TRUE(bare.data["email"].is_null()) << "an e-mail that is gone clears the CRM's e-mail";
  EXPECT_TRUE(bare.data["phone"].is_null());
  EXPECT_TRUE(bare.data["address"].is_null());
  EXPECT_EQ(bare.data["external_ids"], (nlohmann::json{{"crm", "7"}}));
}

TEST(TrytonWriteBack, PhonesMatchInNationalAndInternationalFormAndNothingElse) {
  EXPECT_TRUE(same_phone("+49 30 1234567", "+49301234567", "DE"));
  EXPECT_TRUE(same_phone("030 1234567", "+49301234567", "DE"));
  EXPECT_TRUE(same_phone("0049 30 1234567", "+49 (30) 123-4567", "DE"));
  EXPECT_FALSE(same_phone("030 1234567", "+49301234568", "DE"));
  EXPECT_FALSE(same_phone("030 1234567", "+43301234567", "DE")) << "Vienna is not Berlin";
  EXPECT_FALSE(same_phone("030 1234567", "0530 1234567", "DE")) << "a longer area code is another line";
  EXPECT_FALSE(same_phone("089 123456", "+1 989 123456", "DE"));
  EXPECT_FALSE(same_phone("0123456", "+44 99 9123456", "DE"));
  EXPECT_TRUE(same_phone("01 234 5678", "+43 1 2345678", "AT")) << "national numbers are read in the region";
  EXPECT_FALSE(same_phone("", "", "DE"));
  EXPECT_FALSE(same_phone(std::string(5'000'000, '9'), std::string(5'000'000, '9'), "DE"));
}

TEST(TrytonWriteBack, TheNoteSaysWhatHappenedAndIsBounded) {
  nlohmann::json f{
      {"response",
       {{"id", "r-1"},
        {"kind", "call_outcome"},
        {"at", "2026-12-03T10:00:00.000Z"},
        {"detail",
         {{"outcome", "sale"}, {"product", "savings-plus"}, {"revenue", 120.5}, {"note", std::string(1 << 20, 'x')}}}}},
      {"contact", {{"id", "c-1"}, {"channel", "phone"}, {"campaign", "spring"}}}};
  const std::string text = note_text(f);
  EXPECT_EQ(text.rfind("[touchpoint r-1] call_outcome sale on phone at 2026-12-03T10:00:00.000Z, campaign spring", 0),
            0u)
      << text.substr(0, 200);
  EXPECT_NE(text.find("product savings-plus, revenue 120.50"), std::string::npos);
  EXPECT_LT(text.size(), 2048u) << "a megabyte of agent notes is cut";
}

}  // namespace
}  // namespace touchpoint::tryton
