#include "admin/admin_server.hpp"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/URI.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "record/record.hpp"
#include "util/listen_address.hpp"
#include "util/log.hpp"

namespace touchpoint::core {
namespace net = Poco::Net;

namespace {

std::string query_param(const Poco::URI& uri, const std::string& name) {
  for (const auto& [k, v] : uri.getQueryParameters())
    if (k == name) return v;
  return {};
}

/// A query parameter that must be a positive decimal integer (no sign, no junk).
bool positive_integer(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::stoull(s);
  return out > 0;
}

class Handler : public net::HTTPRequestHandler {
 public:
  Handler(const AdminHandlers& h, const std::string& token, bool public_health)
      : h_(h), token_(token), public_health_(public_health) {}

  void handleRequest(net::HTTPServerRequest& req, net::HTTPServerResponse& res) override {
    try {
      serve(req, res);
    } catch (const std::exception& e) {
      // The detail goes to the log, never to the client: exception texts can
      // carry paths, SQL and record contents.
      log::error("admin", req.getMethod() + " " + Poco::URI(req.getURI()).getPath() + " failed: " + e.what());
      if (!res.sent())
        send(res, net::HTTPResponse::HTTP_INTERNAL_SERVER_ERROR,
             R"({"error":"internal error; the hub's log has the details"})");
    }
  }

 private:
  static void send(net::HTTPServerResponse& res, net::HTTPResponse::HTTPStatus status, const std::string& body,
                   const std::string& type = "application/json") {
    res.setStatusAndReason(status);
    res.setContentType(type);
    res.setContentLength(static_cast<std::streamsize>(body.size()));
    res.send() << body;
  }

  bool authorized(const net::HTTPServerRequest& req) const {
    // By value: get() with a default returns a reference to that temporary default.
    const std::string auth = req.get("Authorization", "");
    const std::string prefix = "Bearer ";
    if (auth.size() != prefix.size() + token_.size() || auth.compare(0, prefix.size(), prefix) != 0) return false;
    return CRYPTO_memcmp(auth.data() + prefix.size(), token_.data(), token_.size()) == 0;
  }

  void serve(net::HTTPServerRequest& req, net::HTTPServerResponse& res) {
    Poco::URI uri(req.getURI());
    const std::string path = uri.getPath();
    const std::string& method = req.getMethod();
    const bool probe = path == "/health" || path == "/ready";
    if (!(probe && public_health_) && !authorized(req)) {
      res.set("WWW-Authenticate", "Bearer");
      send(res, net::HTTPResponse::HTTP_UNAUTHORIZED, R"({"error":"missing or wrong bearer token"})");
      return;
    }
    if (method == "GET" && path == "/health") return send(res, net::HTTPResponse::HTTP_OK, R"({"status":"ok"})");
    if (method == "GET" && path == "/ready") {
      bool ready = h_.ready();
      return send(res, ready ? net::HTTPResponse::HTTP_OK : net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE,
                  ready ? R"({"ready":true})" : R"({"ready":false})");
    }
    if (method == "GET" && path == "/metrics")
      return send(res, net::HTTPResponse::HTTP_OK, h_.metrics(), "text/plain; version=0.0.4");
    if (method == "GET" && path == "/status") return send(res, net::HTTPResponse::HTTP_OK, h_.status_json());
    if (method == "GET" && path == "/dlq") {
      const std::string limit = query_param(uri, "limit");
      uint64_t n = 100;
      if (!limit.empty() && !positive_integer(limit, n))
        return send(res, net::HTTPResponse::HTTP_BAD_REQUEST, R"({"error":"limit must be a positive integer"})");
      return send(res, net::HTTPResponse::HTTP_OK,
                  h_.dlq_json(query_param(uri, "pipeline"), static_cast<size_t>(std::min<uint64_t>(n, 10000))));
    }
    if (method == "POST" && path == "/dlq/replay") {
      const std::string id = query_param(uri, "id");
      uint64_t parsed = 0;
      if (!id.empty() && !positive_integer(id, parsed))
        return send(res, net::HTTPResponse::HTTP_BAD_REQUEST, R"({"error":"id must be a positive integer"})");
      // Like the CLI's --all: replaying everything must be asked for explicitly.
      if (id.empty() && query_param(uri, "pipeline").empty() && query_param(uri, "all") != "true")
        return send(res, net::HTTPResponse::HTTP_BAD_REQUEST, R"({"error":"give id=N, pipeline=P or all=true"})");
      size_t n = h_.dlq_replay(id, query_param(uri, "pipeline"));
      if (!id.empty() && n == 0) {
        const std::string msg = "no replayable dead letter with id " + id + " (raw source rejects cannot be replayed)";
        return send(res, net::HTTPResponse::HTTP_NOT_FOUND, Json{{"error", msg}}.dump());
      }
      return send(res, net::HTTPResponse::HTTP_ACCEPTED, Json{{"requested", n}}.dump());
    }
    if (method == "POST" && path == "/reload") {
      h_.reload();
      return send(res, net::HTTPResponse::HTTP_ACCEPTED, R"({"reload":"requested"})");
    }
    send(res, net::HTTPResponse::HTTP_NOT_FOUND, R"({"error":"not found"})");
  }

  const AdminHandlers& h_;
  const std::string& token_;
  bool public_health_;
};

class Factory : public net::HTTPRequestHandlerFactory {
 public:
  Factory(const AdminHandlers& h, const std::string& token, bool public_health)
      : h_(h), token_(token), public_health_(public_health) {}
  net::HTTPRequestHandler* createRequestHandler(const net::HTTPServerRequest&) override {
    return new Handler(h_, token_, public_health_);
  }

