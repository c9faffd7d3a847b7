// The rest connector (README.md): any REST API as a source, a sink or both,
// configured in the pipeline's YAML only.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <touchpoint/plugin.hpp>

#include "http_client.hpp"
#include "rest_config.hpp"
#include "rest_sync.hpp"
#include "rest_write.hpp"
#include "tp_common/source_backoff.hpp"

namespace touchpoint::rest {
namespace {

using Clock = std::chrono::steady_clock;

class RestConnector : public Connector {
 public:
  RestConnector(Host host, std::string_view config_json)
      : Connector(host), config_(parse_config(config_json)), http_(config_) {
    if (!config_.verify_tls) this->host().warn("rest: TLS verification is off (verify_tls: false)");
    if (config_.read) {
      sync_ = std::make_unique<RestSync>(http_, config_);
      cursor_ = committed_ = sync_->initial();
      const std::string saved = this->host().checkpoint();
      if (!saved.empty()) {
        std::optional<SyncState> s = decode_state(saved);
        // A cursor this plugin cannot read would silently re-read or skip; say so instead.
        if (!s) throw PermanentError("rest: the saved checkpoint is not a rest cursor: " + saved.substr(0, 128));
        cursor_ = committed_ = *s;
      }
    }
    if (config_.write) write_ = std::make_unique<RestWrite>(http_, config_);
  }

  static void validate_config(std::string_view config_json) { (void)parse_config(config_json); }

  std::string discover() override {
    Json d{{"streams", Json::array()}};
    if (config_.read)
      d["streams"].push_back(
          {{"name", config_.read->request.method + " " + config_.base_url}, {"type", config_.read->type}});
    if (config_.write) d["sink"] = {{"types", config_.write->types}};
    return d.dump();
  }

  // One page per call: the host calls again at once after an emit, and
  // after poll_interval_ms when a sweep found nothing new.
  void read() override {
    if (!sync_) throw UnsupportedError("rest: this instance has no read: section");
    if (rewind_->exchange(false)) {
      cursor_ = committed_;  // a unit the host could not make durable: read again from what it did commit
      sync_->forget();
      host().warn("rest: the hub could not store a page; reading again from the last durable cursor");
    }
    if (!backoff_.ready() || Clock::now() < http_.paused_until()) return;  // backing off, or the API asked for a pause
    SyncPage page;
    try {
      page = sync_->next_page(cursor_);
      backoff_.recovered(host(), "rest: " + config_.base_url);
    } catch (const AuthRefused& e) {
      backoff_.failed(host(), e.what());
      throw PermanentError(e.what());
    } catch (const ApiRefused& e) {
      backoff_.failed(host(), e.what());
      throw PermanentError(e.what());
    } catch (const TemplateError& e) {
      throw PermanentError(std::string("rest: read template: ") + e.what());
    } catch (const std::exception& e) {
      backoff_.failed(host(), e.what());
      return;  // nothing lost: the cursor stays, the next read asks again
    }
    size_t n = 0;
    for (EmitUnit& unit : page.units) {
      if (unit.records.empty() && unit.rejects.empty()) {
        // Nothing new on this page: the cursor moves without a unit (after a crash the page is read again).
        if (&unit == &page.units.back()) {
          cursor_ = page.next;
          sync_->accepted(page);
        }
        continue;
      }
      std::string error;
      const size_t count = unit.records.size();
      // done runs on a host thread, maybe after this object is gone: it only sets a shared flag.
      const tp_status st = host().emit(
          unit,
          [rewind = rewind_](tp_status s, std::string_view) {
            if (s != TP_OK) rewind->store(true);
          },
          &error);
      if (st == TP_STATUS_BACKPRESSURE || st == TP_STATUS_SHUTTING_DOWN) return;  // the same page next time
      if (st != TP_OK) throw Error(st, error);
      n += count;
    }
    cursor_ = page.next;
    sync_->accepted(page);
    host().counter_add("rest_records_read", "", static_cast<double>(n));
    host().counter_add("rest_pages_read", "", 1);
  }

  void commit(std::string_view cursor) override {
    if (std::optional<SyncState> s = decode_state(cursor)) committed_ = *s;
  }

  void write(RecordSpan batch, Outcomes& outcomes) override {
    if (!write_) throw UnsupportedError("rest: this instance has no write: section");
    const std::vector<WriteOutcome> results = write_->write(batch);
    size_t ok = 0, failed = 0;
    for (size_t i = 0; i < results.size(); ++i) {
      switch (results[i].kind) {
        case WriteOutcome::Kind::ok:
          ++ok;
          outcomes.ok(i);
          break;
        case WriteOutcome::Kind::skipped:
          host().counter_add("rest_records_skipped", "", 1);
          outcomes.ok(i);
          break;
        case WriteOutcome::Kind::retryable:
          ++failed;
          outcomes.retryable(i, results[i].reason);
          break;
        case WriteOutcome::Kind::permanent:
          ++failed;
          outcomes.permanent(i, results[i].reason);
          break;
      }
    }
    host().counter_add("rest_records_written", "", static_cast<double>(ok));
    if (failed > 0) host().counter_add("rest_write_failures", "", static_cast<double>(failed));
  }

 private:
  Config config_;
  HttpClient http_;
  std::unique_ptr<RestSync> sync_;
  std::unique_ptr<RestWrite> write_;
  SyncState cursor_;
  SyncState committed_;  // the newest state the host made durable (commit())
  std::shared_ptr<std::atomic<bool>> rewind_ = std::make_shared<std::atomic<bool>>(false);
  tp_common::SourceBackoff backoff_{"rest_errors", config_.max_backoff_ms};
};

}  // namespace
}  // namespace touchpoint::rest

TOUCHPOINT_PLUGIN(touchpoint::rest::RestConnector, "rest", "1.0.0",
                  "any REST API in YAML: auth, paging, an incremental cursor and rate limits in; upserts out",
                  TP_CAP_SOURCE | TP_CAP_SINK)
