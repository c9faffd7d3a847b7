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

}  // namespace
}  // namespace touchpoint::csv
