// Incremental SHA-256 (OpenSSL EVP), hex output.
#ifndef TOUCHPOINT_POST_SHA256_HPP
#define TOUCHPOINT_POST_SHA256_HPP

#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace touchpoint::post {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  /// The lowercase hex digest; the object is reset afterwards.
  std::string hex();

 private:
  evp_md_ctx_st* ctx_;
};

inline std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex();
}

}  // namespace touchpoint::post

#endif  // TOUCHPOINT_POST_SHA256_HPP
