#include "plugin/isolation/plugin_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace touchpoint::core::isolation {
namespace {

constexpr int kChildFd = 3;
constexpr time_t kIoTimeoutSeconds = 2;

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = ::strsignal(sig);
    return "killed by signal " + std::to_string(sig) + (name ? std::string(" (") + name + ")" : std::string());
  }
  return "ended with status " + std::to_string(status);
}

}  // namespace

const char* exit_kind_name(ExitKind k) noexcept {
  switch (k) {
    case ExitKind::timeout:
      return "timeout";
    case ExitKind::memory:
      return "memory";
    case ExitKind::start_failed:
      return "start_failed";
    case ExitKind::open_failed:
      return "open_failed";
    case ExitKind::protocol:
      return "protocol";
    case ExitKind::crash:
      break;
  }
  return "crash";
}

std::shared_ptr<PluginProcess> PluginProcess::start(const ProcessSpec& spec, std::chrono::milliseconds timeout) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
  // The child's end becomes fd 3 through dup2, which clears close-on-exec;
  // an end that already is fd 3 is moved first, since dup2(3, 3) would not.
  if (sv[1] == kChildFd) {
    const int moved = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
    ::close(sv[1]);
    sv[1] = moved;
  }
  std::vector<std::string> args = {
      spec.host.string(), "--fd",  std::to_string(kChildFd), "--parent", std::to_string(::getpid()), "--plugin",
      spec.plugin,        "--dir", spec.dir.string()};
  if (!spec.owner.empty()) args.insert(args.end(), {"--owner", spec.owner});
  if (!spec.sha256.empty()) args.insert(args.end(), {"--sha256", spec.sha256});
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, sv[1], kChildFd);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, spec.host.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(sv[1]);
  if (rc != 0) {
    ::close(sv[0]);
    throw std::runtime_error("cannot start " + spec.host.string() + ": " + std::strerror(rc));
  }
  std::shared_ptr<PluginProcess> p(new PluginProcess());
  p->pid_ = pid;
  p->fd_ = sv[0];
  p->started_ = std::chrono::steady_clock::now();
  // A peer that stops reading, or stops in the middle of a frame, must not
  // hold a hub thread: a send or receive without progress for this long
  // fails, and the process is treated as broken.
  const timeval io_timeout{kIoTimeoutSeconds, 0};
  ::setsockopt(p->fd_, SOL_SOCKET, SO_SNDTIMEO, &io_timeout, sizeof io_timeout);
  ::setsockopt(p->fd_, SOL_SOCKET, SO_RCVTIMEO, &io_timeout, sizeof io_timeout);

  pollfd pfd{p->fd_, POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready == 0) {
    p->kill(ExitKind::start_failed, "did not load the plugin within " + std::to_string(timeout.count()) + " ms");
    throw std::runtime_error("plugin process " + p->reap());
  }
  std::optional<Frame> f;
  try {
    f = recv_frame(p->fd_);
  } catch (const WireError& e) {
    p->kill(ExitKind::protocol, std::string("sent a malformed first frame: ") + e.what());
  }
  if (!f) throw std::runtime_error("plugin process " + p->reap() + " before it loaded the plugin");
  Reader in(f->payload);
  if (f->kind == Kind::load_failed) {
    const std::string reason(in.str());
    p->reap();
    throw std::runtime_error(reason);
  }
  if (f->kind != Kind::hello) {
    p->kill(ExitKind::protocol, "sent an unexpected first frame");
    throw std::runtime_error("plugin process " + p->reap());
  }
  try {
    PluginHello& h = p->hello_;
    h.name = in.str();
    h.version = in.str();
    h.description = in.str();
    h.abi_version = in.u32();
    h.capabilities = in.u64();
    h.verbs = in.u32();
    const uint32_t n = in.u32();
    for (uint32_t i = 0; i < n && i < 64; ++i) h.warnings.emplace_back(in.str());
  } catch (const WireError& e) {
    p->kill(ExitKind::protocol, std::string("sent a malformed hello: ") + e.what());
    throw std::runtime_error("plugin process " + p->reap());
  }
  return p;
}

PluginProcess::~PluginProcess() {
  if (!reaped_) {
    kill(ExitKind::crash, "closed by the hub");
    reap();
  }
  if (fd_ >= 0) ::close(fd_);
}

bool PluginProcess::send(Kind kind, uint64_t id, std::string_view payload) {
  std::lock_guard<std::mutex> lk(write_mu_);
  return send_frame(fd_, kind, id, payload);
}

void PluginProcess::kill(ExitKind kind, const std::string& why) {
  std::lock_guard<std::mutex> lk(kill_mu_);
  if (reaped_) return;  // the pid may belong to someone else by now
  if (kill_reason_.empty()) {
    kill_reason_ = why;
    kind_ = kind;
  }
  ::kill(pid_, SIGKILL);
}

std::string PluginProcess::reap() {
  // After the connection ended the process is normally on its way out; one
  // that closed the socket and goes on running is killed after 2 s. Every
  // wait is bounded: a process that SIGKILL does not end within 2 s more (a
  // D state) is left to a detached waiter, so no caller's deadline depends on
  // the kernel's teardown. waitpid runs under kill_mu_ (never blocking), so
  // kill() can never hit a pid that was reaped and reused meanwhile.
  const auto start = std::chrono::steady_clock::now();
  bool killed = false;
  for (;;) {
    {
      std::lock_guard<std::mutex> lk(kill_mu_);
      if (reaped_) return exit_;
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR)) {
        reaped_ = true;
        if (!kill_reason_.empty())
          exit_ = kill_reason_ + " (killed)";
        else if (r == pid_)
          exit_ = describe_status(status);
        else
          exit_ = std::string("could not be waited for: ") + std::strerror(errno);
        return exit_;
      }
      const auto waited = std::chrono::steady_clock::now() - start;
      if (!killed && waited > std::chrono::seconds(2)) {
        if (kill_reason_.empty()) {
          kill_reason_ = "closed its connection but kept running";
          kind_ = ExitKind::crash;
        }
        ::kill(pid_, SIGKILL);
        killed = true;
      } else if (killed && waited > std::chrono::seconds(4)) {
        reaped_ = true;
        exit_ = (kill_reason_.empty() ? std::string("did not end") : kill_reason_) +
                " (killed; still being torn down by the kernel)";
        std::thread([pid = pid_] {
          int st = 0;
          while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
          }
        }).detach();
        return exit_;
      }
    }
    ::usleep(1000);
  }
}

uint64_t PluginProcess::rss_bytes() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/statm");
  uint64_t size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace touchpoint::core::isolation
