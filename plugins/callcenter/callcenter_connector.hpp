// The call-center channel connector (docs/channels.md, channel `phone`).
// Sink: call lists, as files in a directory or POSTed to a REST endpoint.
// Source: dispositions, from files in a directory and from a signed webhook.
#ifndef TOUCHPOINT_CALLCENTER_CONNECTOR_HPP
#define TOUCHPOINT_CALLCENTER_CONNECTOR_HPP

#include <memory>
#include <string>
#include <string_view>
#include <touchpoint/plugin.hpp>

#include "config.hpp"
#include "file_export.hpp"
#include "inbox.hpp"
#include "rest_export.hpp"
#include "webhook_server.hpp"

namespace touchpoint::callcenter {

class CallcenterConnector : public Connector {
 public:
  CallcenterConnector(Host host, std::string_view config_json);
  ~CallcenterConnector() override;

  static void validate_config(std::string_view config_json);

  void check() override;
  std::string discover() override;
  void read() override;
  void write(RecordSpan batch, Outcomes& outcomes) override;
  void commit(std::string_view cursor) override;
  void close() override;

 private:
  Config config_;
  std::unique_ptr<FileExporter> files_;
  std::unique_ptr<RestExporter> rest_;
  std::unique_ptr<Inbox> inbox_;
  std::unique_ptr<WebhookServer> webhook_;
};

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_CONNECTOR_HPP
