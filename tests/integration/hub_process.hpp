#pragma once
// HubProcess: runs the real `touchpoint run` binary as a child process for
// end-to-end tests. Reusable on its own: it needs only the binary, a hub
// config file and the hub's data directory (where the hub writes admin.addr).
//
//   HubProcess hub(binary, config, data_dir, log_file);
//   hub.start();                         // posix_spawn, stdout+stderr -> log_file
//   ASSERT_TRUE(hub.wait_ready(10s)) << hub.log();   // admin.addr + GET /ready == 200
//   hub.signal(SIGHUP);
//   int rc = hub.terminate(10s);         // SIGTERM, returns the exit code
//   hub.kill9();                         // SIGKILL + reap (crash simulation)
//
// The destructor SIGKILLs a child that is still running, so a failing test
// never leaves a hub behind.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tp_it {

/// Sanitizer builds run the hub several times slower (ASan, TSan): every
/// deadline of these tests (poll_until, wait_ready, wait_exit) is scaled by
/// this, so that a deadline means "hung", not "slow build".
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr int kDeadlineScale = 4;
#else
inline constexpr int kDeadlineScale = 1;
#endif

class HubProcess {
 public:
  HubProcess(std::filesystem::path binary, std::filesystem::path config, std::filesystem::path data_dir,
             std::filesystem::path log_file);
  ~HubProcess();
  HubProcess(const HubProcess&) = delete;
  HubProcess& operator=(const HubProcess&) = delete;

  /// Spawns `touchpoint run --config <config>`. Removes a stale admin.addr
  /// first so wait_ready() never reads the address of a previous run.
  /// The log file is appended to, so restarts keep the whole history.
  void start();

  /// Waits until admin.addr exists and GET /ready answers 200. Returns false
  /// on timeout or when the child exits first (see exit_status()).
  bool wait_ready(std::chrono::milliseconds timeout);

  /// Sends a signal to the running child.
  void signal(int sig);

  /// SIGTERM, then waits up to `timeout` for the exit. Returns the exit code,
  /// 128+signal if it died from a signal, or -1 if it did not stop in time
  /// (it is then killed with SIGKILL).
  int terminate(std::chrono::milliseconds timeout);

  /// SIGKILL and reap. No-op if not running.
  void kill9();

  /// Waits for the child to exit by itself; same return convention as terminate().
  int wait_exit(std::chrono::milliseconds timeout);

  /// True while the child has not exited (reaps it if it has).
  bool running();

  pid_t pid() const { return pid_; }
  std::optional<int> exit_status() const { return exit_status_; }

  /// "127.0.0.1:PORT" read from admin.addr by wait_ready().
  const std::string& admin_address() const { return admin_address_; }
  std::string admin_url(const std::string& path) const { return "http://" + admin_address_ + path; }

  /// Everything the hub wrote to stdout/stderr so far (all runs).
  std::string log() const;
  /// The part of the log written since `offset` (use log_size() as a mark).
  std::string log_since(size_t offset) const;
  size_t log_size() const;
  /// Polls the log until it contains `needle` after `offset`.
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout, size_t offset = 0) const;

 private:
  bool reap(bool block);

  std::filesystem::path binary_, config_, data_dir_, log_file_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::string admin_address_;
};

}  // namespace tp_it
