// Shared by the callcenter tests: temporary directories, a libcurl client, a
// real HTTP server on loopback (Boost.Beast) standing in for a call center's
// REST API, and the plugin loaded through the SDK's test harness.
#ifndef TOUCHPOINT_CALLCENTER_TEST_SUPPORT_HPP
#define TOUCHPOINT_CALLCENTER_TEST_SUPPORT_HPP

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <touchpoint/testing.hpp>
#include <vector>

namespace touchpoint::callcenter::test {

namespace fs = std::filesystem;

/// Polls `done` every 2 ms until it holds or `timeout` passes.
inline bool wait_until(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

/// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("tp-callcenter-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const fs::path& p, std::string_view content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

/// Regular files in `dir` (not recursive), sorted.
inline std::vector<std::string> list_files(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file()) out.push_back(it->path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string error;  // libcurl's, empty when a response arrived
};

inline HttpResponse http_post(const std::string& url, std::string_view body, const std::vector<std::string>& headers,
                              long timeout_ms = 10000) {
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)initialized;
  HttpResponse res;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* u) {
        static_cast<std::string*>(u)->append(p, s * n);
        return s * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &res.body);
  const CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) res.error = curl_easy_strerror(rc);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return res;
}

/// A call center's REST API on 127.0.0.1 (ephemeral port): records every request and answers
/// with what `reply` returns. A reply with hang = true is never answered (for client timeouts).
class FakeCallCenterApi {
 public:
  struct Request {
    std::string target, body;
    std::map<std::string, std::string> headers;  // lower-case names
  };
  struct Reply {
    unsigned status = 200;
    std::string body = "{}";
    bool hang = false;
  };
  using Handler = std::function<Reply(const Request&)>;

  explicit FakeCallCenterApi(Handler reply) : reply_(std::move(reply)), acceptor_(ioc_) {
    namespace net = boost::asio;
    const net::ip::tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen();
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~FakeCallCenterApi() {
    ioc_.stop();
    thread_.join();
  }
  std::string url(const std::string& path = "/call-lists") const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  std::vector<Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  struct Conn : std::enable_shared_from_this<Conn> {
    Conn(boost::asio::ip::tcp::socket s, FakeCallCenterApi* api) : socket(std::move(s)), owner(api) {}
    void read() {
      req = {};
      boost::beast::http::async_read(socket, buffer, req, [self = shared_from_this()](auto ec, std::size_t) {
        if (ec) return;
        self->handle();
      });
    }
    void handle() {
      Request r;
      r.target = std::string(req.target());
      r.body = req.body();
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = std::string(f.value());
      }
      Reply reply;
      {
        std::lock_guard<std::mutex> lock(owner->mu_);
        owner->requests_.push_back(r);
      }
      reply = owner->reply_(r);
      if (reply.hang) {
        owner->hung_.push_back(shared_from_this());  // server thread only
        return;
      }
      res = {};
      res.result(reply.status);
      res.version(11);
      res.set(boost::beast::http::field::content_type, "application/json");
      res.body() = reply.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      boost::beast::http::async_write(socket, res, [self = shared_from_this()](auto ec, std::size_t) {
        if (!ec && self->res.keep_alive()) self->read();
      });
    }
    boost::asio::ip::tcp::socket socket;
    FakeCallCenterApi* owner;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> req;
    boost::beast::http::response<boost::beast::http::string_body> res;
  };
  void accept() {
    acceptor_.async_accept([this](boost::beast::error_code ec, boost::asio::ip::tcp::socket s) {
      if (ec) return;
      std::make_shared<Conn>(std::move(s), this)->read();
      accept();
    });
  }

  Handler reply_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  std::vector<std::shared_ptr<Conn>> hung_;
};

/// The plugin through the SDK harness.
class PluginTest : public ::testing::Test {
 protected:
  PluginTest() : harness_(TP_CALLCENTER_PLUGIN) {}
  std::unique_ptr<touchpoint::testing::Instance> open(const std::string& config) { return harness_.open(config); }
  touchpoint::testing::Harness harness_;
  TempDir tmp_;
};

}  // namespace touchpoint::callcenter::test

#endif  // TOUCHPOINT_CALLCENTER_TEST_SUPPORT_HPP
