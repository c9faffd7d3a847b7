#pragma once
// sd_notify(3) messages for Type=notify units. Harmless outside systemd.

#include <chrono>
#include <string>

namespace touchpoint::core::systemd {

void notify(const std::string& state);
void ready(const std::string& status);
void status(const std::string& status);
void reloading();
void stopping();
void watchdog();
/// The watchdog interval systemd asked for, or zero.
std::chrono::microseconds watchdog_interval();

}  // namespace touchpoint::core::systemd
