// The pure parts: E.164, CSV, dispositions, config, encodings.
#include <gtest/gtest.h>

#include <string>
#include <touchpoint/plugin.hpp>

#include "call_entry.hpp"
#include "config.hpp"
#include "csv.hpp"
#include "disposition.hpp"
#include "disposition_file.hpp"
#include "encoding.hpp"
#include "json_input.hpp"
#include "text.hpp"

namespace touchpoint::callcenter {
namespace {

TEST(Phone, E164) {
  EXPECT_TRUE(is_e164("+4930123456"));
  EXPECT_TRUE(is_e164("+123456789012345"));
  EXPECT_FALSE(is_e164("+1234567890123456"));  // 16 digits
  EXPECT_FALSE(is_e164("004930123456"));
  EXPECT_FALSE(is_e164("+0301234567"));
  EXPECT_FALSE(is_e164("+49 30 123456"));
  EXPECT_FALSE(is_e164("+49301"));
  EXPECT_FALSE(is_e164(std::string("+4930\0123456", 11)));
  EXPECT_EQ(mask_phone("+4930123456"), "+49******56");
  EXPECT_EQ(mask_phone(std::string("+49\x01", 4)), "(unprintable)");
}

TEST(CallEntry, FromMessage) {
  auto r = parse_call_entry("c-1", R"({"contact_id":"c-3f9a","channel":"phone","campaign":"spring","template":"s1",
    "vars":{"priority":2},"to":"+4930123456","customer":{"first_name":"Anna","last_name":"Müller\nX"},
    "calling_window":{"timezone":"Europe/Berlin","from":"08:00","to":"20:00"}})",
                            R"({"in_doubt":true})");
  ASSERT_TRUE(std::holds_alternative<CallEntry>(r)) << std::get<std::string>(r);
  const CallEntry& e = std::get<CallEntry>(r);
  EXPECT_EQ(e.contact_id, "c-3f9a");
  EXPECT_EQ(e.name, "Anna Müller X");  // a line break never splits a row
  EXPECT_EQ(e.priority, "2");
  EXPECT_EQ(e.script, "s1");
  EXPECT_EQ(e.timezone, "Europe/Berlin");
  EXPECT_TRUE(e.in_doubt);
  EXPECT_EQ(to_json(e), R"({"contact_id":"c-3f9a","phone":"+4930123456","name":"Anna Müller X","first_name":"Anna",)"
                        R"("last_name":"Müller X","campaign":"spring","script":"s1","priority":"2","calling_window":)"
                        R"({"timezone":"Europe/Berlin","from":"08:00","to":"20:00"},"in_doubt":true})");
}

TEST(CallEntry, RefusesWhatCannotBeCalled) {
  auto reason = [](std::string_view data) {
    auto r = parse_call_entry("c-1", data, "");
    return std::holds_alternative<std::string>(r) ? std::get<std::string>(r) : std::string("accepted");
  };
  EXPECT_NE(reason(R"({"to":"0301234"})").find("not an E.164"), std::string::npos);
  EXPECT_EQ(reason(R"({"to":"0301234567"})").find("0301234567"), std::string::npos) << "the number is masked";
  EXPECT_NE(reason(R"({"customer":{}})").find("no phone number"), std::string::npos);
  EXPECT_NE(reason(R"({"to":4930123456})").find("not a string"), std::string::npos);
  EXPECT_NE(reason(R"({"to":"+4930123456","channel":"email"})").find("channel 'email'"), std::string::npos);
  EXPECT_NE(reason(R"({"to":"+4930123456","contact_id":"c-\u0001"})").find("control"), std::string::npos);
  EXPECT_NE(reason("[1]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(reason("{").find("not valid JSON"), std::string::npos);
  EXPECT_EQ(reason(R"({"to":"+4930123456"})"), "accepted");
}

TEST(Csv, QuotesPerRfc4180) {
  std::string out;
  append_csv_field(out, "plain", ',');
  out += ',';
  append_csv_field(out, "a,b", ',');
  out += ',';
  append_csv_field(out, "say \"hi\"", ',');
  out += ',';
  append_csv_field(out, "two\nlines", ',');
  out += ';';
  append_csv_field(out, "x;y", ';');
  EXPECT_EQ(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\";\"x;y\"");
}

TEST(Csv, ReadsQuotedMultilineAndReportsMalformedRows) {
  auto rows = parse_csv("a,b\r\n\"x,1\",\"multi\nline\"\r\nbad\"quote,2\n\"open,3\n", ',');
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].fields, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"x,1", "multi\nline"}));
  EXPECT_EQ(rows[1].line, 2u);
  EXPECT_NE(rows[2].error, "");
  EXPECT_EQ(rows[2].line, 4u);
  EXPECT_NE(rows[3].error.find("unterminated"), std::string::npos);
}

