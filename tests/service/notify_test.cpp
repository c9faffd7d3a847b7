// Runs the real hub with NOTIFY_SOCKET/WATCHDOG_USEC set, as systemd does for
// a Type=notify unit with WatchdogSec=, and checks what arrives on the socket.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      throw std::runtime_error("bind notify socket");
  }
  ~NotifySocket() { ::close(fd_); }

  /// Waits for a datagram containing `needle`; returns it, or "" on timeout.
  std::string wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (const auto& m : seen_)
      if (m.find(needle) != std::string::npos) return m;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) continue;
      seen_.emplace_back(buf, static_cast<size_t>(n));
      if (seen_.back().find(needle) != std::string::npos) return seen_.back();
    }
    return {};
  }
  void forget() { seen_.clear(); }

 private:
  fs::path path_;
  int fd_ = -1;
  std::vector<std::string> seen_;
};

class ServiceNotify : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tp-notify-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "pipelines");
    std::ofstream(dir_ / "hub.yaml") << "data_dir: data\n"
                                     << "plugin_dir: " << TP_PLUGIN_DIR << "\n"
                                     << "pipelines_dir: pipelines\n"
                                     << "admin: { listen: \"127.0.0.1:0\" }\n";
    socket_ = std::make_unique<NotifySocket>(dir_ / "notify.sock");
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    socket_.reset();
    fs::remove_all(dir_);
  }

  void start() {
    const std::string sock = (dir_ / "notify.sock").string();
    const std::string config = (dir_ / "hub.yaml").string();
    const std::string log = (dir_ / "hub.log").string();
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      // systemd sets WATCHDOG_PID to the service's main pid.
      ::setenv("NOTIFY_SOCKET", sock.c_str(), 1);
      ::setenv("WATCHDOG_USEC", "600000", 1);
      ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
      if (FILE* f = std::freopen(log.c_str(), "w", stderr)) (void)f;
      if (FILE* f = std::freopen("/dev/null", "w", stdout)) (void)f;
      ::execl(TP_HUB_BINARY, TP_HUB_BINARY, "run", "--config", config.c_str(), static_cast<char*>(nullptr));
      std::_Exit(127);
    }
  }
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }
  std::string log() const {
    std::ifstream in(dir_ / "hub.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
  std::unique_ptr<NotifySocket> socket_;
  pid_t pid_ = -1;
};

TEST_F(ServiceNotify, ReadyWatchdogReloadAndStopFollowTheProtocol) {
  start();
  std::string ready = socket_->wait_for("READY=1", 20s);
  ASSERT_FALSE(ready.empty()) << log();
  EXPECT_NE(ready.find("STATUS="), std::string::npos) << ready;

  // WatchdogSec=0.6s: pings must come at least every 0.3 s or so.
  socket_->forget();
  EXPECT_FALSE(socket_->wait_for("WATCHDOG=1", 2s).empty()) << log();

  socket_->forget();
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  std::string reloading = socket_->wait_for("RELOADING=1", 10s);
  ASSERT_FALSE(reloading.empty()) << log();
  EXPECT_NE(reloading.find("MONOTONIC_USEC="), std::string::npos) << reloading;
  EXPECT_FALSE(socket_->wait_for("READY=1", 10s).empty()) << log();

  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_FALSE(socket_->wait_for("STOPPING=1", 10s).empty()) << log();
  EXPECT_EQ(wait_exit(30s), 0) << log();
}

TEST_F(ServiceNotify, InvalidConfigNeverReportsReady) {
  std::ofstream(dir_ / "pipelines" / "broken.yaml") << "name: broken\nsource: { plugin: no-such-plugin }\n";
  start();
  const int code = wait_exit(20s);
  EXPECT_NE(code, 0) << log();
  EXPECT_NE(code, -1) << "hub did not exit on an invalid config";
  EXPECT_TRUE(socket_->wait_for("READY=1", 100ms).empty());
  EXPECT_NE(log().find("no-such-plugin"), std::string::npos) << log();
}

}  // namespace
