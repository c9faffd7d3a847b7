#include "callcenter_connector.hpp"

#include <filesystem>
#include <variant>
#include <vector>

#include "call_entry.hpp"
#include "text.hpp"

namespace touchpoint::callcenter {

namespace {

OutcomeMap outcome_map_of(const Config& c) { return OutcomeMap(c.outcome_map.begin(), c.outcome_map.end()); }

}  // namespace

CallcenterConnector::CallcenterConnector(Host host, std::string_view config_json)
    : Connector(host), config_(parse_config(config_json)) {
  if (config_.dir_target) files_ = std::make_unique<FileExporter>(*config_.dir_target);
  if (config_.http_target) rest_ = std::make_unique<RestExporter>(*config_.http_target);
  if (config_.dispositions) {
    std::error_code ec;
    std::filesystem::create_directories(config_.dispositions->dir, ec);
    inbox_ = std::make_unique<Inbox>(*config_.dispositions, outcome_map_of(config_), host, host.checkpoint());
  }
  if (config_.webhook) {
    webhook_ = std::make_unique<WebhookServer>(*config_.webhook, outcome_map_of(config_), host);
    host.gauge_set("callcenter_webhook_port", "", webhook_->port());
    host.info("callcenter: webhook listening on " + config_.webhook->host + ":" + std::to_string(webhook_->port()) +
              config_.webhook->path);
  }
}

CallcenterConnector::~CallcenterConnector() { close(); }

void CallcenterConnector::validate_config(std::string_view config_json) { (void)parse_config(config_json); }

void CallcenterConnector::check() {
  if (inbox_) inbox_->check();
  if (webhook_ && !webhook_->running()) throw RetryableError("callcenter: the webhook listener is not running");
  if (config_.dir_target) {
    std::error_code ec;
    std::filesystem::create_directories(config_.dir_target->dir, ec);
    if (ec) throw RetryableError("callcenter: target.dir " + config_.dir_target->dir + ": " + ec.message());
  }
}

std::string CallcenterConnector::discover() {
  return "{\"streams\":[{\"name\":\"call_list\",\"fields\":[\"contact_id\",\"phone\",\"name\",\"first_name\","
         "\"last_name\",\"campaign\",\"script\",\"priority\",\"window_from\",\"window_to\",\"timezone\"]},"
         "{\"name\":\"dispositions\",\"fields\":[\"contact_id\",\"outcome\",\"at\",\"callback_at\",\"product\","
         "\"category\",\"revenue\",\"note\",\"agent\"]}]}";
}

void CallcenterConnector::read() {
  if (!inbox_ && !webhook_) throw UnsupportedError("callcenter: no dispositions or webhook configured");
  if (inbox_) inbox_->read();
}

void CallcenterConnector::commit(std::string_view cursor) {
  if (inbox_) inbox_->commit(cursor);
}

void CallcenterConnector::write(RecordSpan batch, Outcomes& outcomes) {
  if (!files_ && !rest_) throw UnsupportedError("callcenter: no target configured, so this instance is no sink");
  std::vector<CallEntry> entries;
  std::vector<size_t> index;  // entries[k] is batch[index[k]]
  entries.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    auto parsed = parse_call_entry(batch[i].id, batch[i].data, batch[i].meta);
    if (auto* why = std::get_if<std::string>(&parsed)) {
      outcomes.permanent(i, *why);
      continue;
    }
    entries.push_back(std::move(std::get<CallEntry>(parsed)));
    index.push_back(i);
  }
  if (entries.empty()) return;
  std::vector<const CallEntry*> list;
  for (const CallEntry& e : entries) list.push_back(&e);

  if (files_) {
    std::string name;
    try {
      name = files_->write(list);
    } catch (const std::exception& e) {
      for (size_t i : index) outcomes.retryable(i, e.what());
      return;
    }
    for (size_t k = 0; k < index.size(); ++k) outcomes.sent(index[k], name + ":" + std::to_string(k + 1));
    host().info("callcenter: wrote call list " + name + " with " + std::to_string(list.size()) + " entries");
    host().counter_add("callcenter_calls_total", "target=dir", static_cast<double>(list.size()));
    return;
  }
  const RestResult r = rest_->post(list);
  if (r.kind != RestResult::Kind::sent) {
    for (size_t i : index) {
      if (r.kind == RestResult::Kind::retryable) {
        outcomes.retryable(i, r.message);
      } else {
        outcomes.permanent(i, r.message);
      }
    }
    host().warn("callcenter: " + r.message);
    return;
  }
  size_t sent = 0;
  for (size_t k = 0; k < index.size(); ++k) {
    const std::string& cid = entries[k].contact_id;
    if (auto err = r.entry_errors.find(cid); err != r.entry_errors.end()) {
      outcomes.permanent(index[k], "the call center refused the entry: " + err->second);
      continue;
    }
    ++sent;
    if (auto id = r.entry_ids.find(cid); id != r.entry_ids.end()) {
      outcomes.sent(index[k], id->second);
    } else if (!r.list_id.empty()) {
      outcomes.sent(index[k], r.list_id + ":" + std::to_string(k + 1));
    } else {
      outcomes.ok(index[k]);
    }
  }
  host().info("callcenter: posted a call list of " + std::to_string(sent) + " entries" +
              (r.list_id.empty() ? std::string() : " (list " + r.list_id + ")"));
  host().counter_add("callcenter_calls_total", "target=http", static_cast<double>(sent));
}

void CallcenterConnector::close() {
  if (webhook_) webhook_->stop();
}

}  // namespace touchpoint::callcenter

TOUCHPOINT_PLUGIN(touchpoint::callcenter::CallcenterConnector, "callcenter", "0.1.0",
                  "Call-center channel: call lists as files or REST, dispositions from files and a signed webhook",
                  TP_CAP_SOURCE | TP_CAP_SINK)
