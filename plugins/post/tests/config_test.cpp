#include <gtest/gtest.h>

#include "post_config.hpp"
#include "sdk.hpp"
#include "test_support.hpp"

namespace touchpoint::post {
namespace {

std::string error_of(const std::string& json) {
  try {
    (void)parse_config(json);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsForAMinimalExport) {
  const Config c = parse_config(R"({"target":{"dir":"/var/post"}})");
  ASSERT_TRUE(c.exporter);
  EXPECT_FALSE(c.returns);
  EXPECT_EQ(c.exporter->format, Format::csv);
  EXPECT_EQ(c.exporter->prefix, "letters");
  EXPECT_EQ(c.exporter->delimiter, ',');
  EXPECT_EQ(c.exporter->line_ending, "\r\n");
  EXPECT_EQ(c.exporter->columns.size(), 11u);
  EXPECT_EQ(c.exporter->target.dir, "/var/post");
}

TEST(Config, SftpUrlIsSplit) {
  const Config c =
      parse_config(R"({"target":{"sftp":{"url":"sftp://127.0.0.1:2222/upload/","username":"u","private_key_file":"/k",)"
                   R"("known_hosts":"/kh"}}})");
  ASSERT_TRUE(c.exporter->target.sftp);
  EXPECT_EQ(c.exporter->target.sftp->host, "sftp://127.0.0.1:2222");
  EXPECT_EQ(c.exporter->target.sftp->path, "/upload/");
  EXPECT_EQ(c.exporter->target.sftp->timeout_ms, 30000);
}

TEST(Config, ErrorsNameTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({})", "needs \"target\""},
      {R"({"target":{"dir":"/x"},"colums":[]})", "colums: unknown key"},
      {R"({"target":{"dir":"/x"},"header":"yes"})", "header: must be a boolean"},
      {R"({"target":{"dir":"/x","sftp":{}}})", "target: needs exactly one"},
      {R"({"target":{"sftp":{"url":"sftp://h/up/","username":"u","private_key_file":"/k"}}})",
       "target.sftp.known_hosts: is required"},
      {R"({"target":{"sftp":{"url":"sftp://h/up","username":"u","private_key_file":"/k","known_hosts":"/kh"}}})",
       "must end with '/'"},
      {R"({"target":{"sftp":{"url":"sftp://h/a/../b/","username":"u","private_key_file":"/k","known_hosts":"/k"}}})",
       "may not contain . or .."},
      {R"({"target":{"sftp":{"url":"ftp://h/up/","username":"u","private_key_file":"/k","known_hosts":"/k"}}})",
       "must start with sftp://"},
      {R"({"target":{"dir":"/x"},"format":"jsonl","encoding":"latin-1"})", "jsonl files are always utf-8"},
      {R"({"target":{"dir":"/x"},"encoding":"utf-16"})", "encoding: must be"},
      {R"({"target":{"dir":"/x"},"columns":["contact_id","shoe_size"]})", "columns[1]: unknown field"},
      {R"({"target":{"dir":"/x"},"columns":["zip",{"column":"zip","field":"city"}]})", "given twice"},
      {R"({"target":{"dir":"/x"},"prefix":"../evil"})", "prefix: must be"},
      {R"({"format":"csv"})", "format: is an export setting"},
      {R"({"returns":{"dir":"/r","reason_map":{"01":"gone"}}})", "returns.reason_map.01: must be one of"},
      {R"({"returns":{"dir":"/r","columns":{"Nr":"contact_id"}}})",
       "must map a column to contact_id and one to reason"},
      {R"({"returns":{"dir":"/r","batch_rows":0}})", "returns.batch_rows: must be between"},
      {R"({"returns":{"dir":"/r","bogus":1}})", "returns.bogus: unknown key"},
      {R"({"returns":{}})", "returns: needs exactly one"},
      {R"([1])", "must be a JSON object"},
      {R"({"target":)", "not valid JSON"},
  };
  for (const auto& [json, expected] : cases) {
    const std::string e = error_of(json);
    EXPECT_NE(e.find(expected), std::string::npos) << json << " -> " << e;
  }
}

TEST(Config, ValidateThroughThePlugin) {
  touchpoint::testing::Harness h(TP_POST_PLUGIN);
  EXPECT_EQ(h.info().capabilities & (TP_CAP_SOURCE | TP_CAP_SINK), TP_CAP_SOURCE | TP_CAP_SINK);
  EXPECT_EQ(std::string(h.info().name.data, h.info().name.len), "post");
  std::string error;
  EXPECT_EQ(h.validate(R"({"returns":{"dir":"/r"},"target":{"dir":"/t"}})", &error), TP_OK) << error;
  EXPECT_EQ(h.validate(R"({"target":{"dir":"/t"},"delimeter":";"})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("delimeter"), std::string::npos);
}

}  // namespace
}  // namespace touchpoint::post
