// The e-mail channel's HTTP endpoint for the links the hub puts into its
// messages (Boost.Beast; put it behind the public url_bases with a reverse
// proxy):
//   GET  /u/{token}      -> 200 confirm page with a POST form; no state change
//   POST /u/{token}      with body List-Unsubscribe=One-Click (RFC 8058) ->
//                        emits an `unsubscribe` response, 200 once durable
//   GET  /c/{token}      -> emits a `clicked` response, then 302 to the URL
//                        signed into the token (never anywhere else)
//   GET  /o/{token}.gif  -> emits an `opened` response, answers a 1x1 GIF
// HEAD is answered like GET for /c/ and /o/ (and is a machine's hit).
// Malformed tokens -> 400, forged (wrong MAC) -> 404, other paths -> 404,
// other methods -> 405. Nothing is emitted on errors. A refused emit is 503
// for an unsubscribe; a click still redirects and an open still gets its
// image (the person is not kept waiting), and the emit callback counts it.
// Clicks and opens by machines (machine_detect.hpp) are emitted with
// detail.machine = true. The same hit twice is emitted once while it is among
// the recent ones (the store applies it once anyway).
#ifndef TP_EMAIL_INTAKE_LINK_SERVER_HPP
#define TP_EMAIL_INTAKE_LINK_SERVER_HPP

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <touchpoint/plugin.hpp>

#include "machine_detect.hpp"

namespace tp_email::intake {

struct LinkServerConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  ///< 0: an ephemeral port (tests)
  std::size_t max_body_bytes = 4096;
  std::chrono::milliseconds timeout{10000};  ///< whole request, header and body
  MachineRules machine;
  std::size_t threads = 4;          ///< an emit waits for durability: the others keep serving meanwhile
  std::size_t recent_hits = 16384;  ///< click/open ids remembered to emit a repeated hit once
};

class LinkServer {
 public:
  /// Called on a server thread with the record; true when the hub has it durably.
  using Emit = std::function<bool(const touchpoint::Record&)>;
  using Clock = std::function<int64_t()>;  ///< Unix seconds; the system clock unless a test sets one

  /// Binds and starts; throws touchpoint::RetryableError when the address cannot be bound.
  LinkServer(LinkServerConfig cfg, std::string secret, Emit emit, Clock clock = {});
  ~LinkServer();
  LinkServer(const LinkServer&) = delete;
  LinkServer& operator=(const LinkServer&) = delete;

  std::uint16_t port() const noexcept;
  /// Stops accepting, closes connections and joins the threads. Idempotent.
  void stop() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tp_email::intake

#endif
