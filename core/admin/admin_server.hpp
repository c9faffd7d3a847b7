#pragma once
// The admin HTTP endpoint (Poco HTTPServer): loopback by default, bearer
// token from a file. /health and /ready may be public for probes
// (admin.public_health); everything else needs the token.
//
//   GET  /health          liveness
//   GET  /ready           200 when pipelines run, 503 while starting/stopping
//   GET  /metrics         Prometheus text format
//   GET  /status          pipelines, journal, store as JSON
//   GET  /dlq?pipeline=&limit=   dead letters as JSON
//   POST /dlq/replay?id=|pipeline=   request replay
//   POST /reload          same as SIGHUP

#include <functional>
#include <memory>
#include <string>

namespace Poco::Net {
class HTTPServer;
}

namespace touchpoint::core {

struct AdminHandlers {
  std::function<bool()> ready;
  std::function<std::string()> metrics;
  std::function<std::string()> status_json;
  std::function<std::string(const std::string& pipeline, size_t limit)> dlq_json;
  std::function<size_t(const std::string& id, const std::string& pipeline)> dlq_replay;
  std::function<void()> reload;
};

struct AdminOptions {
  std::string listen = "127.0.0.1:8079";  ///< "host:port" (port 0 picks one)
  std::string token;                      ///< required bearer token
  bool public_health = true;
  /// TLS (both or neither): PEM certificate chain and private key files.
  std::string tls_cert_file, tls_key_file;
  /// A non-loopback listener without TLS sends the token in clear text and
  /// is refused unless this is set (admin.allow_insecure_remote).
  bool allow_insecure_remote = false;
};

class AdminServer {
 public:
  /// Throws std::runtime_error when the options are unsafe or the address cannot be bound.
  AdminServer(const AdminOptions& options, AdminHandlers handlers);
  ~AdminServer();
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

}  // namespace touchpoint::core
