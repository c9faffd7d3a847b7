#include <gtest/gtest.h>

#include "test_util.hpp"

namespace touchpoint::core::test {
namespace {

TEST(Remove, DeletesTopLevelAndNestedFields) {
  Step s = make("remove: [password, internal.note, not.there]");
  Record r = record(R"({"password": "geheim", "internal": {"note": "n", "team": "crm"}, "email": "a@b.de"})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"internal": {"team": "crm"}, "email": "a@b.de"})"));
}

TEST(Remove, LeavesEmptiedParents) {
  Step s = make("remove: [internal.note]");
  Record r = record(R"({"internal": {"note": "n"}})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"internal": {}})"));
}

TEST(Keep, DropsEverythingElse) {
  Step s = make("keep: [email, phone, name, consent]");
  Record r = record(R"({"email": "a@b.de", "phone": null, "consent": {"email": true, "sms": false},
                        "password": "x", "internal": {"note": 1}})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"email": "a@b.de", "phone": null, "consent": {"email": true, "sms": false}})"));
}

TEST(Keep, NestedPathsKeepOnlyThatBranch) {
  Step s = make("keep: [email, consent.email, address.geo.lat, address.city]");
  Record r = record(R"({"email": "a@b.de", "consent": {"email": true, "sms": false},
                        "address": {"city": "Zürich", "street": "x", "geo": {"lat": 47.37, "lon": 8.54}},
                        "other": {"consent": 1}})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"email": "a@b.de", "consent": {"email": true},
                                    "address": {"city": "Zürich", "geo": {"lat": 47.37}}})"));
}

TEST(Keep, ParentsLeftEmptyOrNotObjectsAreRemoved) {
  Step s = make("keep: [consent.email, email]");
  Record r = record(R"({"consent": {"sms": true}, "email": "a@b.de"})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"email": "a@b.de"})"));
  Record scalar_parent = record(R"({"consent": true})");
  EXPECT_EQ(apply(s, scalar_parent), "keep");
  EXPECT_EQ(scalar_parent.data, Json::object());
}

TEST(Keep, WholeAncestorWins) {
  Step s = make("keep: [consent.email, consent]");
  Record r = record(R"({"consent": {"email": true, "sms": false}, "x": 1})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"consent": {"email": true, "sms": false}})"));
}

TEST(SelectFields, ConfigErrors) {
  EXPECT_EQ(config_error("remove: []"), "p.yaml:1:9: empty field list for remove");
  EXPECT_EQ(config_error("keep: []"), "p.yaml:1:7: empty field list for keep");
  EXPECT_EQ(config_error("keep: email"), "p.yaml:1:7: expected a list of field paths for keep");
  EXPECT_EQ(config_error("remove:"), "p.yaml:1:1: expected a list of field paths for remove");
  EXPECT_EQ(config_error("remove: { a: 1 }"), "p.yaml:1:9: expected a list of field paths for remove");
  EXPECT_EQ(config_error("keep: [email, { a: b }]"), "p.yaml:1:15: expected a string for a field path");
  EXPECT_EQ(config_error("keep: [email, \"@key\"]"), "p.yaml:1:15: keep works on data fields only, not '@key'");
  EXPECT_EQ(config_error("remove: [a..b]"), "p.yaml:1:10: invalid field path 'a..b': empty segment");
}

}  // namespace
}  // namespace touchpoint::core::test
