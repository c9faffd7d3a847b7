#include "webhook_connector.hpp"

#include "responses.hpp"
#include "tp_common/listen_address.hpp"

namespace touchpoint::webhook {

WebhookConnector::WebhookConnector(Host host, std::string_view config_json)
    : Connector(host), config_(parse_config(config_json)) {
  server_ = std::make_unique<HttpServer>(config_, host);
  if (!config_.port_file.empty())
    tp_common::write_port_file(config_.port_file, server_->port(), "webhook config");  // on failure ~HttpServer stops
  this->host().gauge_set("webhook_listening_port", "", server_->port());
  this->host().info(
      "listening on " + server_->endpoint() +
      (config_.protocol == Protocol::segment ? " (Segment tracking API under " + config_.path + "/)" : ""));
  if (server_->shared_with() > 0)
    this->host().info("path " + config_.path + " shares the listener on " + server_->endpoint() + " with " +
                      std::to_string(server_->shared_with()) + " other webhook instance(s) of this process");
}

WebhookConnector::~WebhookConnector() { close(); }

void WebhookConnector::validate_config(std::string_view config_json) { (void)parse_config(config_json); }

void WebhookConnector::check() {
  if (!server_ || !server_->running()) throw RetryableError("webhook: the listener is not running");
}

std::string WebhookConnector::discover() {
  std::string out = "{\"streams\":[";
  if (config_.protocol == Protocol::segment) {
    // One stream per endpoint, its long name only (the one-letter aliases are the same call).
    bool first = true;
    for (const std::string& path : config_.paths()) {
      if (path.size() - path.rfind('/') <= 2) continue;
      if (!first) out.push_back(',');
      first = false;
      out.append("{\"name\":");
      append_json_string(out, path);
      out.append(",\"formats\":[\"segment\"]}");
    }
    return out + "]}";
  }
  out.append("{\"name\":");
  append_json_string(out, config_.path);
  out.append(",\"formats\":[\"json\",\"json-array\",\"ndjson\"]}]}");
  return out;
}

void WebhookConnector::close() {
  if (server_) server_->stop();
}

}  // namespace touchpoint::webhook

TOUCHPOINT_PLUGIN(touchpoint::webhook::WebhookConnector, "webhook", "0.1.0",
                  "HTTP webhook listener: JSON, JSON arrays and NDJSON with Standard Webhooks signatures, or Segment's "
                  "tracking API (protocol: segment)",
                  TP_CAP_SOURCE)
