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

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "util/listen_address.hpp"
#include "util/log.hpp"

namespace touchpoint::core {
namespace net = Poco::Net;

AdminResponse AdminResponse::json(int status, const Json& body) {
  AdminResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

AdminResponse AdminResponse::error(int status, const std::string& message) {
  return json(status, Json{{"error", message}});
}

namespace {

struct Route {
  std::string method;
  std::string path;
  bool prefix = false;
  bool readable = false;
  bool is_public = false;  ///< no token: the dashboard's page and scripts, which hold no data
  AdminRoute handler;
};

struct Shared {
  std::vector<AdminToken> tokens;
  bool public_health = true;
  size_t max_body_bytes = 16u << 20;
  std::vector<Route> routes;
};

class Handler : public net::HTTPRequestHandler {
 public:
  explicit Handler(const Shared& s) : s_(s) {}

  void handleRequest(net::HTTPServerRequest& req, net::HTTPServerResponse& res) override {
    try {
      send(res, serve(req));
    } catch (const std::exception& e) {
      // The detail goes to the log, never to the client: exception texts can
      // carry paths, SQL and record contents.
      log::error("admin", req.getMethod() + " " + Poco::URI(req.getURI()).getPath() + " failed: " + e.what());
      if (!res.sent()) send(res, AdminResponse::error(500, "internal error; the hub's log has the details"));
    }
  }

 private:
  static void send(net::HTTPServerResponse& res, const AdminResponse& r) {
    res.setStatusAndReason(static_cast<net::HTTPResponse::HTTPStatus>(r.status));
    res.setContentType(r.content_type);
    for (const auto& [k, v] : r.headers) res.set(k, v);
    if (r.stream) {
      res.setChunkedTransferEncoding(true);
      res.setKeepAlive(false);  // a stream ends with its connection
      r.stream(res.send());
      return;
    }
    // Says how long an idle connection stays open (setKeepAliveTimeout in
    // start()), so a client stops reusing it before the hub closes it.
    if (res.getKeepAlive()) res.set("Keep-Alive", "timeout=2");
    res.setContentLength(static_cast<std::streamsize>(r.body.size()));
    res.send() << r.body;
  }

  /// The token presented, compared in constant time with every configured one.
  const AdminToken* authorized(const net::HTTPServerRequest& req) const {
    // By value: get() with a default returns a reference to that temporary default.
    const std::string auth = req.get("Authorization", "");
    const std::string prefix = "Bearer ";
    if (auth.compare(0, prefix.size(), prefix) != 0) return nullptr;
    const AdminToken* found = nullptr;
    for (const AdminToken& t : s_.tokens)
      if (auth.size() == prefix.size() + t.token.size() &&
          CRYPTO_memcmp(auth.data() + prefix.size(), t.token.data(), t.token.size()) == 0)
        found = &t;
    return found;
  }

  AdminResponse serve(net::HTTPServerRequest& req) {
    Poco::URI uri(req.getURI());
    AdminRequest r;
    r.method = req.getMethod();
    r.path = uri.getPath();
    r.remote = req.clientAddress().host().toString();
    for (const auto& [k, v] : uri.getQueryParameters()) r.query.emplace(k, v);
    const bool probe = r.path == "/health" || r.path == "/ready";
    const bool open = std::any_of(s_.routes.begin(), s_.routes.end(), [&](const Route& route) {
      return route.is_public && route.path == r.path && route.method == r.method;
    });
    if (!(probe && s_.public_health) && !open) {
      const AdminToken* t = authorized(req);
      if (t == nullptr) {
        AdminResponse denied = AdminResponse::error(401, "missing or wrong bearer token");
        denied.headers.emplace_back("WWW-Authenticate", "Bearer");
        return denied;
      }
      r.token_name = t->name;
      r.role = t->role;
    }
    const Route* match = nullptr;
    bool path_known = false;
    for (const Route& route : s_.routes) {
      const bool hit = route.prefix
                           ? r.path.size() > route.path.size() && r.path.compare(0, route.path.size(), route.path) == 0
                           : r.path == route.path;
      if (!hit) continue;
      path_known = true;
      if (route.method == r.method) {
        match = &route;
        break;
      }
    }
    if (match == nullptr)
      return path_known ? AdminResponse::error(405, "method " + r.method + " is not allowed on " + r.path)
                        : AdminResponse::error(404, "not found");
    if (!r.role.empty() && r.role != "admin" && !match->readable)
      return AdminResponse::error(403, "token '" + r.token_name + "' (role " + r.role + ") may not call " + r.path);
    if (match->prefix) r.param = Poco::URI(r.path.substr(match->path.size())).getPath();
    if (req.hasContentLength() && req.getContentLength64() > static_cast<int64_t>(s_.max_body_bytes))
      return AdminResponse::error(413, "request body larger than " + std::to_string(s_.max_body_bytes) + " bytes");
    if (r.method == "POST" || r.method == "PUT" || r.method == "DELETE") {
      std::istream& in = req.stream();
      char buf[65536];
      while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        r.body.append(buf, static_cast<size_t>(in.gcount()));
        if (r.body.size() > s_.max_body_bytes)
          return AdminResponse::error(413, "request body larger than " + std::to_string(s_.max_body_bytes) + " bytes");
      }
    }
    return match->handler(r);
  }

  const Shared& s_;
};

class Factory : public net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(const Shared& s) : s_(s) {}
  net::HTTPRequestHandler* createRequestHandler(const net::HTTPServerRequest&) override { return new Handler(s_); }

 private:
  const Shared& s_;
};

}  // namespace