OutcomeMap provider_map() { return {{"NA", "no_answer"}, {"DNC", "do_not_call"}}; }

Fields text_fields(std::initializer_list<std::pair<const char*, std::string>> kv) {
  Fields f;
  for (const auto& [k, v] : kv) f[k] = FieldValue{FieldValue::Type::text, v};
  return f;
}

std::string error_of(const Fields& f) {
  auto r = build_disposition(f, provider_map());
  if (auto* e = std::get_if<DispositionError>(&r)) return e->field + ": " + e->message;
  return "accepted";
}

TEST(Disposition, BuildsTheResponse) {
  auto r = build_disposition(text_fields({{"contact_id", "c-1"},
                                          {"outcome", "sale"},
                                          {"at", "2026-12-01T10:00:00Z"},
                                          {"product", "savings-plus"},
                                          {"revenue", "125.50"},
                                          {"note", "line1\nline2"},
                                          {"agent", "a17"},
                                          {"unknown_column", "ignored"}}),
                             provider_map());
  ASSERT_TRUE(std::holds_alternative<Disposition>(r)) << std::get<DispositionError>(r).message;
  EXPECT_EQ(std::get<Disposition>(r).data,
            R"({"contact_id":"c-1","channel":"phone","kind":"call_outcome","at":"2026-12-01T10:00:00Z",)"
            R"("detail":{"outcome":"sale","product":"savings-plus","revenue":125.5,"note":"line1\nline2",)"
            R"("agent":"a17"}})");
  auto mapped = build_disposition(text_fields({{"contact_id", "c-1"}, {"outcome", "DNC"}, {"at", "1767261600000"}}),
                                  provider_map());
  EXPECT_EQ(std::get<Disposition>(mapped).data,
            R"({"contact_id":"c-1","channel":"phone","kind":"call_outcome","at":1767261600000,)"
            R"("detail":{"outcome":"do_not_call","provider_outcome":"DNC"}})");
}

TEST(Disposition, RejectsHostileValuesNamingTheField) {
  EXPECT_EQ(error_of(text_fields({{"outcome", "sale"}})), "contact_id: contact_id is missing");
  EXPECT_EQ(error_of(text_fields({{"contact_id", "c-\x1b"}, {"outcome", "sale"}})).rfind("contact_id:", 0), 0u);
  EXPECT_EQ(error_of(text_fields({{"contact_id", "c-1"}, {"outcome", "maybe"}})).rfind("outcome: unknown outcome", 0),
            0u);
  EXPECT_NE(
      error_of(text_fields({{"contact_id", "c-1"}, {"outcome", std::string(5 << 20, 'x')}})).find("5242880 bytes"),
      std::string::npos);
  for (const char* bad : {"NaN", "nan", "inf", "1e309", "-1e309", "12,50", "1e13", "0x10", ""}) {
    const std::string e = error_of(text_fields({{"contact_id", "c-1"}, {"outcome", "sale"}, {"revenue", bad}}));
    if (std::string_view(bad).empty()) {
      EXPECT_EQ(e, "accepted");
    } else {
      EXPECT_EQ(e.rfind("revenue:", 0), 0u) << bad << " -> " << e;
    }
  }
  EXPECT_EQ(
      error_of(text_fields({{"contact_id", "c-1"}, {"outcome", "callback"}, {"callback_at", "99999-01-01T00:00:00Z"}}))
          .rfind("callback_at:", 0),
      0u);
  EXPECT_EQ(error_of(text_fields({{"contact_id", "c-1"}, {"outcome", "callback"}})).rfind("callback_at:", 0), 0u);
  EXPECT_EQ(
      error_of(text_fields({{"contact_id", "c-1"}, {"outcome", "callback"}, {"callback_at", "2026-02-30T10:00:00Z"}}))
          .rfind("callback_at:", 0),
      0u);
  EXPECT_EQ(error_of(text_fields(
                {{"contact_id", "c-1"}, {"outcome", "callback"}, {"callback_at", "2026-02-03T10:00:00+01:00"}})),
            "accepted");
  EXPECT_EQ(error_of(text_fields({{"contact_id", "c-1"}, {"outcome", "sale"}, {"note", std::string("a\0b", 3)}}))
                .rfind("note:", 0),
            0u);
  EXPECT_EQ(error_of(text_fields({{"contact_id", "c-1"}, {"outcome", "sale"}, {"at", "99999999999999999999"}}))
                .rfind("at:", 0),
            0u);
}

