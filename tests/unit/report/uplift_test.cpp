// Control-group uplift against figures worked by hand.
#include "report/uplift.hpp"

#include <gtest/gtest.h>

namespace touchpoint::core::report {
namespace {

TEST(Uplift, ASignificantDifferenceHasAnIntervalAboveZero) {
  // 900 treated with 90 conversions (10 %), 100 held out with 4 (4 %).
  const Uplift u = uplift(900, 90, 100, 4);
  EXPECT_DOUBLE_EQ(u.treated_rate, 0.10);
  EXPECT_DOUBLE_EQ(u.control_rate, 0.04);
  EXPECT_NEAR(u.uplift, 0.06, 1e-12);
  // SE = sqrt(0.1*0.9/900 + 0.04*0.96/100) = sqrt(0.0001 + 0.000384) = 0.0220
  EXPECT_NEAR(u.ci_low, 0.06 - 1.959964 * 0.022, 1e-4);
  EXPECT_NEAR(u.ci_high, 0.06 + 1.959964 * 0.022, 1e-4);
  // pooled p = 94/1000; SE0 = sqrt(0.094*0.906*(1/900+1/100)) = 0.03077; z = 1.950
  EXPECT_NEAR(u.z, 1.950, 0.001);
  EXPECT_NEAR(u.p_value, 0.0512, 0.0005);
  EXPECT_EQ(u.verdict, "not_significant");
  EXPECT_EQ(uplift(900, 90, 300, 12).verdict, "significant");
}

TEST(Uplift, SmallGroupsAreTooSmallToTell) {
  EXPECT_EQ(uplift(20, 5, 10, 1).verdict, "too_small");
  EXPECT_EQ(uplift(1000, 2, 1000, 1).verdict, "too_small");  // too few conversions for the normal approximation
  EXPECT_EQ(uplift(0, 0, 0, 0).verdict, "too_small");
  const Uplift u = uplift(20, 5, 10, 1);
  EXPECT_DOUBLE_EQ(u.uplift, 0.25 - 0.1);
  EXPECT_EQ(u.ci_low, u.uplift);
}

TEST(Uplift, MoreConvertedThanMembersIsClamped) {
  const Uplift u = uplift(10, 50, 10, 0);
  EXPECT_EQ(u.treated_converted, 10u);
  EXPECT_DOUBLE_EQ(u.treated_rate, 1.0);
}

}  // namespace
}  // namespace touchpoint::core::report
