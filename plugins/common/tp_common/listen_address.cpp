#include "tp_common/listen_address.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <touchpoint/plugin.hpp>

namespace tp_common {

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& error) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    error = "must be \"host:port\", e.g. \"127.0.0.1:8080\"";
    return std::nullopt;
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p > 65535) {
    error = "has an invalid port (0-65535)";
    return std::nullopt;
  }
  if (host == "localhost") host = "127.0.0.1";
  ListenAddress out{std::string(host), static_cast<uint16_t>(p)};
  unsigned char buf[16];
  if (inet_pton(AF_INET, out.host.c_str(), buf) != 1 && inet_pton(AF_INET6, out.host.c_str(), buf) != 1) {
    error = "must use an IPv4 or IPv6 address (or localhost)";
    return std::nullopt;
  }
  return out;
}

void write_port_file(const std::string& path, uint16_t port, std::string_view who) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << '\n';
    out.close();
    if (!out) throw touchpoint::ConfigError(std::string(who) + ": 'port_file' cannot be written: " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw touchpoint::ConfigError(std::string(who) + ": 'port_file' cannot be written: " + path + ": " +
                                  std::strerror(err));
  }
}

}  // namespace tp_common
