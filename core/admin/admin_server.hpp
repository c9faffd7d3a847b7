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

class AdminServer {
 public:
  /// listen: "host:port" (port 0 picks one). token: required bearer token.
  AdminServer(const std::string& listen, std::string token, bool public_health, AdminHandlers handlers);
  ~AdminServer();
  void start();
  void stop();
  /// "127.0.0.1:8079" as actually bound.
  std::string address() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Reads the token file, or creates it (0600, 32 random bytes hex) if missing.
std::string load_or_create_token(const std::string& path);

}  // namespace touchpoint::core
