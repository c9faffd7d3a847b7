// The plugin through the harness: validate_config, open, the missing intake.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <touchpoint/testing.hpp>

#include "test_support.hpp"

namespace tp_email::test {
namespace {

TEST(PluginConfig, NegotiatesAsSourceAndSink) {
  touchpoint::testing::Harness h(TP_EMAIL_PLUGIN);
  EXPECT_EQ(std::string(h.info().name.data, h.info().name.len), "email");
  EXPECT_EQ(h.info().capabilities, static_cast<uint64_t>(TP_CAP_SOURCE | TP_CAP_SINK));
}

TEST(PluginConfig, ValidateNamesTheKey) {
  touchpoint::testing::Harness h(TP_EMAIL_PLUGIN);
  TempDir t;
  std::string error;
  EXPECT_EQ(h.validate(sink_config(t.path(), 25), &error), TP_OK) << error;
  auto j = nlohmann::json::parse(sink_config(t.path(), 25));
  j["smtp"]["pasword"] = "x";
  EXPECT_EQ(h.validate(j.dump(), &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("'smtp.pasword' is not a known key"), std::string::npos) << error;
  j = nlohmann::json::parse(sink_config(t.path(), 25));
  j["default_template"] = "../x";
  EXPECT_EQ(h.validate(j.dump(), &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("'default_template'"), std::string::npos) << error;
}

#ifndef TP_EMAIL_WITH_INTAKE
TEST(PluginConfig, AnIntakeBlockWithoutTheIntakeLibraryIsAClearError) {
  touchpoint::testing::Harness h(TP_EMAIL_PLUGIN);
  std::string error;
  EXPECT_EQ(h.validate(R"({"intake":{"maildir":"/var/mail/bounces"}})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("'intake' is not available"), std::string::npos) << error;
  EXPECT_THROW(h.open(R"({"intake":{"maildir":"/var/mail/bounces"}})"), std::runtime_error);
}
#endif

TEST(PluginConfig, OpenDoesNotConnectAndASinkCannotRead) {
  touchpoint::testing::Harness h(TP_EMAIL_PLUGIN);
  TempDir t;
  auto inst = h.open(sink_config(t.path(), 1));  // nothing listens on port 1: open still succeeds
  std::string error;
  EXPECT_EQ(inst->read(&error), TP_STATUS_UNSUPPORTED);
  std::string doc;
  EXPECT_EQ(inst->discover(&doc), TP_OK);
  EXPECT_EQ(doc, R"({"streams":[{"name":"message","direction":"sink"}]})");
}

}  // namespace
}  // namespace tp_email::test
