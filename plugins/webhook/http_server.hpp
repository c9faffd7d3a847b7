// The HTTP/1.1 listener (Boost.Beast on its own Asio io_context and threads).
// Each request on the configured path is verified, parsed into records and
// emitted to the host as one unit; the 202 is written only when the host's
// done callback reports the unit durable.
#ifndef TOUCHPOINT_WEBHOOK_HTTP_SERVER_HPP
#define TOUCHPOINT_WEBHOOK_HTTP_SERVER_HPP

#include <cstdint>
#include <memory>
#include <string>
#include <touchpoint/plugin.hpp>

#include "webhook_config.hpp"

namespace touchpoint::webhook {

class HttpServer {
 public:
  /// Binds the listening socket and starts the server threads. Throws
  /// touchpoint::Error when the address cannot be bound.
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

  /// Stops accepting, lets requests whose records were emitted finish (bounded
  /// wait), then stops and joins all server threads. No host call happens
  /// after it returns. Idempotent.
  void stop() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace touchpoint::webhook

#endif  // TOUCHPOINT_WEBHOOK_HTTP_SERVER_HPP
