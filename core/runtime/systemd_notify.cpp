#include "runtime/systemd_notify.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

namespace touchpoint::core::systemd {

void notify(const std::string& state) { sd_notify(0, state.c_str()); }
void ready(const std::string& s) { notify("READY=1\nSTATUS=" + s); }
void status(const std::string& s) { notify("STATUS=" + s); }

void reloading() {
  // systemd >= 253 wants MONOTONIC_USEC with RELOADING=1 (Type=notify-reload).
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t usec = uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
  notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=reloading configuration");
}

void stopping() { notify("STOPPING=1\nSTATUS=draining in-flight batches"); }
void watchdog() { notify("WATCHDOG=1"); }

std::chrono::microseconds watchdog_interval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) return std::chrono::microseconds(usec);
  return std::chrono::microseconds(0);
}

}  // namespace touchpoint::core::systemd
