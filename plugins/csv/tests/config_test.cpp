#include <gtest/gtest.h>

#include <string>

#include "csv_config.hpp"
#include "cursor.hpp"
#include "sdk.hpp"

namespace touchpoint::csv {
namespace {

std::string config_error(const std::string& json) {
  try {
    parse_config(json);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, Defaults) {
  Config c = parse_config(R"({"inbox":"/data/in"})");
  EXPECT_EQ(c.inbox, "/data/in");
  EXPECT_EQ(c.done_dir, "/data/in/done");
  EXPECT_EQ(c.pattern, "*.csv");
  EXPECT_EQ(c.delimiter, 0);
  EXPECT_EQ(c.encoding, "utf-8");
  EXPECT_TRUE(c.header);
  EXPECT_TRUE(c.columns.empty());
  EXPECT_FALSE(c.only_mapped);
  EXPECT_EQ(c.type, "profile");
  EXPECT_EQ(c.batch_rows, 1000u);
  EXPECT_EQ(c.settle_ms, 1000);
  EXPECT_TRUE(c.trim);
  EXPECT_TRUE(c.key_column.empty());
  EXPECT_TRUE(c.id_column.empty());
  EXPECT_EQ(c.max_row_bytes, size_t{8} << 20);
  EXPECT_LE(c.max_row_bytes, TP_MAX_RECORD_BYTES);
}

TEST(Config, MaxRowBytesMustKeepRecordsWithinTheHubLimit) {
  EXPECT_EQ(parse_config(R"({"inbox":"i","max_row_bytes":8388608})").max_row_bytes, 8388608u);
  EXPECT_EQ(parse_config(R"({"inbox":"i","max_row_bytes":1024})").max_row_bytes, 1024u);
  for (const char* bad : {R"({"inbox":"i","max_row_bytes":8388609})", R"({"inbox":"i","max_row_bytes":67108864})",
                          R"({"inbox":"i","max_row_bytes":1023})"}) {
    const std::string e = config_error(bad);
    EXPECT_NE(e.find("max_row_bytes"), std::string::npos) << e;
    EXPECT_NE(e.find("8388608"), std::string::npos) << e;
    EXPECT_NE(e.find("TP_MAX_RECORD_BYTES"), std::string::npos) << e;
  }
}

TEST(Config, TypeMustBeOneTheHubAccepts) {
  EXPECT_EQ(parse_config(R"({"inbox":"i","type":"crm.contact_v-2"})").type, "crm.contact_v-2");
  for (const char* bad :
       {R"({"inbox":"i","type":"Profile"})", R"({"inbox":"i","type":"a b"})", R"({"inbox":"i","type":"kontakt-ä"})"}) {
    const std::string e = config_error(bad);
    EXPECT_NE(e.find("type"), std::string::npos) << e;
    EXPECT_NE(e.find("a-z"), std::string::npos) << e;
  }
  EXPECT_NE(config_error(R"({"inbox":"i","type":")" + std::string(65, 'a') + R"("})").find(" 64 "), std::string::npos);
}

TEST(Config, AllKeys) {
  Config c = parse_config(R"({"inbox":"in","done_dir":"out","pattern":"*.txt","delimiter":"\t",
    "encoding":"latin-1","header":false,"columns":{"E-Mail":"email","Stadt":"address.city"},
    "only_mapped":true,"type":"contact","key_column":"E-Mail","id_column":"Nr","batch_rows":10,
    "settle_ms":0,"trim":false,"max_row_bytes":4096})");
  EXPECT_EQ(c.done_dir, "out");
  EXPECT_EQ(c.pattern, "*.txt");
  EXPECT_EQ(c.delimiter, '\t');
  EXPECT_EQ(c.encoding, "latin-1");
  EXPECT_FALSE(c.header);
  ASSERT_EQ(c.columns.size(), 2u);
  EXPECT_EQ(c.columns[1].column, "Stadt");
  EXPECT_EQ(c.columns[1].path, (std::vector<std::string>{"address", "city"}));
  EXPECT_TRUE(c.only_mapped);
  EXPECT_EQ(c.type, "contact");
  EXPECT_EQ(c.key_column, "E-Mail");
  EXPECT_EQ(c.id_column, "Nr");
  EXPECT_EQ(c.batch_rows, 10u);
  EXPECT_EQ(c.settle_ms, 0);
  EXPECT_FALSE(c.trim);
  EXPECT_EQ(c.max_row_bytes, 4096u);
  EXPECT_EQ(parse_config(R"({"inbox":"i","delimiter":";"})").delimiter, ';');
  EXPECT_EQ(parse_config(R"({"inbox":"i","delimiter":","})").delimiter, ',');
  EXPECT_EQ(parse_config(R"({"inbox":"i","delimiter":"auto"})").delimiter, 0);
}

TEST(Config, Errors) {
  EXPECT_NE(config_error(R"({"inbox":"i","colums":{}})").find("'colums'"), std::string::npos);
  EXPECT_NE(config_error(R"({})").find("inbox"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":""})").find("inbox"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":"i","delimiter":"|"})").find("delimiter"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":"i","encoding":"klingon-8"})").find("encoding"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":"i","encoding":"UTF-16"})").find("ASCII"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":"i","batch_rows":0})").find("batch_rows"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":"i","batch_rows":"10"})").find("batch_rows"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":"i","settle_ms":-1})").find("settle_ms"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":"i","header":"yes"})").find("header"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":"i","columns":{"a":"x..y"}})").find("columns.a"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":"i","columns":{"a":1}})").find("columns.a"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":"i","columns":{"a":"x","b":"x"}})").find("conflicts"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":"i","columns":{"a":"x","b":"x.y"}})").find("conflicts"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":"i","only_mapped":true})").find("only_mapped"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":"i","done_dir":"i/"})").find("done_dir"), std::string::npos);
  EXPECT_NE(config_error(R"({"inbox":"i","inbox":"j"})").find("twice"), std::string::npos);
  EXPECT_NE(config_error(R"([1,2])").find("object"), std::string::npos);
  EXPECT_NE(config_error("not json").find("JSON"), std::string::npos);
}

TEST(Config, SplitPath) {
  EXPECT_EQ(split_path("a.b.c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split_path("email"), (std::vector<std::string>{"email"}));
  EXPECT_TRUE(split_path("").empty());
  EXPECT_TRUE(split_path("a.").empty());
  EXPECT_TRUE(split_path(".a").empty());
}

TEST(CursorJson, RoundTrip) {
  Cursor c{"Kunden \"2024\".csv", 123456, 1700000000123456789, 1000, 42, true};
  std::string json = to_json(c);
  EXPECT_EQ(
      json,
      R"({"file":"Kunden \"2024\".csv","size":123456,"mtime":1700000000123456789,"offset":1000,"line":42,"eof":true})");
  auto back = parse_cursor(json);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, c);
  std::string error;
  EXPECT_FALSE(parse_cursor("", &error).has_value());
  EXPECT_FALSE(parse_cursor(R"({"file":"a.csv"})", &error).has_value());
  EXPECT_FALSE(parse_cursor(R"({"file":"../x","size":1,"mtime":1,"offset":1,"line":1,"eof":false})", &error));
}

TEST(CursorJson, RecoveryStateRoundTrips) {
  Cursor c{"a.csv", 100, 5, 40, 7, false, 90, true};
  const std::string json = to_json(c);
  EXPECT_EQ(json,
            R"({"file":"a.csv","size":100,"mtime":5,"offset":40,"line":7,"eof":false,"horizon":90,"strict":true})");
  EXPECT_EQ(parse_cursor(json).value(), c);
  // Cursors without it (and those of earlier versions) parse with none.
  auto old = parse_cursor(R"({"file":"a.csv","size":100,"mtime":5,"offset":40,"line":7,"eof":false})");
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->horizon, 0u);
  EXPECT_FALSE(old->strict);
}

TEST(CursorJson, FileNamesThatAreNotUtf8TravelAsHex) {
  Cursor c{"M\xFCller.csv", 1, 2, 3, 4, true};
  const std::string json = to_json(c);
  EXPECT_EQ(json, R"({"file_hex":"4dfc6c6c65722e637376","size":1,"mtime":2,"offset":3,"line":4,"eof":true})");
  EXPECT_EQ(parse_cursor(json).value(), c);
  EXPECT_FALSE(parse_cursor(R"({"file_hex":"4d2","size":1,"mtime":2,"offset":3,"line":4,"eof":true})").has_value());
  EXPECT_FALSE(parse_cursor(R"({"file_hex":"2f","size":1,"mtime":2,"offset":3,"line":4,"eof":true})").has_value());
}

}  // namespace
}  // namespace touchpoint::csv
