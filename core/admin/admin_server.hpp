#pragma once
// The admin HTTP endpoint (Poco HTTPServer): loopback by default (TLS for
// anything else), bearer tokens from files, each with a name (for the audit
// log) and a role. Routes are registered by the parts of the hub that own
// them (admin/hub_routes.cpp, admin/customer_routes.cpp) before start().
//
// Roles: "admin" may call everything; "read" only the routes registered as
// readable (status, metrics, reports). /health and /ready may be public for
// probes (admin.public_health).

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "record/record.hpp"

namespace touchpoint::core {

struct AdminRequest {
  std::string method;
  std::string path;                          ///< without the query
  std::string param;                         ///< for prefix routes: the rest of the path after the prefix
  std::map<std::string, std::string> query;  ///< first value of each parameter
  std::string body;
  std::string token_name;  ///< which token authorised it (empty for public probes)
  std::string role;        ///< "admin" or "read"
  std::string remote;      ///< client address
  std::string query_value(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  }
};

struct AdminResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  /// Set for a streamed answer: sent with chunked transfer encoding, `body`
  /// ignored. Runs on the admin thread with the open body stream until it
  /// returns; it must stop once the stream fails (the client went away).
  std::function<void(std::ostream&)> stream;

  static AdminResponse json(int status, const Json& body);
  /// {"error": message}
  static AdminResponse error(int status, const std::string& message);
};

using AdminRoute = std::function<AdminResponse(const AdminRequest&)>;

struct AdminToken {
  std::string name;  ///< "admin", "reporting", ...
  std::string token;
  std::string role = "admin";  ///< "admin" or "read"
};

struct AdminOptions {
  std::string listen = "127.0.0.1:8079";  ///< "host:port" (port 0 picks one)
  std::vector<AdminToken> tokens;         ///< at least one
  bool public_health = true;
  /// TLS (both or neither): PEM certificate chain and private key files.
  std::string tls_cert_file, tls_key_file;
  /// A non-loopback listener without TLS sends the token in clear text and
  /// is refused unless this is set (admin.allow_insecure_remote).
  bool allow_insecure_remote = false;
  /// Request bodies larger than this get 413 before they are read.
  size_t max_body_bytes = 16u << 20;
};

class AdminServer {
 public:
  /// Throws std::runtime_error when the options are unsafe or the address cannot be bound.
  explicit AdminServer(const AdminOptions& options);
  ~AdminServer();

  /// Registers a route (before start()). `path` is exact, or a prefix when it
  /// ends in '/': "/v1/profiles/" matches "/v1/profiles/anna@example.de".
  /// `readable`: tokens with role "read" may call it too.
  void route(const std::string& method, const std::string& path, AdminRoute handler, bool readable = false);
  /// A route anyone may call without a token (exact path): only for what
  /// holds no data, such as the dashboard's page and scripts.
  void public_route(const std::string& method, const std::string& path, AdminRoute handler);

  void start();
  void stop();
  /// "127.0.0.1:8079" as actually bound.
  std::string address() const;
  /// "http://127.0.0.1:8079" or "https://..."
  std::string url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Reads the token file, or creates it (0600, 32 random bytes hex) if missing.
/// Refuses a token file that is readable or writable by group or others, or
/// owned by another user: whoever can read it controls the hub.
std::string load_or_create_token(const std::string& path);

/// Reads a token file that must exist (same checks, no creation).
std::string load_token(const std::string& path);

}  // namespace touchpoint::core
