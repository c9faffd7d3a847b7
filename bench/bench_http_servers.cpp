// bench_http_servers: the HTTP layer alone, Boost.Beast against Poco's
// HTTPServer, on the test of the issue "one record per POST, 16 connections":
// each server reads the request and its body and answers 202 with a small
// JSON body, keep-alive, and does nothing else (no journal, no parsing). So
// the figures are the ceiling each framework puts on the hub's per-record
// HTTP path on this machine.
//
//   bench_http_servers --server beast|poco [--connections 16] [--requests 200000]
//                      [--body-bytes 200] [--server-threads 2]
//
// The server runs in a child process; the parent is the client (one blocking
// thread per connection, like wrk's connections on 2 cores). Prints one line:
// requests/s, p50/p99/p99.9 latency, the server's CPU per request.
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <istream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_args.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr const char* kAnswer = R"({"accepted":1})";

// ------------------------------------------------------------------ Beast

class BeastSession : public std::enable_shared_from_this<BeastSession> {
 public:
  explicit BeastSession(tcp::socket s) : stream_(std::move(s)) {}
  void start() { read(); }

 private:
  void read() {
    req_ = {};
    http::async_read(stream_, buffer_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (!ec) self->answer();
    });
  }
  void answer() {
    res_ = http::response<http::string_body>(http::status::accepted, req_.version());
    res_.set(http::field::content_type, "application/json");
    res_.keep_alive(req_.keep_alive());
    res_.body() = kAnswer;
    res_.prepare_payload();
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (!ec && self->res_.keep_alive()) self->read();
    });
  }
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

void beast_accept(tcp::acceptor& a) {
  a.async_accept([&a](beast::error_code ec, tcp::socket s) {
    if (!ec) {
      s.set_option(tcp::no_delay(true));
      std::make_shared<BeastSession>(std::move(s))->start();
    }
    beast_accept(a);
  });
}

[[noreturn]] void run_beast(int port, int threads) {
  asio::io_context ioc(threads);
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
  beast_accept(acceptor);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  std::_Exit(0);
}

// ------------------------------------------------------------------ Poco

class PocoHandler : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
    std::string body;
    char buf[8192];
    std::istream& in = req.stream();
    while (in.read(buf, sizeof buf) || in.gcount() > 0) body.append(buf, static_cast<size_t>(in.gcount()));
    res.setStatus(Poco::Net::HTTPResponse::HTTP_ACCEPTED);
    res.setContentType("application/json");
    res.setContentLength(static_cast<std::streamsize>(std::strlen(kAnswer)));
    res.send() << kAnswer;
  }
};

class PocoFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new PocoHandler;
  }
};

[[noreturn]] void run_poco(int port, int connections) {
  // Poco serves a connection on one pool thread for as long as it is kept
  // alive: it needs a thread per connection.
  Poco::ThreadPool pool(2, connections + 2);
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(connections + 2);
  params->setMaxQueued(256);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(0);  // no limit
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", static_cast<uint16_t>(port)), 256);
  Poco::Net::HTTPServer server(new PocoFactory, pool, socket, params);
  server.start();
  for (;;) pause();
}

// ------------------------------------------------------------------ client

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

int connect_to(int port) {
  for (int attempt = 0; attempt < 500; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return fd;
    }
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the child is still starting
  }
  std::fprintf(stderr, "cannot connect to 127.0.0.1:%d\n", port);
  std::exit(1);
}

/// One keep-alive connection: POST, read the whole answer, again; latencies in ns.
void client(int port, const std::string& request, size_t n, std::vector<int64_t>& lat) {
  const int fd = connect_to(port);
  std::string in;
  char buf[4096];
  lat.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) break;
    in.clear();
    size_t need = std::string::npos;
    while (in.size() < need) {
      const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r <= 0) return;
      in.append(buf, static_cast<size_t>(r));
      if (need == std::string::npos) {
        const size_t head = in.find("\r\n\r\n");
        if (head == std::string::npos) continue;
        size_t cl = 0;
        for (const char* key : {"Content-Length: ", "content-length: "})
          if (size_t p = in.find(key); p != std::string::npos && p < head) cl = std::stoul(in.substr(p + 16));
        need = head + 4 + cl;
      }
    }
    lat.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  const auto a = touchpoint::bench::parse_args(argc, argv, 1);
  const std::string server = touchpoint::bench::str(a, "server", "beast");
  const size_t connections = touchpoint::bench::num(a, "connections", 16);
  const size_t requests = touchpoint::bench::num(a, "requests", 200'000);
  const size_t body_bytes = touchpoint::bench::num(a, "body-bytes", 200);
  const int threads = static_cast<int>(touchpoint::bench::num(a, "server-threads", 2));
  if (server != "beast" && server != "poco") {
    std::fprintf(stderr, "--server beast|poco\n");
    return 2;
  }
  const int port = free_port();
  const pid_t child = fork();
  if (child == 0) {
    if (server == "beast") run_beast(port, threads);
    run_poco(port, static_cast<int>(connections));
  }
  std::string body = R"({"type":"profile","data":{"email":"anna@example.de","note":")";
  body += std::string(body_bytes > body.size() + 4 ? body_bytes - body.size() - 4 : 0, 'x') + "\"}}";
  const std::string request =
      "POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  {  // warm up: connections accepted, pools grown
    std::vector<int64_t> lat;
    client(port, request, 1000, lat);
  }
  std::vector<std::vector<int64_t>> lat(connections);
  std::vector<std::thread> pool;
  const auto t0 = Clock::now();
  for (size_t c = 0; c < connections; ++c)
    pool.emplace_back([&, c] { client(port, request, requests / connections, lat[c]); });
  for (std::thread& t : pool) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  ::kill(child, SIGKILL);
  int status = 0;
  rusage ru{};
  ::wait4(child, &status, 0, &ru);
  std::vector<int64_t> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : double(all[size_t(p * double(all.size() - 1))]) / 1e6; };
  const double server_cpu =
      double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::printf(
      "%s: %zu requests over %zu connections (%zu-byte bodies) in %.2f s: %.0f req/s, p50 %.3f ms, p99 %.3f ms, "
      "p99.9 %.3f ms; server CPU %.2f s (%.1f us/request, with its warm-up), peak RSS %.1f MiB\n",
      server.c_str(), all.size(), connections, body.size(), secs, double(all.size()) / secs, pct(0.5), pct(0.99),
      pct(0.999), server_cpu, server_cpu * 1e6 / double(all.size() + 1000), double(ru.ru_maxrss) / 1024.0);
  return all.size() == requests / connections * connections ? 0 : 1;
}
