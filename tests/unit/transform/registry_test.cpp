#include <gtest/gtest.h>

#include "test_util.hpp"

namespace touchpoint::core::test {
namespace {

TEST(Registry, ListsAllKindsSorted) {
  EXPECT_EQ(transform_kinds(),
            (std::vector<std::string>{"default", "filter", "hash", "keep", "lua", "mask", "normalize_email",
                                      "normalize_phone", "remove", "rename", "require", "set"}));
}

TEST(Registry, SetsKindAndNameFromIndex) {
  Step s = make("normalize_phone: { field: phone, default_region: DE }", 1);
  EXPECT_EQ(s.kind, "normalize_phone");
  EXPECT_EQ(s.name, "2:normalize_phone");
  ASSERT_NE(s.transform, nullptr);
}

TEST(Registry, BuildsEveryStepOfAPipelineFile) {
  YAML::Node root = YAML::Load(R"(transforms:
  - rename: { mail: email, tel: phone }
  - set: { country: DE, "consent.email": true }
  - default: { channel: web }
  - remove: [password, internal.note]
  - normalize_email: { field: email, on_invalid: reject }
  - normalize_phone: { field: phone, default_region: DE, on_invalid: reject }
  - require: { fields: { email: { type: string, regex: ".+@.+" }, age: { type: number }, status: { enum: [active, inactive] } } }
  - filter: { field: country, op: eq, value: DE, action: drop }
  - hash: { fields: [email], algorithm: sha256, salt: "pepper:" }
  - mask: { fields: [phone], keep_last: 4, char: "*" }
  - keep: [email, phone, age, status, consent, country, channel]
)");
  ConfigSource source("p.yaml");
  std::vector<Step> steps;
  for (size_t i = 0; i < root["transforms"].size(); ++i) steps.push_back(make_step(root["transforms"][i], i, source));
  ASSERT_EQ(steps.size(), 11u);
  EXPECT_EQ(steps[0].name, "1:rename");
  EXPECT_EQ(steps[10].name, "11:keep");

  Record r = record(R"({"mail": " Max@Example.DE ", "tel": "0170 1234567", "password": "x",
                        "internal": {"note": "n", "other": 1}, "age": 42, "status": "active", "extra": true})");
  for (const Step& s : steps) ASSERT_EQ(apply(s, r), "keep") << s.name;
  EXPECT_EQ(r.data, Json::parse(R"({"email": "16c36f35c09cf694e9d89acfe9584c88ee80fb795aa1f2a3ea5819a7772785c4",
                                    "phone": "*********4567", "age": 42, "status": "active",
                                    "consent": {"email": true}, "country": "DE", "channel": "web"})"))
      << r.data.dump();
}

TEST(Registry, UnknownKindListsKnownKinds) {
  EXPECT_EQ(config_error("renmae: { a: b }"),
            "p.yaml:1:1: unknown transform 'renmae' (known: default, filter, hash, keep, lua, mask, normalize_email, "
            "normalize_phone, remove, rename, require, set)");
}

TEST(Registry, ItemMustBeASingleKeyMap) {
  const std::string message = "a transform step must be a single-key map such as '- rename: { from: to }'";
  EXPECT_EQ(config_error("rename"), "p.yaml:1:1: " + message);
  EXPECT_EQ(config_error("[rename, set]"), "p.yaml:1:1: " + message);
  EXPECT_EQ(config_error("{ rename: { a: b }, set: { c: 1 } }"), "p.yaml:1:1: " + message);
  EXPECT_EQ(config_error("{}"), "p.yaml:1:1: " + message);
  EXPECT_EQ(config_error("? [a, b]\n: x"), "p.yaml:1:3: " + message);
}

TEST(Registry, PositionsAreReportedInsideAPipelineFile) {
  YAML::Node root = YAML::Load("transforms:\n  - set: { a: 1 }\n  - normalize_email:\n      fieldz: email\n");
  ConfigSource source("pipelines/crm.yaml");
  EXPECT_NO_THROW(make_step(root["transforms"][0], 0, source));
  try {
    make_step(root["transforms"][1], 1, source);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "pipelines/crm.yaml:4:7: unknown option 'fieldz' for normalize_email");
    EXPECT_EQ(e.line(), 4);
    EXPECT_EQ(e.col(), 7);
    EXPECT_EQ(e.message(), "unknown option 'fieldz' for normalize_email");
  }
}

TEST(Registry, NullOptionsPointAtTheStepKey) {
  YAML::Node root = YAML::Load("- hash:\n- set: { a: 1 }\n");
  try {
    make_step(root[0], 0, ConfigSource("p.yaml"));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "p.yaml:1:3: options for hash must be a map");
  }
}

}  // namespace
}  // namespace touchpoint::core::test
