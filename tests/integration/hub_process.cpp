#include "hub_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support.hpp"

extern char** environ;

namespace tp_it {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

HubProcess::HubProcess(fs::path binary, fs::path config, fs::path data_dir, fs::path log_file)
    : binary_(std::move(binary)),
      config_(std::move(config)),
      data_dir_(std::move(data_dir)),
      log_file_(std::move(log_file)) {}

HubProcess::~HubProcess() { kill9(); }

void HubProcess::start() {
  if (pid_ > 0 && running()) throw std::logic_error("HubProcess::start: already running");
  std::error_code ec;
  fs::remove(data_dir_ / "admin.addr", ec);
  exit_status_.reset();
  admin_address_.clear();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);

  // The child starts with default signal dispositions and an empty mask, no
  // matter what the test runner blocked or ignored.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::string bin = binary_.string(), cfg = config_.string();
  std::vector<char*> argv{bin.data(), const_cast<char*>("run"), const_cast<char*>("--config"), cfg.data(), nullptr};
  // Outside systemd: make sure the hub does not try to talk to a notify socket.
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view v(*e);
    if (v.starts_with("NOTIFY_SOCKET=") || v.starts_with("WATCHDOG_") || v.starts_with("JOURNAL_STREAM=")) continue;
    env_store.emplace_back(v);
  }
  // An LD_PRELOAD library (fault injection, libfaketime) comes before the
  // ASan runtime; ASan refuses to start then unless told that is fine.
  if (kDeadlineScale > 1 && std::any_of(env_store.begin(), env_store.end(),
                                        [](const std::string& e) { return e.starts_with("LD_PRELOAD="); })) {
    auto asan = std::find_if(env_store.begin(), env_store.end(),
                             [](const std::string& e) { return e.starts_with("ASAN_OPTIONS="); });
    if (asan != env_store.end())
      *asan += ":verify_asan_link_order=0";
    else
      env_store.emplace_back("ASAN_OPTIONS=verify_asan_link_order=0");
  }
  std::vector<char*> envp;
  for (std::string& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, bin.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("posix_spawn " + bin + ": " + std::strerror(rc));
  pid_ = pid;
}

bool HubProcess::reap(bool block) {
  if (pid_ <= 0) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  if (r == pid_) {
    if (WIFEXITED(status))
      exit_status_ = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
      exit_status_ = 128 + WTERMSIG(status);
    else
      exit_status_ = -1;
  }
  pid_ = -1;
  return true;
}

bool HubProcess::running() { return pid_ > 0 && !reap(false); }

bool HubProcess::wait_ready(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout * kDeadlineScale;
  const fs::path addr_file = data_dir_ / "admin.addr";
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return false;
    if (admin_address_.empty()) {
      // The address is complete once its line ends with '\n'.
      std::string text = read_file(addr_file);
      if (!text.empty() && text.back() == '\n') {
        text.pop_back();
        admin_address_ = text;
      }
    }
    if (!admin_address_.empty()) {
      HttpResponse r = http_request("GET", admin_url("/ready"), "", {}, 2s);
      if (r.status == 200) return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void HubProcess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int HubProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout * kDeadlineScale;
  while (pid_ > 0) {
    if (reap(false)) break;
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(10ms);
  }
  return exit_status_.value_or(-1);
}

int HubProcess::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_status_.value_or(-1);
  ::kill(pid_, SIGTERM);
  int rc = wait_exit(timeout);
  if (pid_ > 0) {
    kill9();
    return -1;
  }
  return rc;
}

void HubProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap(true);
}

std::string HubProcess::log() const { return read_file(log_file_); }

std::string HubProcess::log_since(size_t offset) const {
  std::string all = log();
  return offset < all.size() ? all.substr(offset) : std::string();
}

size_t HubProcess::log_size() const {
  std::error_code ec;
  auto n = fs::file_size(log_file_, ec);
  return ec ? 0 : static_cast<size_t>(n);
}

bool HubProcess::wait_for_log(const std::string& needle, std::chrono::milliseconds timeout, size_t offset) const {
  return poll_until([&] { return log_since(offset).find(needle) != std::string::npos; }, timeout);
}

}  // namespace tp_it
