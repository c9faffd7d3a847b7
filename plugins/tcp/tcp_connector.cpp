// The tcp source (README.md): NDJSON over plain TCP, the input path that
// syslog-ng, Fluent Bit and Vector offer beside HTTP. Records arrive on the
// server's threads; read() has nothing to poll.
#include <memory>
#include <string>
#include <touchpoint/plugin.hpp>

#include "tcp_config.hpp"
#include "tcp_server.hpp"
#include "tp_common/listen_address.hpp"

namespace touchpoint::tcp {
namespace {

class TcpConnector : public Connector {
 public:
  TcpConnector(Host host, std::string_view config_json) : Connector(host), config_(parse_config(config_json)) {
    server_ = std::make_unique<TcpServer>(config_, host);
    if (!config_.port_file.empty()) tp_common::write_port_file(config_.port_file, server_->port(), "tcp config");
    this->host().gauge_set("tcp_listening_port", "", server_->port());
    this->host().info("listening on " + server_->endpoint() + " (NDJSON over TCP)");
  }
  ~TcpConnector() override { close(); }

  static void validate_config(std::string_view config_json) { (void)parse_config(config_json); }

  void check() override {
    if (!server_ || !server_->running()) throw RetryableError("tcp: the listener is not running");
  }
  std::string discover() override {
    return R"({"streams":[{"name":")" + server_->endpoint() + R"(","formats":["ndjson"]}]})";
  }
  void read() override {}
  void close() override {
    if (server_) server_->stop();
  }

 private:
  Config config_;
  std::unique_ptr<TcpServer> server_;
};

}  // namespace
}  // namespace touchpoint::tcp

TOUCHPOINT_PLUGIN(touchpoint::tcp::TcpConnector, "tcp", "1.0.0",
                  "NDJSON over TCP: one record per line, a unit per read, acknowledged on half-close", TP_CAP_SOURCE)
