// Remembers the webhook-id of requests that were acknowledged (the webhook
// plugin answers 202, the callcenter listener 200), so that a replayed (or
// re-delivered) message is acknowledged again without being emitted twice. Bounded: at most `capacity` ids, the oldest
// evicted first; an id is forgotten when its expiry passes. Thread-safe.
#ifndef TP_COMMON_REPLAY_CACHE_HPP
#define TP_COMMON_REPLAY_CACHE_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "tp_common/sha256.hpp"

namespace tp_common {

class ReplayCache {
 public:
  /// `capacity` 0 disables the cache: contains() is always false.
  explicit ReplayCache(size_t capacity) : capacity_(capacity) {}

  bool enabled() const noexcept { return capacity_ > 0; }

  /// The key of a webhook-id: its SHA-256, so an entry costs the same for
  /// any id length.
  static Sha256Digest key_of(std::string_view webhook_id) { return sha256(webhook_id); }

  /// True when `key` was remembered and its expiry (Unix seconds) is after `now`.
  bool contains(const Sha256Digest& key, int64_t now);

  /// Remembers `key` until `expires` (Unix seconds). A key already present
  /// keeps its place in the eviction order and gets the later expiry.
  void remember(const Sha256Digest& key, int64_t expires, int64_t now);

  size_t size() const;

 private:
  struct Hash {
    size_t operator()(const Sha256Digest& d) const noexcept {
      size_t h;
      std::memcpy(&h, d.data(), sizeof(h));  // already uniformly distributed
      return h;
    }
  };
  void evict_expired(int64_t now);

  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<Sha256Digest, int64_t, Hash> expiry_;  // key -> expiry
  std::deque<Sha256Digest> order_;                          // insertion order, oldest first
};

}  // namespace tp_common

#endif  // TP_COMMON_REPLAY_CACHE_HPP
