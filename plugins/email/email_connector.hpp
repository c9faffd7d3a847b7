// The e-mail channel connector (docs/channels.md). Sink: one SMTP
// transaction per contact, over a kept-open submission connection. Source:
// the bounce/complaint intake (tp_email_intake) when it is built in.
#ifndef TP_EMAIL_CONNECTOR_HPP
#define TP_EMAIL_CONNECTOR_HPP

#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <touchpoint/plugin.hpp>
#include <vector>

#include "email_config.hpp"
#include "rate_limiter.hpp"
#include "smtp_client.hpp"
#include "templates.hpp"

#ifdef TP_EMAIL_WITH_INTAKE
#include "intake/intake.hpp"
#include "intake/link_server.hpp"
#endif

namespace tp_email {

class EmailConnector : public touchpoint::Connector {
 public:
  EmailConnector(touchpoint::Host host, std::string_view config_json);
  ~EmailConnector() override;

  static void validate_config(std::string_view config_json);

  void check() override;
  std::string discover() override;
  void write(touchpoint::RecordSpan batch, touchpoint::Outcomes& outcomes) override;
  void read() override;
  void commit(std::string_view cursor) override;
  void close() override;

 private:
  void throttle();
  struct Job;
  /// Sends `jobs` in order over one connection; the results go to the jobs.
  void send_lane(SmtpClient& smtp, std::vector<Job*>& jobs);

  EmailConfig config_;
  std::unique_ptr<TemplateStore> templates_;
  // One client per configured connection (smtp.connections); empty without a sink.
  std::vector<std::unique_ptr<SmtpClient>> smtp_;
  std::mutex bucket_mutex_;  // the lanes share the instance's rate
  std::optional<TokenBucket> bucket_;
#ifdef TP_EMAIL_WITH_INTAKE
  std::unique_ptr<intake::Intake> intake_;
  std::unique_ptr<intake::LinkServer> links_;    // unsubscribe, click and open endpoint (unsubscribe.listen)
  std::optional<touchpoint::EmitUnit> pending_;  // refused with backpressure: emitted again on the next read()
#endif
};

}  // namespace tp_email

#endif  // TP_EMAIL_CONNECTOR_HPP
