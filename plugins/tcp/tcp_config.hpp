// The tcp source's configuration (README.md), parsed and checked from the
// instance's JSON "config" block. Every error is a touchpoint::ConfigError
// whose message names the key.
#ifndef TOUCHPOINT_TCP_CONFIG_HPP
#define TOUCHPOINT_TCP_CONFIG_HPP

#include <cstdint>
#include <string>
#include <string_view>

namespace touchpoint::tcp {

struct Config {
  std::string listen = "127.0.0.1:5170";  ///< as configured (5170: Fluent Bit's tcp input)
  std::string host = "127.0.0.1";         ///< IP literal to bind
  uint16_t port = 5170;                   ///< 0: ephemeral
  std::string port_file;
  std::string type = "event";  ///< record type of plain objects (envelopes name their own)
  std::string id_field = "id";
  std::string key_field;
  uint64_t max_line_bytes = 1024u * 1024u;    ///< a longer line is a dead letter (its first bytes kept)
  uint64_t read_buffer_bytes = 256u * 1024u;  ///< one read; its complete lines are one unit
  uint64_t max_units_in_flight = 8;           ///< per connection; then the socket is not read (TCP backpressure)
  uint64_t max_connections = 256;             ///< more are closed at once
  uint64_t idle_timeout_ms = 0;               ///< close a connection that sent nothing for this long (0: never)
  unsigned threads = 1;                       ///< Asio threads
  bool ack = true;                            ///< on the client's half-close, answer {"accepted":N,"rejected":M}
};

/// Parses and checks `json` (an object; empty means all defaults). Throws
/// touchpoint::ConfigError. No side effects.
Config parse_config(std::string_view json);

}  // namespace touchpoint::tcp

#endif  // TOUCHPOINT_TCP_CONFIG_HPP
