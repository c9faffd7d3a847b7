// HTTP for the rest connector: libcurl's multi interface (several requests
// at once over kept-alive connections), a request rate limit, a pause after
// 429/503 with Retry-After, bounded answers, and the configured auth on
// every request (README.md "Auth"). Redirects are not followed: a token is
// never sent to a host the configuration did not name.
#ifndef TOUCHPOINT_REST_HTTP_CLIENT_HPP
#define TOUCHPOINT_REST_HTTP_CLIENT_HPP

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rest_config.hpp"

namespace touchpoint::rest {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
};

struct HttpResponse {
  long status = 0;    ///< 0: no HTTP answer (see error)
  std::string error;  ///< transport failure: refused, timeout, TLS, answer too large
  bool too_large = false;
  std::string body;
  std::map<std::string, std::string> headers;  ///< lower-case names; the last of repeated ones
  /// Retry-After in seconds (delta or HTTP date), -1 when absent.
  int64_t retry_after_s = -1;
};

/// The client's view of an OAuth2 token or a static credential.
class Auth {
 public:
  explicit Auth(const AuthConfig& config) : config_(config) {}
  /// Headers and query parameters for the next request (fetching an OAuth2 token when needed).
  void apply(class HttpClient& http, HttpRequest& request);
  /// A 401 came back: forget the token, so the next apply() fetches a new one. False when nothing can change.
  bool refresh();
  uint64_t tokens_fetched() const { return tokens_fetched_; }

 private:
  void fetch_token(HttpClient& http);
  const AuthConfig& config_;
  std::string token_;
  std::chrono::steady_clock::time_point token_expires_{};
  uint64_t tokens_fetched_ = 0;
};

/// The credentials were refused (a wrong secret, a token endpoint saying no).
class AuthRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class HttpClient {
 public:
  explicit HttpClient(const Config& config);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// One request with auth; a 401 refreshes the token once and tries again.
  HttpResponse perform(HttpRequest request);
  /// Several at once (up to max_connections), each with auth and the one
  /// retry after a 401; answers in the order of the requests.
  std::vector<HttpResponse> perform_all(std::vector<HttpRequest> requests);
  /// Without auth (the token request itself).
  HttpResponse perform_plain(const HttpRequest& request);

  /// When a server asked for a pause (429/503 + Retry-After) that has not passed.
  std::chrono::steady_clock::time_point paused_until() const { return paused_until_; }
  uint64_t requests() const { return requests_; }
  const Config& config() const { return config_; }

 private:
  std::vector<HttpResponse> run(const std::vector<HttpRequest>& requests);
  void wait_for_rate();
  void note_pause(const HttpResponse& r);

  const Config& config_;
  Auth auth_;
  void* multi_ = nullptr;    // CURLM*
  std::vector<void*> easy_;  // CURL*, reused so connections stay open
  std::chrono::steady_clock::time_point next_slot_{};
  std::chrono::steady_clock::time_point paused_until_{};
  uint64_t requests_ = 0;
};

/// `text` percent-encoded for a URL path segment or query value.
std::string url_encode(const std::string& text);
/// Appends `name=value`, both percent-encoded, to the URL's query.
void add_query(std::string& url, const std::string& name, const std::string& value);
/// Whether `url` has the scheme, host and port of `base`.
bool same_origin(const std::string& url, const std::string& base);
/// The URL of rel="next" in a Link header, or "".
std::string link_next(const std::string& link_header);

}  // namespace touchpoint::rest

#endif  // TOUCHPOINT_REST_HTTP_CLIENT_HPP
