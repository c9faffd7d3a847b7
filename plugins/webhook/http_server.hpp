// The HTTP/1.1 listener (Boost.Beast on its own Asio io_context and threads).
// Each request on a registered path is verified, parsed into records and
// emitted to that path's host as one unit; the 202 is written only when the
// host's done callback reports the unit durable.
//
// Listeners are shared: all webhook instances of one process (the plugin's
// .so holds the registry) whose `listen` is the same address use one
// acceptor and one set of server threads, and requests are dispatched by
// path to the instance that registered it. The socket's settings (threads,
// max_connections, header and idle timeouts, max_inflight_bytes) must agree
// between the instances of one address; everything else is per instance.
#ifndef TOUCHPOINT_WEBHOOK_HTTP_SERVER_HPP
#define TOUCHPOINT_WEBHOOK_HTTP_SERVER_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <touchpoint/plugin.hpp>

#include "webhook_config.hpp"

namespace touchpoint::webhook {

class Listener;
struct Route;

/// One instance's registration of its path on a (possibly shared) listener.
class HttpServer {
 public:
  /// Registers config.path on the listener of config.listen, binding the
  /// address and starting the server threads when no instance of this process
  /// listens there yet (port 0 always binds a new listener). Throws
  /// touchpoint::ConfigError when another instance already serves the path
  /// on that address or the socket settings differ from the listener's, and
  /// touchpoint::RetryableError when the address cannot be bound.
  HttpServer(const Config& config, Host host);
  /// Stops (see stop()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The bound port (the ephemeral one when configured with port 0).
  uint16_t port() const noexcept;
  /// "127.0.0.1:8080" or "[::1]:8080".
  std::string endpoint() const;
  bool running() const noexcept;
  /// How many other instances were registered on the listener when this one
  /// joined it (0: this instance bound it).
  size_t shared_with() const noexcept { return shared_with_; }

  /// Unregisters the path (its requests get 404 from now on), lets this
  /// instance's requests whose records were emitted finish (bounded wait),
  /// and makes no host call of this instance after it returns. The last
  /// instance of a listener also stops accepting and stops and joins the
  /// server threads. Idempotent.
  void stop() noexcept;

 private:
  std::shared_ptr<Listener> listener_;
  std::shared_ptr<Route> route_;
  size_t shared_with_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace touchpoint::webhook

#endif  // TOUCHPOINT_WEBHOOK_HTTP_SERVER_HPP
