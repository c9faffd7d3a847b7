#pragma once
// One touchpoint-plugin-host process and its end of the socketpair.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "plugin/isolation/wire.hpp"

namespace touchpoint::core::isolation {

/// Where the plugin is and how the process loads it (the hub's own loader options).
struct ProcessSpec {
  std::filesystem::path host;  ///< touchpoint-plugin-host
  std::filesystem::path dir;   ///< plugin directory
  std::string plugin;          ///< plugin name (libtp_<name>.so)
  std::string owner;           ///< plugins.owner
  std::string sha256;          ///< plugins.sha256 pin, or empty
};

/// What the process reported after loading the plugin.
struct PluginHello {
  std::string name, version, description;
  uint32_t abi_version = 0;
  uint64_t capabilities = 0;
  uint32_t verbs = 0;  // VerbBit
  std::vector<std::string> warnings;
};

/// Why a process ended, for touchpoint_plugin_process_exits_total{reason}.
enum class ExitKind { crash, timeout, memory, start_failed, open_failed, protocol };
const char* exit_kind_name(ExitKind k) noexcept;

class PluginProcess {
 public:
  /// Starts the process and waits (at most `timeout`) for its hello.
  /// Throws std::runtime_error with the reason (load_failed text, exit status).
  static std::shared_ptr<PluginProcess> start(const ProcessSpec& spec, std::chrono::milliseconds timeout);
  ~PluginProcess();
  PluginProcess(const PluginProcess&) = delete;
  PluginProcess& operator=(const PluginProcess&) = delete;

  const PluginHello& hello() const noexcept { return hello_; }
  pid_t pid() const noexcept { return pid_; }
  int fd() const noexcept { return fd_; }
  std::chrono::steady_clock::time_point started() const noexcept { return started_; }

  /// Thread-safe; false when the process is gone.
  bool send(Kind kind, uint64_t id, std::string_view payload);
  /// SIGKILL, remembering why (shown as the exit reason). The first reason given wins.
  void kill(ExitKind kind, const std::string& why);
  /// The reason given to kill(), or crash when the process ended by itself.
  ExitKind exit_kind() const {
    std::lock_guard<std::mutex> lk(kill_mu_);
    return kind_;
  }
  /// Waits for the exit (after the connection ended) and describes it:
  /// "exited with status 1", "killed by signal 11 (Segmentation fault)",
  /// or the reason given to kill().
  std::string reap();
  /// Resident set size in bytes (0 when unknown).
  uint64_t rss_bytes() const;

 private:
  PluginProcess() = default;

  pid_t pid_ = -1;
  int fd_ = -1;
  std::chrono::steady_clock::time_point started_;
  PluginHello hello_;
  std::mutex write_mu_;
  mutable std::mutex kill_mu_;
  std::string kill_reason_;
  ExitKind kind_ = ExitKind::crash;
  bool reaped_ = false;
  std::string exit_;
};

}  // namespace touchpoint::core::isolation