TEST(JsonInput, BodiesAndBombs) {
  auto one = parse_json_body(R"({"contact_id":"c-1","outcome":"busy","revenue":12.5})", 10);
  ASSERT_TRUE(std::holds_alternative<std::vector<Fields>>(one));
  EXPECT_EQ(std::get<std::vector<Fields>>(one)[0].at("revenue").type, FieldValue::Type::number);
  auto list = parse_json_body(R"({"dispositions":[{"contact_id":"c-1"},{"contact_id":"c-2"}]})", 10);
  EXPECT_EQ(std::get<std::vector<Fields>>(list).size(), 2u);
  auto too_many = parse_json_body("[{},{},{}]", 2);
  EXPECT_NE(std::get<JsonInputError>(too_many).message.find("more than 2"), std::string::npos);
  auto bomb = parse_json_body(std::string(100000, '[') + std::string(100000, ']'), 10);
  EXPECT_NE(std::get<JsonInputError>(bomb).message.find("nested deeper"), std::string::npos);
  auto huge = parse_json_body(R"({"contact_id":"c-1","outcome":"sale","revenue":1e309})", 10);
  EXPECT_NE(std::get<JsonInputError>(huge).message.find("out of range"), std::string::npos);
  auto nan = parse_json_body(R"({"contact_id":"c-1","outcome":"sale","revenue":NaN})", 10);
  EXPECT_TRUE(std::holds_alternative<JsonInputError>(nan));
  auto str_revenue = parse_json_body(R"({"contact_id":"c-1","outcome":"sale","revenue":"NaN"})", 10);
  auto r = build_disposition(std::get<std::vector<Fields>>(str_revenue)[0], {});
  EXPECT_EQ(std::get<DispositionError>(r).field, "revenue");
  auto nested = parse_json_body(R"({"contact_id":{"a":1},"outcome":"sale"})", 10);
  auto rn = build_disposition(std::get<std::vector<Fields>>(nested)[0], {});
  EXPECT_EQ(std::get<DispositionError>(rn).field, "contact_id");
  auto latin1 = parse_json_body("{\"contact_id\":\"M\xFC\"}", 10);
  EXPECT_NE(std::get<JsonInputError>(latin1).message.find("UTF-8"), std::string::npos);
}

