#include "tp_common/replay_cache.hpp"

#include <gtest/gtest.h>

#include "tp_common/sha256.hpp"

namespace tp_common {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ReplayCache, RemembersUntilTheExpiry) {
  ReplayCache cache(10);
  const Sha256Digest a = ReplayCache::key_of("msg_a");
  EXPECT_FALSE(cache.contains(a, 1000));
  cache.remember(a, 1300, 1000);
  EXPECT_TRUE(cache.contains(a, 1000));
  EXPECT_TRUE(cache.contains(a, 1299));
  EXPECT_FALSE(cache.contains(a, 1300)) << "forgotten when the tolerance window has passed";
  EXPECT_EQ(cache.size(), 0u) << "expired entries are dropped";
  EXPECT_FALSE(cache.contains(ReplayCache::key_of("msg_b"), 1000));
}

TEST(ReplayCache, IsBoundedAndEvictsTheOldestFirst) {
  ReplayCache cache(3);
  for (const char* id : {"a", "b", "c", "d"}) cache.remember(ReplayCache::key_of(id), 2000, 1000);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.contains(ReplayCache::key_of("a"), 1000));
  for (const char* id : {"b", "c", "d"}) EXPECT_TRUE(cache.contains(ReplayCache::key_of(id), 1000)) << id;
  // Remembering a present id again keeps its place (and the later expiry).
  cache.remember(ReplayCache::key_of("b"), 3000, 1000);
  cache.remember(ReplayCache::key_of("e"), 2000, 1000);
  EXPECT_FALSE(cache.contains(ReplayCache::key_of("b"), 1000));
  EXPECT_TRUE(cache.contains(ReplayCache::key_of("e"), 1000));
}

TEST(ReplayCache, AnExpiredEntryBehindALiveOneIsIgnored) {
  ReplayCache cache(10);
  cache.remember(ReplayCache::key_of("future"), 5000, 1000);  // a webhook-timestamp ahead of the clock
  cache.remember(ReplayCache::key_of("now"), 1300, 1000);
  EXPECT_FALSE(cache.contains(ReplayCache::key_of("now"), 1400));
  EXPECT_TRUE(cache.contains(ReplayCache::key_of("future"), 1400));
}

TEST(ReplayCache, SizeZeroDisablesIt) {
  ReplayCache cache(0);
  EXPECT_FALSE(cache.enabled());
  cache.remember(ReplayCache::key_of("a"), 2000, 1000);
  EXPECT_FALSE(cache.contains(ReplayCache::key_of("a"), 1000));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ReplayCache, KeysAreFixedSizeWhateverTheIdLength) {
  ReplayCache cache(2);
  const std::string huge(16 * 1024, 'x');
  cache.remember(ReplayCache::key_of(huge), 2000, 1000);
  EXPECT_TRUE(cache.contains(ReplayCache::key_of(huge), 1000));
  EXPECT_FALSE(cache.contains(ReplayCache::key_of(huge + "y"), 1000));
}

}  // namespace
}  // namespace tp_common
