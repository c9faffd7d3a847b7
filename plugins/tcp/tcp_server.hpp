// The tcp source's listener (Boost.Asio): NDJSON over plain TCP, one unit per
// read, TCP backpressure while the hub has enough of a connection's units in
// flight, lost units emitted again, and an acknowledgement on half-close.
#ifndef TOUCHPOINT_TCP_SERVER_HPP
#define TOUCHPOINT_TCP_SERVER_HPP

#include <memory>
#include <string>
#include <touchpoint/plugin.hpp>

#include "tcp_config.hpp"

namespace touchpoint::tcp {

class TcpServer {
 public:
  /// Binds the listener and starts the threads. Throws touchpoint::Error.
  TcpServer(const Config& config, Host host);
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  uint16_t port() const noexcept;
  std::string endpoint() const;
  bool running() const noexcept;
  /// Stops accepting and reading, waits up to 10 s for the hub's answers to
  /// what was emitted, and joins the threads. Idempotent.
  void stop() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace touchpoint::tcp

#endif  // TOUCHPOINT_TCP_SERVER_HPP
