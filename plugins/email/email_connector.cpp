#include "email_connector.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>

#include "composer.hpp"
#include "envelope.hpp"

namespace tp_email {

namespace {

using touchpoint::ConfigError;
using touchpoint::LogLevel;

// Validation shared by validate_config() and the constructor.
EmailConfig checked_config(std::string_view json) {
  EmailConfig c = parse_email_config(json);
  if (!c.default_template.empty() && !valid_template_name(c.default_template))
    throw ConfigError("email config: 'default_template' is not a plain file name ([A-Za-z0-9._-])");
#ifdef TP_EMAIL_WITH_INTAKE
  if (c.intake_json) {
    try {
      (void)intake::parse_intake_config(*c.intake_json);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(std::string("email config: 'intake': ") + e.what());
    }
  }
#else
  if (c.intake_json)
    throw ConfigError(
        "email config: 'intake' is not available: this build of the email plugin has no bounce intake "
        "(tp_email_intake was not built)");
#endif
  return c;
}

}  // namespace

EmailConnector::EmailConnector(touchpoint::Host host, std::string_view config_json)
    : Connector(host), config_(checked_config(config_json)) {
  if (config_.has_sink) {
    templates_ = std::make_unique<TemplateStore>(config_.templates);
    for (int i = 0; i < config_.smtp.connections; ++i)
      smtp_.push_back(std::make_unique<SmtpClient>(config_.smtp, [h = this->host()](int level, const std::string& m) {
        h.log(static_cast<LogLevel>(level), "email: " + m);
      }));
    if (config_.rate_per_second > 0) bucket_.emplace(config_.rate_per_second, TokenBucket::Clock::now());
  }
#ifdef TP_EMAIL_WITH_INTAKE
  if (config_.intake_json) {
    try {
      intake_ = std::make_unique<intake::Intake>(intake::parse_intake_config(*config_.intake_json),
                                                 config_.unsubscribe.secret);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(std::string("email config: 'intake': ") + e.what());
    }
  }
  if (config_.unsubscribe.listen) {
    intake::LinkServerConfig lc;
    lc.address = config_.unsubscribe.listen_address;
    lc.port = config_.unsubscribe.listen_port;
    lc.machine.user_agents = config_.tracking.machine_user_agents;
    lc.machine.within_seconds = config_.tracking.machine_within_seconds;
    // The endpoint answers an unsubscribe with 200 only once it is durable in the hub.
    links_ = std::make_unique<intake::LinkServer>(
        lc, config_.unsubscribe.secret, [h = this->host()](const touchpoint::Record& r) {
          auto done = std::make_shared<std::promise<tp_status>>();
          std::future<tp_status> result = done->get_future();
          touchpoint::EmitUnit unit;
          unit.records.push_back(r);
          const bool taken = h.emit(unit, [done](tp_status s, std::string_view) { done->set_value(s); }) == TP_OK &&
                             result.wait_for(std::chrono::seconds(30)) == std::future_status::ready &&
                             result.get() == TP_OK;
          if (!taken) h.counter_add("email_link_responses_refused", "", 1);
          return taken;
        });
    this->host().info("email: link endpoint (unsubscribe, click, open) on " + lc.address + ":" +
                      std::to_string(links_->port()));
    this->host().gauge_set("email_unsubscribe_port", "", links_->port());
  }
#endif
}

EmailConnector::~EmailConnector() { close(); }

void EmailConnector::validate_config(std::string_view config_json) { (void)checked_config(config_json); }

void EmailConnector::check() {
  if (smtp_.empty()) return;
  const std::string problem = smtp_.front()->probe();
  if (!problem.empty()) throw touchpoint::RetryableError("email: " + problem);
}

std::string EmailConnector::discover() {
  std::string out = "{\"streams\":[";
  if (!smtp_.empty()) out += "{\"name\":\"message\",\"direction\":\"sink\"}";
  if (config_.intake_json)
    out += std::string(smtp_.empty() ? "" : ",") + "{\"name\":\"response\",\"direction\":\"source\"}";
  return out + "]}";
}

void EmailConnector::throttle() {
  if (!bucket_) return;
  for (;;) {
    TokenBucket::Clock::duration wait;
    {
      std::lock_guard lock(bucket_mutex_);
      wait = bucket_->take(TokenBucket::Clock::now());
    }
    if (wait == TokenBucket::Clock::duration::zero()) return;
    std::this_thread::sleep_for(wait);  // the configured sending rate: the only way to honour it
  }
}

struct EmailConnector::Job {
  size_t index;
  Composed message;
  SendResult result;
};

void EmailConnector::send_lane(SmtpClient& smtp, std::vector<Job*>& jobs) {
  std::string gave_up;  // set once the server cannot be reached: the rest of the lane is not tried
  int connection_failures = 0;
  for (Job* job : jobs) {
    if (!gave_up.empty()) {
      job->result = {SendResult::Kind::retryable, gave_up};
      continue;
    }
    throttle();
    try {
      job->result = smtp.send(job->message.envelope, job->message.message);
    } catch (const std::exception& e) {  // send() maps SMTP and network errors; this is the rest (memory)
      job->result = {SendResult::Kind::retryable, e.what()};  // a lane thread must not let it escape
    }
    if (job->result.kind != SendResult::Kind::retryable) {
      connection_failures = 0;
      continue;
    }
    // One reconnect is tried for the next message; a second connection failure in a row
    // means the server is gone for now, so the rest is not hammered at it.
    if (!smtp.connected() && ++connection_failures >= 2) gave_up = "not attempted: " + job->result.reply;
  }
}

void EmailConnector::write(touchpoint::RecordSpan batch, touchpoint::Outcomes& outcomes) {
  if (smtp_.empty()) throw touchpoint::UnsupportedError("email: this instance has no 'smtp' block; it cannot send");
  templates_->reload();  // template edits apply from the next batch on
  Composer composer(config_, *templates_);
  size_t sent = 0, permanent = 0, retryable = 0;
  std::vector<Job> jobs;
  jobs.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const touchpoint::RecordView& r = batch[i];
    if (r.type != "message") {
      outcomes.permanent(i, "email: record type '" + std::string(r.type.substr(0, 64)) + "' is not 'message'");
      ++permanent;
      continue;
    }
    try {
      jobs.push_back({i, composer.compose(r.id, r.data, static_cast<int64_t>(std::time(nullptr))), {}});
    } catch (const ComposeError& e) {
      outcomes.permanent(i, std::string("email: ") + e.what());
      ++permanent;
    }
  }
  // Each connection is one SMTP conversation, round-trip bound: a batch
  // spread over several connections keeps the server busy while each lane
  // waits for its replies. Message j goes to lane j % connections; lane 0
  // runs on this thread. Outcomes are reported here, after the lanes joined.
  const size_t lanes = std::min(smtp_.size(), std::max<size_t>(jobs.size(), 1));
  std::vector<std::vector<Job*>> lane_jobs(lanes);
  for (size_t j = 0; j < jobs.size(); ++j) lane_jobs[j % lanes].push_back(&jobs[j]);
  std::vector<std::thread> threads;
  for (size_t l = 1; l < lanes; ++l)
    threads.emplace_back([this, l, &lane_jobs] { send_lane(*smtp_[l], lane_jobs[l]); });
  send_lane(*smtp_[0], lane_jobs[0]);
  for (std::thread& t : threads) t.join();

