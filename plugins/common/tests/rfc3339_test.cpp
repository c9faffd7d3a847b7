#include "tp_common/rfc3339.hpp"

#include <gtest/gtest.h>

namespace tp_common {
namespace {

TEST(Rfc3339, ParsesUtcAndOffsets) {
  EXPECT_EQ(parse_rfc3339_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339_ms("2024-01-02T03:04:05.678Z"), 1704164645678);
  EXPECT_EQ(parse_rfc3339_ms("2024-01-02T03:04:05Z"), 1704164645000);
  EXPECT_EQ(parse_rfc3339_ms("2024-01-02T05:04:05+02:00"), 1704164645000);
  EXPECT_EQ(parse_rfc3339_ms("2024-01-01T22:04:05-05:00"), 1704164645000);
  EXPECT_EQ(parse_rfc3339_ms("2024-01-02t03:04:05.6z"), 1704164645600);
  EXPECT_EQ(parse_rfc3339_ms("2024-01-02 03:04:05.123456789Z"), 1704164645123);
  EXPECT_EQ(parse_rfc3339_ms("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_EQ(parse_rfc3339_ms("1969-12-31T23:59:59Z"), -1000);
}

TEST(Rfc3339, RejectsMalformedOrOutOfRange) {
  for (const char* s :
       {"", "2024-01-02", "2024-01-02T03:04:05", "2024-01-02T03:04Z", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
        "2024-01-32T00:00:00Z", "2024-01-02T24:00:00Z", "2024-01-02T03:60:00Z", "2024-01-02T03:04:05.Z",
        "2024-01-02T03:04:05+2:00", "2024-01-02T03:04:05Zjunk", "2024/01/02T03:04:05Z", "yesterday"})
    EXPECT_FALSE(parse_rfc3339_ms(s)) << s;
}

}  // namespace
}  // namespace tp_common
