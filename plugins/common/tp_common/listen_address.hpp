// A listener's "host:port" and the port file that tells tests and scripts
// which port an ephemeral listener (port 0) got; shared by the listening
// sources (webhook, tcp).
#ifndef TP_COMMON_LISTEN_ADDRESS_HPP
#define TP_COMMON_LISTEN_ADDRESS_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tp_common {

struct ListenAddress {
  std::string host;   ///< an IP literal ("localhost" becomes 127.0.0.1, [v6] loses its brackets)
  uint16_t port = 0;  ///< 0: ephemeral
};

/// Parses "host:port" with an IPv4/IPv6 literal or localhost. On failure
/// returns nothing and says why in `error` (to follow the key's name).
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& error);

/// Writes the port atomically (temporary file + rename), so a reader polling
/// for the file never sees it half-written. Throws touchpoint::ConfigError
/// whose message starts with `who` (e.g. "webhook config").
void write_port_file(const std::string& path, uint16_t port, std::string_view who);

}  // namespace tp_common

#endif  // TP_COMMON_LISTEN_ADDRESS_HPP