struct AdminServer::Impl {
  Shared shared;
  bool tls = false;
  std::unique_ptr<net::ServerSocket> socket;
  std::unique_ptr<net::HTTPServer> server;
};

AdminServer::AdminServer(const AdminOptions& o) : impl_(std::make_unique<Impl>()) {
  if (o.tokens.empty()) throw std::runtime_error("admin endpoint without a token");
  impl_->shared.tokens = o.tokens;
  impl_->shared.public_health = o.public_health;
  impl_->shared.max_body_bytes = o.max_body_bytes;
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
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::route(const std::string& method, const std::string& path, AdminRoute handler, bool readable) {
  if (impl_->server) throw std::logic_error("admin routes must be registered before start()");
  const bool prefix = !path.empty() && path.back() == '/';
  impl_->shared.routes.push_back(Route{method, path, prefix, readable, false, std::move(handler)});
}

void AdminServer::public_route(const std::string& method, const std::string& path, AdminRoute handler) {
  if (impl_->server) throw std::logic_error("admin routes must be registered before start()");
  impl_->shared.routes.push_back(Route{method, path, false, true, true, std::move(handler)});
}

void AdminServer::start() {
  auto* params = new net::HTTPServerParams;
  // A thread serves one connection for as long as it is kept alive: a
  // browser opens up to six at once (the dashboard), so four threads made
  // its seventh request wait for an idle connection's keep-alive to end.
  params->setMaxThreads(12);
  params->setMaxQueued(64);
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(2, 0));
  params->setTimeout(Poco::Timespan(10, 0));
  impl_->server = std::make_unique<net::HTTPServer>(new Factory(impl_->shared), *impl_->socket, params);
  impl_->server->start();
}

void AdminServer::stop() {
  if (impl_ && impl_->server) {
    impl_->server->stopAll(true);
    impl_->server.reset();
  }
}

std::string AdminServer::address() const { return impl_->socket->address().toString(); }

std::string AdminServer::url() const { return (impl_->tls ? "https://" : "http://") + address(); }

namespace {

void check_token_file(const std::string& path, const struct stat& st) {
  if ((st.st_mode & 077) != 0) {
    char m[8];
    std::snprintf(m, sizeof m, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw std::runtime_error("admin token file " + path + " is accessible by group or others (mode " + m +
                             "); run: chmod 600 " + path);
  }
  if (st.st_uid != ::geteuid())
    throw std::runtime_error("admin token file " + path + " is owned by uid " + std::to_string(st.st_uid) +
                             ", not by the user the hub runs as (uid " + std::to_string(::geteuid()) + ")");
}

std::string read_token(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.size() < 16) throw std::runtime_error("admin token in " + path + " is shorter than 16 characters");
  return token;
}

}  // namespace

std::string load_token(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw std::runtime_error("admin token file " + path + " does not exist: " + std::strerror(errno));
  check_token_file(path, st);
  return read_token(path);
}

std::string load_or_create_token(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    check_token_file(path, st);
    return read_token(path);
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
