// Tryton's JSON-RPC over HTTP (libcurl, one kept-alive connection): login,
// a session header, and calls that throw by what the failure means.
#ifndef TOUCHPOINT_TRYTON_JSON_RPC_HPP
#define TOUCHPOINT_TRYTON_JSON_RPC_HPP

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace touchpoint::tryton {

using Json = nlohmann::json;

/// Tryton answered the call with an error of its own (UserError,
/// AccessError, ...): the request as sent will not work later either.
class TrytonError : public std::runtime_error {
 public:
  TrytonError(std::string type, const std::string& message) : std::runtime_error(message), type_(std::move(type)) {}
  const std::string& type() const noexcept { return type_; }

 private:
  std::string type_;
};

/// Tryton or the network failed in a way that may pass (refused connection,
/// timeout, 5xx, 429, a locked database, a concurrent write).
class TrytonUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The login was refused (wrong user or password): a configuration problem.
class TrytonLoginRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RpcEndpoint {
  std::string url;  ///< http://host:port
  std::string database;
  std::string user;
  std::string password;
  int64_t timeout_ms = 30'000;
  bool verify_tls = true;
};

class JsonRpcClient {
 public:
  explicit JsonRpcClient(RpcEndpoint endpoint);
  ~JsonRpcClient();
  JsonRpcClient(const JsonRpcClient&) = delete;
  JsonRpcClient& operator=(const JsonRpcClient&) = delete;

  /// `method` with `params` (a JSON array); logs in first when there is no
  /// session, and once more when Tryton says the session expired.
  Json call(const std::string& method, const Json& params);

  /// model.<model>.<verb>(args..., context): the usual shape of Tryton's model calls.
  Json model(const std::string& model, const std::string& verb, Json args, const Json& context = Json::object());

  uint64_t requests() const noexcept { return requests_; }
  /// The server's clock (HTTP Date header of the last answer), seconds since
  /// the epoch; 0 when it sent none.
  int64_t server_time_s() const noexcept { return server_time_s_; }

 private:
  void login();
  /// One POST; returns the HTTP status and fills `body`.
  long post(const std::string& payload, bool with_session, std::string& body);

  RpcEndpoint endpoint_;
  std::string post_url_;
  std::string session_header_;  // "Authorization: Session base64(user:id:session)"
  void* curl_ = nullptr;        // CURL*
  uint64_t next_id_ = 1;
  uint64_t requests_ = 0;
  int64_t server_time_s_ = 0;
};

/// The text of Tryton's error array (["UserError", ["message", "description", ...]]), bounded.
std::string tryton_error_text(const Json& error);

}  // namespace touchpoint::tryton

#endif  // TOUCHPOINT_TRYTON_JSON_RPC_HPP
