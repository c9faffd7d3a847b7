// The webhook connector: a listener-style source that turns HTTP POSTs into
// records (see README.md).
#ifndef TOUCHPOINT_WEBHOOK_CONNECTOR_HPP
#define TOUCHPOINT_WEBHOOK_CONNECTOR_HPP

#include <memory>
#include <string>
#include <string_view>
#include <touchpoint/plugin.hpp>

#include "http_server.hpp"
#include "webhook_config.hpp"

namespace touchpoint::webhook {

class WebhookConnector : public Connector {
 public:
  /// Validates the configuration, binds the listener and starts serving.
  WebhookConnector(Host host, std::string_view config_json);
  ~WebhookConnector() override;

  /// Checks a configuration without binding anything.
  static void validate_config(std::string_view config_json);

  void check() override;
  std::string discover() override;
  /// Records arrive on the server threads; there is nothing to poll.
  void read() override {}
  void close() override;

 private:
  Config config_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace touchpoint::webhook

#endif  // TOUCHPOINT_WEBHOOK_CONNECTOR_HPP
