// Shared helpers of the post tests: temporary directories, the sshd fixture, records.
#ifndef TOUCHPOINT_POST_TESTS_TEST_SUPPORT_HPP
#define TOUCHPOINT_POST_TESTS_TEST_SUPPORT_HPP

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <touchpoint/testing.hpp>
#pragma GCC diagnostic pop

namespace touchpoint::post::test {

namespace fs = std::filesystem;
using touchpoint::testing::EmittedRecord;
using touchpoint::testing::Harness;
using touchpoint::testing::Outcome;

/// A fresh directory removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tp-post-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const fs::path& p, std::string_view content) {
  std::ofstream out(p, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

/// Sorted names of the entries in `dir` (files and directories).
inline std::vector<std::string> names(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

/// Polls `pred` until it holds or `timeout` passes.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // poll interval, not a wait for an event
  }
  return pred();
}

/// Runs a command; returns its exit status and stdout.
inline int run(const std::string& cmd, std::string* out = nullptr) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
  const int st = ::pclose(p);
  if (out != nullptr) *out = text;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/// A message record on channel post, as the contact loop sends it (docs/channels.md).
inline EmittedRecord letter(int n, nlohmann::json to = nullptr, nlohmann::json customer = nullptr) {
  char id[32];
  std::snprintf(id, sizeof(id), "c-%024x", n);
  if (to.is_null())
    to = {{"street", "Hauptstr. " + std::to_string(n)}, {"zip", "10115"}, {"city", "Berlin"}, {"country", "DE"}};
  if (customer.is_null())
    customer = {{"profile_id", n}, {"salutation", "Frau"}, {"first_name", "Anna"}, {"last_name", "Müller"}};
  nlohmann::json data = {{"contact_id", id},        {"channel", "post"},           {"campaign", "spring-savings"},
                         {"offer", "savings-plus"}, {"template", "spring-letter"}, {"to", to},
                         {"customer", customer}};
  EmittedRecord r;
  r.id = id;
  r.type = "message";
  r.key = std::to_string(n);
  r.data = data.dump();
  r.meta = "{}";
  return r;
}

inline std::string contact_id(int n) {
  char id[32];
  std::snprintf(id, sizeof(id), "c-%024x", n);
  return id;
}

/// The fixture server: tests/fixtures/sftp/sshd.sh start/stop in a temporary directory.
class Sshd {
 public:
  Sshd() { start(); }
  ~Sshd() { stop(); }
  Sshd(const Sshd&) = delete;
  Sshd& operator=(const Sshd&) = delete;
  void start() {
    std::string out;
    if (run(std::string(TP_SSHD_FIXTURE) + " start " + dir_.str() + " 2>&1", &out) != 0)
      throw std::runtime_error("sshd fixture failed: " + out);
    port_ = std::stoi(out);
  }
  void stop() { run(std::string(TP_SSHD_FIXTURE) + " stop " + dir_.str() + " >/dev/null 2>&1"); }
  int port() const { return port_; }
  const fs::path& dir() const { return dir_.path(); }
  /// An `sftp` config object for the server directory `sub` (created).
  nlohmann::json sftp(const std::string& sub) const {
    fs::create_directories(dir_.path() / sub);
    return {{"url", "sftp://127.0.0.1:" + std::to_string(port_) + (dir_.path() / sub).string() + "/"},
            {"username", "root"},
            {"private_key_file", (dir_.path() / "client_key").string()},
            {"public_key_file", (dir_.path() / "client_key.pub").string()},
            {"known_hosts", (dir_.path() / "known_hosts").string()},
            {"timeout_ms", 5000}};
  }

 private:
  TempDir dir_;
  int port_ = 0;
};

}  // namespace touchpoint::post::test

#endif  // TOUCHPOINT_POST_TESTS_TEST_SUPPORT_HPP
