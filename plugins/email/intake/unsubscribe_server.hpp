// RFC 8058 one-click unsubscribe endpoint (Boost.Beast, one server thread):
//   GET  /u/{token}  -> 200 confirm page with a POST form; no state change
//   POST /u/{token}  with body List-Unsubscribe=One-Click -> emits an
//                    `unsubscribe` response (detail.method one-click), 200
// Malformed tokens -> 400, forged (wrong MAC) -> 404, other paths -> 404,
// other methods -> 405, a refused emit -> 503. Nothing is emitted on errors.
#ifndef TP_EMAIL_INTAKE_UNSUBSCRIBE_SERVER_HPP
#define TP_EMAIL_INTAKE_UNSUBSCRIBE_SERVER_HPP

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <touchpoint/plugin.hpp>

namespace tp_email::intake {

struct UnsubscribeConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  ///< 0: an ephemeral port (tests)
  std::size_t max_body_bytes = 4096;
  std::chrono::milliseconds timeout{10000};  ///< whole request, header and body
};

class UnsubscribeServer {
 public:
  /// Called on the server thread with the record; true when the hub took it.
  using Emit = std::function<bool(const touchpoint::Record&)>;

  /// Binds and starts; throws touchpoint::RetryableError when the address cannot be bound.
  UnsubscribeServer(UnsubscribeConfig cfg, std::string secret, Emit emit);
  ~UnsubscribeServer();
  UnsubscribeServer(const UnsubscribeServer&) = delete;
  UnsubscribeServer& operator=(const UnsubscribeServer&) = delete;

  std::uint16_t port() const noexcept;
  /// Stops accepting, closes connections and joins the thread. Idempotent.
  void stop() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tp_email::intake

#endif
