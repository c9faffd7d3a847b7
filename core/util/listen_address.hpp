#pragma once
// Small checks on "host:port" listen addresses from the config.

#include <string>

namespace touchpoint::core {

/// True for 127.0.0.0/8, ::1, ::ffff:127.x.y.z and "localhost" (the host part of host:port).
bool is_loopback_listen(const std::string& listen);

}  // namespace touchpoint::core
