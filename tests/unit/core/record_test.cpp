// The record envelope: to_json / record_from_json round trip and errors.

#include "record/record.hpp"

#include <gtest/gtest.h>

namespace touchpoint::core {
namespace {

TEST(Record, RoundTrip) {
  Record r;
  r.id = "r-1";
  r.type = "profile";
  r.source = "crm";
  r.key = "42";
  r.ts_ms = 1700000000123;
  r.data = {{"email", "jane@example.com"}, {"tags", {"a", "b"}}};
  r.meta = {{"trace", "t1"}};
  Json j = to_json(r);
  EXPECT_EQ(j, Json::parse(R"({"id":"r-1","type":"profile","source":"crm","key":"42","ts":1700000000123,
                              "data":{"email":"jane@example.com","tags":["a","b"]},"meta":{"trace":"t1"}})"));
  Record back = record_from_json(Json::parse(j.dump()));
  EXPECT_EQ(back.id, r.id);
  EXPECT_EQ(back.type, r.type);
  EXPECT_EQ(back.source, r.source);
  EXPECT_EQ(back.key, r.key);
  EXPECT_EQ(back.ts_ms, r.ts_ms);
  EXPECT_EQ(back.data, r.data);
  EXPECT_EQ(back.meta, r.meta);
}

TEST(Record, Defaults) {
  Record r = record_from_json(Json::parse(R"({"id":"x"})"));
  EXPECT_EQ(r.type, "event");
  EXPECT_EQ(r.source, "");
  EXPECT_EQ(r.key, "");
  EXPECT_EQ(r.ts_ms, 0);
  EXPECT_EQ(r.data, Json::object());
  EXPECT_EQ(r.meta, Json::object());
}

TEST(Record, MalformedEnvelopesThrowRuntimeError) {
  for (const char* bad :
       {R"([])", R"("x")", R"({})", R"({"id":""})", R"({"id":"x","data":[]})", R"({"id":"x","data":null})",
        R"({"id":5})", R"({"id":"x","ts":"yesterday"})", R"({"id":"x","type":7})", R"({"id":"x","key":{}})",
        R"({"id":"x","meta":[1]})", R"({"id":"x","ts":1.5e300})"}) {
    EXPECT_THROW(record_from_json(Json::parse(bad)), std::runtime_error) << bad;
  }
  // A null meta is the same as none.
  EXPECT_EQ(record_from_json(Json::parse(R"({"id":"x","meta":null})")).meta, Json::object());
}

}  // namespace
}  // namespace touchpoint::core
