#include "tp_common/replay_cache.hpp"

namespace tp_common {

bool ReplayCache::contains(const Sha256Digest& key, int64_t now) {
  if (capacity_ == 0) return false;
  std::lock_guard<std::mutex> lock(mu_);
  evict_expired(now);
  auto it = expiry_.find(key);
  return it != expiry_.end() && it->second > now;
}

void ReplayCache::remember(const Sha256Digest& key, int64_t expires, int64_t now) {
  if (capacity_ == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  evict_expired(now);
  auto [it, inserted] = expiry_.try_emplace(key, expires);
  if (!inserted) {
    if (expires > it->second) it->second = expires;
    return;
  }
  order_.push_back(key);
  while (order_.size() > capacity_) {
    expiry_.erase(order_.front());
    order_.pop_front();
  }
}

size_t ReplayCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return order_.size();
}

// Entries are evicted in insertion order. Expiries are nearly monotonic in
// that order (insertion time + a fixed tolerance, later for timestamps in the
// future), so popping expired entries from the front keeps the cache small;
// an expired entry behind a live one is ignored by contains() and goes when
// it reaches the front.
void ReplayCache::evict_expired(int64_t now) {
  while (!order_.empty()) {
    auto it = expiry_.find(order_.front());
    if (it != expiry_.end() && it->second > now) return;
    if (it != expiry_.end()) expiry_.erase(it);
    order_.pop_front();
  }
}

}  // namespace tp_common