  for (const Job& job : jobs) {
    switch (job.result.kind) {
      case SendResult::Kind::sent:
        // The provider id is the Message-ID without its angle brackets: the
        // form the intake reports for DSNs and complaints that name only it.
        outcomes.sent(job.index, std::string_view(job.message.message_id).substr(1, job.message.message_id.size() - 2));
        ++sent;
        break;
      case SendResult::Kind::permanent:
        outcomes.permanent(job.index, "email: " + job.result.reply);
        ++permanent;
        break;
      case SendResult::Kind::retryable:
        outcomes.retryable(job.index, "email: " + job.result.reply);
        ++retryable;
        break;
    }
  }
  if (sent) host().counter_add("email_messages_total", "result=\"sent\"", static_cast<double>(sent));
  if (permanent) host().counter_add("email_messages_total", "result=\"permanent\"", static_cast<double>(permanent));
  if (retryable) host().counter_add("email_messages_total", "result=\"retryable\"", static_cast<double>(retryable));
  if (permanent || retryable)
    host().log(LogLevel::warn, "email: batch of " + std::to_string(batch.size()) + ": " + std::to_string(sent) +
                                   " sent, " + std::to_string(permanent) + " failed, " + std::to_string(retryable) +
                                   " to retry");
}

void EmailConnector::read() {
#ifdef TP_EMAIL_WITH_INTAKE
  if (!intake_) throw touchpoint::UnsupportedError("email: this instance has no 'intake' block");
  if (!pending_) {
    std::optional<intake::Intake::Unit> unit = intake_->poll();
    if (!unit) return;
    pending_ = touchpoint::EmitUnit{std::move(unit->records), std::move(unit->rejects), std::move(unit->cursor)};
  }
  std::string error;
  const tp_status status = host().emit(
      *pending_,
      [this, h = host(), cursor = pending_->cursor](tp_status s, std::string_view message) {
        if (s == TP_OK) return;
        h.warn("email: a unit of responses was not stored (read again): " + std::string(message));
        // The intake hands its messages out once per instance: give them back,
        // on the instance thread that owns the intake.
        h.post([this, cursor] {
          if (intake_) intake_->release(cursor);
        });
      },
      &error);
  if (status == TP_STATUS_BACKPRESSURE || status == TP_STATUS_SHUTTING_DOWN) return;  // kept for the next read()
  pending_.reset();
  if (status != TP_OK) throw touchpoint::Error(status, "email: the host refused a unit of responses: " + error);
#else
  throw touchpoint::UnsupportedError("email: this build has no bounce intake");
#endif
}

void EmailConnector::commit(std::string_view cursor) {
#ifdef TP_EMAIL_WITH_INTAKE
  if (intake_) intake_->commit(cursor);
#else
  (void)cursor;
#endif
}

void EmailConnector::close() {
#ifdef TP_EMAIL_WITH_INTAKE
  if (links_) links_->stop();
#endif
  for (auto& smtp : smtp_) smtp->close();
}

}  // namespace tp_email

TOUCHPOINT_PLUGIN(
    tp_email::EmailConnector, "email", "0.1.0",
    "E-mail channel: SMTP submission with DSN, VERP and List-Unsubscribe; click/open tracking; bounce intake",
    TP_CAP_SOURCE | TP_CAP_SINK)
