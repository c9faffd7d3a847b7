// The tryton connector (README.md): parties from Tryton into the store as
// profiles (source), and the hub's feedback into Tryton (sink).
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <touchpoint/plugin.hpp>

#include "json_rpc.hpp"
#include "party_sync.hpp"
#include "tp_common/source_backoff.hpp"
#include "tryton_config.hpp"
#include "write_back.hpp"

namespace touchpoint::tryton {
namespace {

RpcEndpoint endpoint_of(const Config& c) {
  return RpcEndpoint{c.url, c.database, c.user, c.password, c.timeout_ms, c.verify_tls};
}

class TrytonConnector : public Connector {
 public:
  TrytonConnector(Host host, std::string_view config_json)
      : Connector(host),
        config_(parse_config(config_json)),
        rpc_(endpoint_of(config_)),
        sync_(rpc_, config_),
        write_back_(rpc_, config_) {
    const std::string saved = this->host().checkpoint();
    if (!saved.empty()) {
      std::optional<SyncCursor> c = decode_cursor(saved);
      // A cursor this plugin cannot read would silently re-read or skip; say so instead.
      if (!c) throw PermanentError("tryton: the saved checkpoint is not a tryton cursor: " + saved.substr(0, 128));
      cursor_ = committed_ = *c;
    }
  }

  static void validate_config(std::string_view config_json) { (void)parse_config(config_json); }

  void check() override {
    try {
      (void)rpc_.call("common.server.version", Json::array());
      (void)rpc_.model("party.party", "search", Json::array({Json::array(), 0, 1, Json()}));
    } catch (const TrytonLoginRefused& e) {
      throw PermanentError(e.what());
    } catch (const std::exception& e) {
      throw RetryableError(e.what());
    }
  }

  std::string discover() override {
    return R"({"streams":[{"name":"party.party","type":"profile","fields":["external_ids","name","email","phone",)"
           R"("address","tryton_active","tryton_code"]}],"sink":{"type":"feedback"}})";
  }

  // One page per call: the host calls again at once after an emit, and
  // after poll_interval_ms when a sweep found nothing new.
  void read() override {
    if (rewind_->exchange(false)) {
      // A page the host could not make durable: read again from what it did commit.
      cursor_ = committed_;
      sync_.forget();
      host().warn("tryton: the hub could not store a page; reading again from the last durable cursor");
    }
    if (!backoff_.ready()) return;  // backing off: Tryton failed a moment ago
    SyncPage page;
    try {
      page = sync_.next_page(cursor_);
      backoff_.recovered(host(), "tryton: " + config_.url);
    } catch (const TrytonLoginRefused& e) {
      backoff_.failed(host(), e.what());
      throw PermanentError(e.what());
    } catch (const std::exception& e) {
      backoff_.failed(host(), e.what());
      return;  // nothing lost: the cursor stays, the next read asks again
    }
    const bool changed_cursor = !(page.next == cursor_);
    if (page.records.empty() && page.rejects.empty() && !changed_cursor) return;
    EmitUnit unit;
    unit.records = std::move(page.records);
    unit.rejects = std::move(page.rejects);
    unit.cursor = encode_cursor(page.next);
    if (unit.records.empty() && unit.rejects.empty() && page.sweep_done) {
      // Nothing new in a finished sweep: moving the bound alone is not worth a unit.
      cursor_ = page.next;
      sync_.accepted(page);
      return;
    }
    std::string error;
    const size_t n = unit.records.size();
    // done runs on a host thread, maybe after this object is gone: it only sets a shared flag.
    tp_status st = host().emit(
        unit,
        [rewind = rewind_](tp_status s, std::string_view) {
          if (s != TP_OK) rewind->store(true);
        },
        &error);
    if (st == TP_STATUS_BACKPRESSURE || st == TP_STATUS_SHUTTING_DOWN) return;  // the same page next time
    if (st != TP_OK) throw Error(st, error);
    cursor_ = page.next;
    sync_.accepted(page);
    host().counter_add("tryton_parties_read", "", static_cast<double>(n));
  }

  void commit(std::string_view cursor) override {
    if (std::optional<SyncCursor> c = decode_cursor(cursor)) committed_ = *c;
  }

  void write(RecordSpan batch, Outcomes& outcomes) override {
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].type != "feedback") {
        outcomes.permanent(i,
                           "tryton: the sink takes the hub's feedback records (set feedback: true on the sink), "
                           "not '" +
                               std::string(batch[i].type.substr(0, 64)) + "'");
        continue;
      }
      try {
        const WriteBackResult r = write_back_.apply(batch[i].data);
        if (r.parties.empty()) host().counter_add("tryton_feedback_without_party", "", 1);
        host().counter_add("tryton_writes", "", r.writes);
        outcomes.ok(i);
      } catch (const BadFeedback& e) {
        outcomes.permanent(i, std::string("tryton: ") + e.what());
      } catch (const TrytonError& e) {
        outcomes.permanent(i, e.what());
      } catch (const TrytonLoginRefused& e) {
        // A password being rotated: the records wait, and no further login is tried for this batch.
        for (size_t k = i; k < batch.size(); ++k) outcomes.retryable(k, e.what());
        return;
      } catch (const std::exception& e) {
        outcomes.retryable(i, e.what());
        // The rest of the batch would fail the same way: leave it for the retry too.
        for (size_t k = i + 1; k < batch.size(); ++k) outcomes.retryable(k, e.what());
        return;
      }
    }
  }

 private:
  Config config_;
  JsonRpcClient rpc_;
  PartySync sync_;
  WriteBack write_back_;
  SyncCursor cursor_;
  SyncCursor committed_;  // the newest cursor the host made durable (commit())
  std::shared_ptr<std::atomic<bool>> rewind_ = std::make_shared<std::atomic<bool>>(false);
  tp_common::SourceBackoff backoff_{"tryton_errors", config_.max_backoff_ms};
};

}  // namespace
}  // namespace touchpoint::tryton

TOUCHPOINT_PLUGIN(touchpoint::tryton::TrytonConnector, "tryton", "1.0.0",
                  "Tryton parties in, the hub's feedback (bounces, consent, call outcomes, sales) back",
                  TP_CAP_SOURCE | TP_CAP_SINK)