 private:
  const AdminHandlers& h_;
  const std::string& token_;
  bool public_health_;
};

}  // namespace

struct AdminServer::Impl {
  AdminHandlers handlers;
  std::string token;
  bool public_health;
  bool tls = false;
  std::unique_ptr<net::ServerSocket> socket;
  std::unique_ptr<net::HTTPServer> server;
};

AdminServer::AdminServer(const AdminOptions& o, AdminHandlers handlers) : impl_(std::make_unique<Impl>()) {
  impl_->handlers = std::move(handlers);
  impl_->token = o.token;
  impl_->public_health = o.public_health;
  if (o.tls_cert_file.empty() != o.tls_key_file.empty())
    throw std::runtime_error("admin.tls needs both cert_file and key_file");
  impl_->tls = !o.tls_cert_file.empty();
  if (!impl_->tls && !is_loopback_listen(o.listen) && !o.allow_insecure_remote)
    throw std::runtime_error("admin endpoint " + o.listen +
                             " is not a loopback address and has no TLS: the bearer token would travel in clear "
                             "text. Configure admin.tls (cert_file, key_file), or set "
                             "admin.allow_insecure_remote: true behind a TLS-terminating proxy");
  try {
    if (impl_->tls) {
      Poco::Net::Context::Ptr ctx = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, o.tls_key_file,
                                                           o.tls_cert_file, "", Poco::Net::Context::VERIFY_NONE);
      ctx->disableProtocols(Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
                            Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
      impl_->socket = std::make_unique<net::SecureServerSocket>(ctx);
    } else {
      impl_->socket = std::make_unique<net::ServerSocket>();
    }
    impl_->socket->bind(net::SocketAddress(o.listen), true);
    impl_->socket->listen(64);
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("admin endpoint cannot listen on " + o.listen + ": " + e.displayText());
  }
  auto* params = new net::HTTPServerParams;
  params->setMaxThreads(4);
  params->setMaxQueued(64);
  params->setKeepAlive(true);
  params->setTimeout(Poco::Timespan(10, 0));
  impl_->server = std::make_unique<net::HTTPServer>(new Factory(impl_->handlers, impl_->token, impl_->public_health),
                                                    *impl_->socket, params);
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::start() { impl_->server->start(); }

void AdminServer::stop() {
  if (impl_ && impl_->server) {
    impl_->server->stopAll(true);
    impl_->server.reset();
  }
}

std::string AdminServer::address() const { return impl_->socket->address().toString(); }

std::string AdminServer::url() const { return (impl_->tls ? "https://" : "http://") + address(); }

std::string load_or_create_token(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0)
      throw std::runtime_error("admin token file " + path + " is accessible by group or others (mode " +
                               [&] {
                                 char m[8];
                                 std::snprintf(m, sizeof m, "%04o", static_cast<unsigned>(st.st_mode & 07777));
                                 return std::string(m);
                               }() +
                               "); run: chmod 600 " + path);
    if (st.st_uid != ::geteuid())
      throw std::runtime_error("admin token file " + path + " is owned by uid " + std::to_string(st.st_uid) +
                               ", not by the user the hub runs as (uid " + std::to_string(::geteuid()) + ")");
  }
  std::ifstream in(path);
  if (in) {
    std::string token;
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (token.size() < 16) throw std::runtime_error("admin token in " + path + " is shorter than 16 characters");
    return token;
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof(raw)) != 1) throw std::runtime_error("cannot generate an admin token");
  static const char* hex = "0123456789abcdef";
  std::string token;
  for (unsigned char c : raw) {
    token += hex[c >> 4];
    token += hex[c & 0xF];
  }
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  mode_t old = ::umask(077);
  std::ofstream out(path, std::ios::trunc);
  ::umask(old);
  out << token << "\n";
  if (!out) throw std::runtime_error("cannot write admin token file " + path);
  return token;
}

}  // namespace touchpoint::core
