#include "content_type.hpp"

#include <gtest/gtest.h>

namespace touchpoint::webhook {
namespace {

TEST(ContentType, JsonTypesAndNoneAreAccepted) {
  for (const char* v :
       {"", "  ", "application/json", "Application/JSON", "application/json; charset=utf-8",
        " application/json ;charset=UTF-8", "text/json", "application/cloudevents+json", "application/vnd.api+json",
        "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonl",
        "application/x-jsonlines", "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded"})
    EXPECT_TRUE(is_accepted_content_type(v)) << v;
}

TEST(ContentType, OtherTypesAreRefused) {
  for (const char* v : {"multipart/form-data; boundary=x", "text/html", "text/html; charset=utf-8", "application/xml",
                        "text/csv", "application/octet-stream", "image/png", "application/+json", "text/x+json",
                        "application/jsonx", "json", "; charset=utf-8", "application/a/b+json", "application/a b+json"})
    EXPECT_FALSE(is_accepted_content_type(v)) << v;
}

}  // namespace
}  // namespace touchpoint::webhook
