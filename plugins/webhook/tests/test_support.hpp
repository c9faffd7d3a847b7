// Helpers shared by the webhook plugin tests: a libcurl client, raw sockets
// and a fixture that loads the real plugin through the SDK's test harness.
#ifndef TOUCHPOINT_WEBHOOK_TEST_SUPPORT_HPP
#define TOUCHPOINT_WEBHOOK_TEST_SUPPORT_HPP

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <touchpoint/testing.hpp>
#include <vector>

namespace touchpoint::webhook::test {

/// Waits until `done()` holds, checking every few milliseconds, for at most
/// `timeout`. For state the harness exposes without a notification
/// (counters, gauges); returns the last result.
inline bool wait_until(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  long new_connections = -1;                   // 0 when a kept-alive connection was reused
  std::string error;                           // libcurl error, empty on success
};

/// One libcurl easy handle: consecutive requests reuse its connection.
class HttpClient {
 public:
  HttpClient() {
    static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    (void)initialized;
    curl_ = curl_easy_init();
  }
  ~HttpClient() { curl_easy_cleanup(curl_); }
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse request(const std::string& method, const std::string& url, std::string_view body,
                       const std::vector<std::string>& headers = {}) {
    HttpResponse res;
    curl_easy_reset(curl_);
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    if (method == "POST") {
      curl_easy_setopt(curl_, CURLOPT_POST, 1L);
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else if (method == "GET") {
      curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
      if (!body.empty()) {
        curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      }
    }
    curl_slist* list = nullptr;
    // JSON unless the caller sets a Content-Type ("Content-Type:" sends none).
    const bool own_type = std::any_of(headers.begin(), headers.end(), [](const std::string& h) {
      return h.size() >= 13 && strncasecmp(h.c_str(), "content-type:", 13) == 0;
    });
    if (!own_type) list = curl_slist_append(list, "Content-Type: application/json");
    for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &HttpClient::on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &res);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &HttpClient::on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &res);
    CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(list);
    if (rc != CURLE_OK) res.error = curl_easy_strerror(rc);
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &res.status);
    curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &res.new_connections);
    return res;
  }

  HttpResponse post(const std::string& url, std::string_view body, const std::vector<std::string>& headers = {}) {
    return request("POST", url, body, headers);
  }

 private:
  static size_t on_body(char* data, size_t size, size_t n, void* user) {
    static_cast<HttpResponse*>(user)->body.append(data, size * n);
    return size * n;
  }
  static size_t on_header(char* data, size_t size, size_t n, void* user) {
    std::string line(data, size * n);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      value.erase(value.find_last_not_of(" \t\r\n") + 1);
      static_cast<HttpResponse*>(user)->headers[name] = value;
    }
    return size * n;
  }

  CURL* curl_;
};

/// A blocking TCP client socket for speaking raw (broken) HTTP.
class RawSocket {
 public:
  explicit RawSocket(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return connected_; }

  /// Sends everything; false when the peer closed or reset the connection.
  bool send_all(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  /// Reads until the peer closes the connection (or resets it, or the timeout).
  /// `closed` tells whether the connection ended within the timeout.
  std::string read_until_close(std::chrono::milliseconds timeout, bool* closed = nullptr) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        if (closed) *closed = true;
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    if (closed) *closed = false;
    return out;
  }

  /// Reads until the received bytes contain `needle`, the peer closes, or the timeout.
  std::string read_until(std::string_view needle, std::chrono::milliseconds timeout) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  /// Reads until `count` complete HTTP responses (with Content-Length) arrived.
  std::string read_responses(size_t count, std::chrono::milliseconds timeout) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (complete_responses(out) < count) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  static size_t complete_responses(const std::string& s) {
    size_t count = 0, pos = 0;
    for (;;) {
      size_t end = s.find("\r\n\r\n", pos);
      if (end == std::string::npos) return count;
      size_t cl = s.find("Content-Length: ", pos);
      size_t length = 0;
      if (cl != std::string::npos && cl < end) length = std::stoul(s.substr(cl + 16));
      if (s.size() < end + 4 + length) return count;
      pos = end + 4 + length;
      ++count;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

/// Loads the real plugin and opens it on an ephemeral loopback port.
class WebhookFixture : public ::testing::Test {
 protected:
  void TearDown() override {
    instance_.reset();
    if (!port_file_.empty()) std::filesystem::remove(port_file_);
  }

  /// `extra` is appended to the config object, e.g. R"("path":"/x")".
  void open(const std::string& extra = "") {
    static std::atomic<int> counter{0};
    port_file_ = (std::filesystem::temp_directory_path() /
                  ("tp_webhook_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".port"))
                     .string();
    std::string config = R"({"listen":"127.0.0.1:0","port_file":")" + port_file_ + "\"";
    if (!extra.empty()) config += "," + extra;
    config += "}";
    instance_ = harness_.open(config);
    std::ifstream in(port_file_);
    int port = 0;
    in >> port;
    ASSERT_GT(port, 0) << "port_file " << port_file_ << " holds no port";
    port_ = static_cast<uint16_t>(port);
  }

  std::string url(const std::string& path = "/ingest") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  double counter(const std::string& name) const {
    auto counters = harness_.counters();
    auto it = counters.find(name);
    return it == counters.end() ? 0.0 : it->second;
  }

  touchpoint::testing::Harness harness_{TP_WEBHOOK_PLUGIN};
  std::unique_ptr<touchpoint::testing::Instance> instance_;
  std::string port_file_;
  uint16_t port_ = 0;
  HttpClient client_;
};

}  // namespace touchpoint::webhook::test

#endif  // TOUCHPOINT_WEBHOOK_TEST_SUPPORT_HPP