TEST(DispositionFile, CsvRowsRejectsAndStableIds) {
  DispositionDir cfg;
  const std::string content =
      "contact_id,outcome,revenue,note\n"
      "c-1,sale,10,ok\n"
      "c-2,NA,,\n"
      "c-3,bogus,,\n"
      "c-4,sale,\"NaN\",\n"
      "c-5,sale,1,M\xFCller\n"
      "c-6,sale\n"
      "c-7,sale,1,\"cut off";
  ParsedFile f = parse_disposition_file("d.csv", content, FileFormat::csv, cfg, provider_map());
  ASSERT_EQ(f.file_error, "");
  ASSERT_EQ(f.items.size(), 7u);
  EXPECT_TRUE(f.items[0].ok);
  EXPECT_TRUE(f.items[1].ok);
  EXPECT_NE(f.items[1].data.find("\"no_answer\""), std::string::npos);
  EXPECT_NE(f.items[2].reason.find("unknown outcome 'bogus'"), std::string::npos);
  EXPECT_NE(f.items[3].reason.find("revenue"), std::string::npos);
  EXPECT_NE(f.items[4].reason.find("invalid UTF-8"), std::string::npos);
  EXPECT_EQ(f.items[4].raw, "c-5,sale,1,M\\xFCller\n");  // raw stays UTF-8
  EXPECT_NE(f.items[5].reason.find("2 fields"), std::string::npos);
  EXPECT_NE(f.items[6].reason.find("unterminated"), std::string::npos);
  EXPECT_EQ(f.items[0].id, file_id_prefix("d.csv", content) + "1");
  EXPECT_NE(file_id_prefix("d.csv", content), file_id_prefix("d.csv", content + "\n"));

  cfg.encoding = Encoding::latin1;
  ParsedFile l =
      parse_disposition_file("d.csv", "contact_id,outcome,note\nc-5,sale,M\xFCller\n", FileFormat::csv, cfg, {});
  ASSERT_EQ(l.items.size(), 1u);
  EXPECT_NE(l.items[0].data.find("Müller"), std::string::npos);

  ParsedFile none = parse_disposition_file("d.csv", "id,result\n1,2\n", FileFormat::csv, DispositionDir{}, {});
  EXPECT_NE(none.file_error.find("contact_id"), std::string::npos);
}

TEST(Encoding, Latin1BothWays) {
  EXPECT_EQ(utf8_to_latin1("Müller"), "M\xFCller");
  EXPECT_EQ(latin1_to_utf8("M\xFCller"), "Müller");
  const std::string polish = utf8_to_latin1("Łukasz");
  EXPECT_EQ(polish.size(), 6u);  // one byte for Ł, whatever iconv makes of it
  EXPECT_EQ(polish.substr(1), "ukasz");
}

std::string config_error(const std::string& json) {
  try {
    (void)parse_config(json);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(Config, StrictAndNamingTheKey) {
  EXPECT_EQ(config_error(R"({"target":{"dir":"/tmp/x"}})"), "accepted");
  EXPECT_NE(config_error(R"({"target":{"dir":"/tmp/x","colour":1}})").find("'target.colour'"), std::string::npos);
  EXPECT_NE(config_error(R"({"target":{"dir":"/tmp/x","columns":["phone","ssn"]}})").find("'ssn'"), std::string::npos);
  EXPECT_NE(
      config_error(R"({"target":{"dir":"/tmp/x","format":"jsonl","encoding":"latin-1"}})").find("'target.encoding'"),
      std::string::npos);
  EXPECT_NE(config_error(R"({"target":{"dir":"/tmp/x","prefix":"../up"}})").find("'target.prefix'"), std::string::npos);
  EXPECT_NE(config_error(R"({"target":{"dir":"/tmp/x","delimiter":"\""}})").find("'target.delimiter'"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"target":{"http":{"url":"ftp://x"}}})").find("'target.http.url'"), std::string::npos);
  EXPECT_NE(config_error(R"({"target":{"http":{"url":"http://x","auth_header":"Bearer abc"}}})")
                .find("'target.http.auth_header'"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"target":{"http":{"url":"http://x","timeout_ms":"5"}}})").find("'target.http.timeout_ms'"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"webhook":{"listen":"127.0.0.1:0"}})").find("'webhook.secret'"), std::string::npos);
  EXPECT_NE(config_error(R"({"webhook":{"listen":"127.0.0.1:99999","secret":"s"}})").find("'webhook.listen'"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"outcome_map":{"X":"maybe"},"target":{"dir":"/x"}})").find("'outcome_map.X'"),
            std::string::npos);
  EXPECT_NE(config_error(R"({"dispositions":{"dir":"/x","encoding":"utf-16"}})").find("'dispositions.encoding'"),
            std::string::npos);
  EXPECT_NE(config_error("{}").find("at least one"), std::string::npos);
  EXPECT_NE(config_error("[").find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace touchpoint::callcenter
