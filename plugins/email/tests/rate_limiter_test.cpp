#include "rate_limiter.hpp"

#include <gtest/gtest.h>

namespace tp_email {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

TEST(TokenBucket, ZeroIsUnlimited) {
  const auto t0 = Clock::now();
  TokenBucket b(0, t0);
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(b.take(t0), Clock::duration::zero());
}

TEST(TokenBucket, AllowsABurstThenTheRate) {
  const auto t0 = Clock::now();
  TokenBucket b(10, t0);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(b.take(t0), Clock::duration::zero()) << i;
  const auto wait = b.take(t0);
  EXPECT_GT(wait, 99ms);
  EXPECT_LE(wait, 101ms);
  EXPECT_EQ(b.take(t0 + 100ms), Clock::duration::zero());
  EXPECT_GT(b.take(t0 + 100ms), Clock::duration::zero());
}

TEST(TokenBucket, SlowRatesWaitWholeSeconds) {
  const auto t0 = Clock::now();
  TokenBucket b(0.5, t0);
  EXPECT_EQ(b.take(t0), Clock::duration::zero());
  const auto wait = b.take(t0);
  EXPECT_GT(wait, 1900ms);
  EXPECT_LE(wait, 2001ms);
  EXPECT_EQ(b.take(t0 + 2s), Clock::duration::zero());
}

TEST(TokenBucket, OverALongRunTheAverageIsTheRate) {
  auto t = Clock::now();
  TokenBucket b(50, t);
  int sent = 0;
  const auto end = t + 10s;
  while (t < end) {
    const auto w = b.take(t);
    if (w == Clock::duration::zero()) {
      ++sent;
    } else {
      t += w;
    }
  }
  EXPECT_GE(sent, 50 * 10);
  EXPECT_LE(sent, 50 * 10 + 51);  // the initial burst
}

}  // namespace
}  // namespace tp_email
