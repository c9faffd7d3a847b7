#include "tcp_server.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "line_splitter.hpp"
#include "tp_common/body_parser.hpp"
#include "tp_common/inflight_tracker.hpp"
#include "tp_common/record_emitter.hpp"

namespace touchpoint::tcp {

namespace net = boost::asio;
using boost::system::error_code;
using net::ip::tcp;

namespace {

constexpr auto kStopDrainTimeout = std::chrono::seconds(10);
constexpr auto kFirstRetry = std::chrono::milliseconds(20);
constexpr auto kMaxRetry = std::chrono::milliseconds(1000);
constexpr size_t kMaxRawBytes = 64 * 1024;  // of a bad line, in its dead letter
// Dead letters kept one by one per read; the rest of a flood of bad lines
// becomes one summary dead letter, so a read of "x\n" lines cannot grow a
// unit to tens of MiB of strings (or past TP_MAX_UNIT_BYTES).
constexpr size_t kMaxDeadLettersPerUnit = 10'000;

std::string_view view(tp_str s) { return s.len ? std::string_view(s.data, s.len) : std::string_view(); }

}  // namespace

// What every session shares.
struct Shared {
  Shared(const Config& c, Host h) : config(c), host(h) {
    options.default_type = config.type;
    options.id_field = config.id_field;
    options.key_field = config.key_field;
    // Every line of one read can be a record; "{}\n" is the shortest.
    options.max_records = config.read_buffer_bytes / 3 + 2;
  }
  const Config config;
  const Host host;
  tp_common::ParseOptions options;
  const std::shared_ptr<tp_common::InflightTracker> outstanding = std::make_shared<tp_common::InflightTracker>();
  std::atomic<bool> stopping{false};
  std::atomic<size_t> connections{0};
  std::atomic<bool> warned_lost{false};
  std::atomic<bool> warned_full{false};
};

namespace {

// One read's worth of a connection: its records and dead letters, kept until
// the hub has them durable (a lost unit is emitted again).
struct Unit {
  explicit Unit(const net::any_io_executor& ex) : retry(ex) {}
  tp_common::ParsedBatch batch;
  std::vector<std::string> reject_text;  // raw, reason, location for each dead letter
  std::vector<tp_reject> rejects;
  std::vector<tp_record> scratch;
  net::steady_timer retry;
  unsigned attempts = 0;
  bool waiting = false;   ///< refused for now (backpressure, a lost write): emitted again by its timer
  size_t summarised = 0;  ///< bad lines over kMaxDeadLettersPerUnit, in one summary dead letter
  std::string summary_reason, summary_first, summary_last;

  void add_reject(std::string_view raw, std::string reason, std::string location) {
    if (reject_text.size() / 3 >= kMaxDeadLettersPerUnit) {
      if (summarised++ == 0) {
        summary_reason = std::move(reason);
        summary_first = std::move(location);
      } else {
        summary_last = std::move(location);
      }
      return;
    }
    reject_text.emplace_back(raw.substr(0, kMaxRawBytes));
    reject_text.push_back(std::move(reason));
    reject_text.push_back(std::move(location));
  }
  /// Bad lines of this unit, summarised ones included.
  size_t reject_count() const noexcept { return reject_text.size() / 3 + summarised; }
  void build_rejects() {
    rejects.clear();
    for (size_t i = 0; i + 2 < reject_text.size(); i += 3) {
      auto s = [&](size_t k) { return tp_str{reject_text[k].data(), reject_text[k].size()}; };
      rejects.push_back(tp_reject{sizeof(tp_reject), s(i), s(i + 1), s(i + 2)});
    }
    if (summarised > 0) {
      summary_text = std::to_string(summarised) + " more bad lines in this read are not kept one by one (at most " +
                     std::to_string(kMaxDeadLettersPerUnit) + " per read); the first of them: " + summary_reason;
      summary_location = summary_first + (summary_last.empty() ? "" : " to " + summary_last);
      rejects.push_back(tp_reject{sizeof(tp_reject), tp_str{"", 0}, tp_str{summary_text.data(), summary_text.size()},
                                  tp_str{summary_location.data(), summary_location.size()}});
    }
  }
  /// What emit needed only for the call: the host copied it.
  void release_scratch() {
    std::vector<tp_record>().swap(scratch);
    std::vector<tp_reject>().swap(rejects);
  }

 private:
  std::string summary_text, summary_location;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Shared> shared, uint64_t nonce)
      : socket_(std::move(socket)),
        shared_(std::move(shared)),
        buffer_(shared_->config.read_buffer_bytes),
        idle_(socket_.get_executor()),
        splitter_(shared_->config.max_line_bytes) {
    error_code ec;
    const tcp::endpoint peer = socket_.remote_endpoint(ec);
    peer_ = ec ? std::string("unknown peer") : peer.address().to_string() + ":" + std::to_string(peer.port());
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(nonce));
    nonce_ = hex;
  }
  ~Session() { shared_->connections.fetch_sub(1); }

  void start() {
    net::dispatch(socket_.get_executor(), [self = shared_from_this()] {
      self->arm_idle();
      self->read();
    });
  }
  void close() {
    net::post(socket_.get_executor(), [self = shared_from_this()] {
      self->closed_ = true;
      error_code ignored;
      self->socket_.close(ignored);
      self->maybe_finish();
    });
  }

 private:
  struct DoneContext {
    std::shared_ptr<Session> session;
    uint64_t unit = 0;
    std::shared_ptr<tp_common::InflightTracker> outstanding;
  };

  void read() {
    // Not while a unit waits to be emitted again: the next read's records
    // would reach the store before it, and a later value would lose to an earlier one.
    if (reading_ || eof_ || closed_ || any_waiting() || pending_.size() >= shared_->config.max_units_in_flight) return;
    reading_ = true;
    socket_.async_read_some(net::buffer(buffer_),
                            [self = shared_from_this()](error_code ec, size_t n) { self->on_read(ec, n); });
  }

  void on_read(error_code ec, size_t n) {
    reading_ = false;
    if (n > 0) {
      arm_idle();
      take(std::string_view(buffer_.data(), n), false);
    }
    if (ec == net::error::eof) {
      eof_ = true;
      take({}, true);
    } else if (ec) {
      // Reset or closed: the unfinished last line never arrived whole; complete lines are kept.
      closed_ = true;
    }
    read();
    maybe_finish();
  }

  // The complete lines of `data` (and at the end the last one) become one unit.
  void take(std::string_view data, bool end) {
    auto unit = std::make_unique<Unit>(socket_.get_executor());
    const uint64_t first_line = splitter_.lines() + 1;
    auto overlong = [&](uint64_t line_no, std::string_view head, uint64_t bytes) {
      unit->add_reject(head,
                       "line of " + std::to_string(bytes) + " bytes is over max_line_bytes (" +
                           std::to_string(shared_->config.max_line_bytes) + "); its first " +
                           std::to_string(head.size()) + " bytes are kept",
                       location(line_no));
    };
    lines_.clear();
    if (end) {
      splitter_.finish(lines_, overlong);
    } else {
      splitter_.feed(data, lines_, overlong);
    }
    if (!lines_.empty()) {
      lines_.reserve(lines_.size() + tp_common::kBodyPadding);  // simdjson reads up to 64 bytes past the end
      tp_common::ParseOptions options = shared_->options;
      const std::string id_base = "tcp-" + nonce_ + "-" + std::to_string(first_line);
      options.idempotency_key = id_base;
      parser_.parse_stream_padded(lines_, options, unit->batch,
                                  [&](size_t line, std::string_view text, std::string_view reason) {
                                    unit->add_reject(text, std::string(reason), location(first_line + line - 1));
                                  });
    }
    if (unit->batch.records.empty() && unit->reject_count() == 0) return;
    const uint64_t id = next_unit_++;
    pending_.emplace(id, std::move(unit));
    emit(id);
  }

  std::string location(uint64_t line_no) const { return "tcp " + peer_ + " line " + std::to_string(line_no); }

  void emit(uint64_t id) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    Unit& u = *it->second;
    u.waiting = false;
    if (!shared_->outstanding->try_acquire()) return abandon();  // stopping
    u.build_rejects();
    auto* ctx = new DoneContext{shared_from_this(), id, shared_->outstanding};
    std::string error;
    const tp_status st =
        tp_common::emit_batch(shared_->host, u.batch, u.scratch, &Session::emit_done, ctx, error, u.rejects);
    if (st == TP_OK) {  // emit_done follows
      u.release_scratch();
      return;
    }
    ctx->outstanding->release();
    delete ctx;
    u.release_scratch();
    if (st == TP_STATUS_SHUTTING_DOWN || shared_->stopping) {
      // Not durable, so no acknowledgement: the client sees the connection close and sends again.
      abandon();
    } else if (st == TP_STATUS_PERMANENT) {
      refused(id, error);
    } else {
      // Backpressure, or the hub cannot write now (a failed journal, an
      // internal error): kept and emitted again, never turned into dead letters.
      if (st == TP_STATUS_BACKPRESSURE) {
        if (!shared_->warned_full.exchange(true))
          shared_->host.warn("tcp: the hub is full (backpressure); connections are not read until it has room");
      } else if (!shared_->warned_lost.exchange(true)) {
        shared_->host.warn("tcp: the hub could not take a unit (" + error + "); it is emitted again");
      }
      retry_later(id);
    }
  }

  // The host refused a unit it should have taken (the parser checks its limits): its records become dead letters.
  void refused(uint64_t id, const std::string& error) {
    Unit& u = *pending_.at(id);
    shared_->host.error("tcp: the hub refused a unit from " + peer_ + ": " + error);
    if (u.batch.records.empty()) {
      rejected_ += u.reject_count();  // nothing left to keep; counted, not acknowledged as accepted
      pending_.erase(id);
      read();
      maybe_finish();
      return;
    }
    auto dead = std::make_unique<Unit>(socket_.get_executor());
    for (const tp_common::ParsedRecord& r : u.batch.records)
      dead->add_reject(u.batch.view(r.data), "the hub refused the unit: " + error, "tcp " + peer_);
    dead->reject_text.insert(dead->reject_text.end(), u.reject_text.begin(), u.reject_text.end());
    if (u.summarised > 0) {
      if (dead->summarised == 0) {
        dead->summary_reason = u.summary_reason;
        dead->summary_first = u.summary_first;
      }
      dead->summary_last = u.summary_last.empty() ? u.summary_first : u.summary_last;
      dead->summarised += u.summarised;
    }
    pending_[id] = std::move(dead);
    emit(id);
  }

  bool any_waiting() const {
    return std::any_of(pending_.begin(), pending_.end(), [](const auto& p) { return p.second->waiting; });
  }

  // idle_timeout_ms: restarted by every read. The timer holds the session
  // weakly, so a closed connection is not kept for the rest of the timeout.
  void arm_idle() {
    const uint64_t ms = shared_->config.idle_timeout_ms;
    if (ms == 0 || finished_) return;
    idle_.expires_after(std::chrono::milliseconds(ms));
    idle_.async_wait([weak = weak_from_this()](error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->on_idle();
    });
  }

  void on_idle() {
    if (closed_ || eof_ || finished_) return;
    // Waiting for the hub is not idleness: the client may be blocked by our backpressure.
    if (!pending_.empty()) return arm_idle();
    shared_->host.counter_add("tcp_idle_closed", "", 1);
    closed_ = true;  // a partial last line is dropped, as on a reset
    error_code ignored;
    socket_.close(ignored);
    maybe_finish();
  }

  void retry_later(uint64_t id) {
    Unit& u = *pending_.at(id);
    u.waiting = true;
    const auto wait = std::min<std::chrono::milliseconds>(kFirstRetry * (1u << std::min(u.attempts, 6u)), kMaxRetry);
    ++u.attempts;
    u.retry.expires_after(wait);
    u.retry.async_wait([self = shared_from_this(), id](error_code ec) {
      if (ec) return;
      if (self->shared_->stopping) return self->abandon();
      self->emit(id);
      self->read();  // reading paused while the unit waited
      self->maybe_finish();
    });
  }

  void abandon() {
    pending_.clear();
    closed_ = true;
    abandoned_ = true;
    error_code ignored;
    socket_.close(ignored);
    maybe_finish();
  }

  // The host's answer (tp_emit_done_fn), on a host thread: hand it to the strand.
  static void emit_done(void* user, tp_status status, tp_str message) noexcept {
    std::unique_ptr<DoneContext> ctx(static_cast<DoneContext*>(user));
    try {
      std::shared_ptr<Session> self = std::move(ctx->session);
      auto ex = self->socket_.get_executor();
      net::post(ex, [self = std::move(self), id = ctx->unit, status, text = std::string(view(message))] {
        self->on_done(id, status, text);
      });
    } catch (...) {
      // Out of memory: the unit stays pending and the connection is never acknowledged.
    }
    ctx->outstanding->release();  // last: the post above happened while stop() kept the io_context
  }

  void on_done(uint64_t id, tp_status status, const std::string& message) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    Unit& u = *it->second;
    if (status == TP_OK) {
      accepted_ += u.batch.records.size();
      rejected_ += u.reject_count();
      shared_->host.counter_add("tcp_records_accepted", "", static_cast<double>(u.batch.records.size()));
      if (u.reject_count() > 0)
        shared_->host.counter_add("tcp_lines_rejected", "", static_cast<double>(u.reject_count()));
      pending_.erase(it);
      read();
      maybe_finish();
      return;
    }
    if (!shared_->warned_lost.exchange(true))
      shared_->host.warn("tcp: the hub could not store a unit (" + message + "); it is emitted again");
    if (shared_->stopping) return abandon();
    retry_later(id);
  }

  void maybe_finish() {
    if (finished_ || !(eof_ || closed_) || !pending_.empty()) return;
    finished_ = true;
    idle_.cancel();
    if (closed_ || !shared_->config.ack) {
      error_code ignored;
      socket_.close(ignored);
      return;
    }
    // The client half-closed and everything it sent is durable: say so, then close.
    ack_ = "{\"accepted\":" + std::to_string(accepted_) + ",\"rejected\":" + std::to_string(rejected_) + "}\n";
    net::async_write(socket_, net::buffer(ack_), [self = shared_from_this()](error_code, size_t) {
      error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
      self->socket_.close(ignored);
    });
  }

  tcp::socket socket_;
  std::shared_ptr<Shared> shared_;
  std::vector<char> buffer_;
  net::steady_timer idle_;
  LineSplitter splitter_;
  tp_common::BodyParser parser_;
  std::string lines_;  // the current read's complete lines, reused
  std::string peer_, nonce_, ack_;
  std::map<uint64_t, std::unique_ptr<Unit>> pending_;
  uint64_t next_unit_ = 0;
  uint64_t accepted_ = 0, rejected_ = 0;
  bool reading_ = false, eof_ = false, closed_ = false, finished_ = false, abandoned_ = false;
};

}  // namespace

struct TcpServer::Impl {
  Impl(const Config& config, Host host)
      : shared(std::make_shared<Shared>(config, host)),
        ioc(std::make_unique<net::io_context>(static_cast<int>(config.threads))),
        acceptor(net::make_strand(*ioc)) {}

  void accept() {
    acceptor.async_accept(net::make_strand(*ioc), [this](error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || shared->stopping) return;
      if (!ec) {
        if (shared->connections.fetch_add(1) >= shared->config.max_connections) {
          shared->connections.fetch_sub(1);
          shared->host.warn("tcp: a connection over max_connections (" +
                            std::to_string(shared->config.max_connections) + ") was closed");
          error_code ignored;
          socket.close(ignored);
        } else {
          auto session = std::make_shared<Session>(std::move(socket), shared, rng());
          {
            std::lock_guard<std::mutex> lock(mu);
            sessions.erase(std::remove_if(sessions.begin(), sessions.end(),
                                          [](const std::weak_ptr<Session>& w) { return w.expired(); }),
                           sessions.end());
            sessions.push_back(session);
          }
          session->start();
        }
      }
      accept();
    });
  }

  std::shared_ptr<Shared> shared;
  std::unique_ptr<net::io_context> ioc;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<std::weak_ptr<Session>> sessions;  // guarded by mu
  std::mt19937_64 rng{std::random_device{}()};   // only on the acceptor's handler
  uint16_t port = 0;
  std::atomic<bool> stopped{false};
};

TcpServer::TcpServer(const Config& config, Host host) : impl_(std::make_unique<Impl>(config, host)) {
  error_code ec;
  const tcp::endpoint ep(net::ip::make_address(config.host, ec), config.port);
  if (ec) throw ConfigError("tcp config: 'listen' has an invalid address: " + config.host);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw RetryableError("tcp: cannot listen on " + config.listen + ": " + ec.message());
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  for (unsigned i = 0; i < config.threads; ++i) impl_->threads.emplace_back([io = impl_->ioc.get()] { io->run(); });
}

TcpServer::~TcpServer() { stop(); }

uint16_t TcpServer::port() const noexcept { return impl_->port; }

std::string TcpServer::endpoint() const {
  const std::string& h = impl_->shared->config.host;
  return (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + std::to_string(impl_->port);
}

bool TcpServer::running() const noexcept { return !impl_->stopped && impl_->acceptor.is_open(); }

void TcpServer::stop() noexcept {
  if (impl_->stopped.exchange(true)) return;
  impl_->shared->stopping = true;
  impl_->shared->outstanding->stop();
  // On the acceptor's strand: with several threads, its accept handler may be running.
  net::post(impl_->acceptor.get_executor(), [this] {
    error_code ignored;
    impl_->acceptor.close(ignored);
  });
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (const std::weak_ptr<Session>& w : impl_->sessions)
      if (auto s = w.lock()) s->close();
  }
  // The hub answers what it took; its done() posts into the io_context, which
  // therefore runs (and lives) until they have all returned.
  const bool drained = impl_->shared->outstanding->wait_idle(kStopDrainTimeout);
  impl_->ioc->stop();
  for (std::thread& t : impl_->threads)
    if (t.joinable()) t.join();
  if (!drained) {
    try {
      impl_->shared->host.warn("tcp: stopped while the hub still owed answers for some units");
    } catch (...) {
    }
    (void)impl_->ioc.release();  // kept rather than risk a use-after-free; its handlers never run
  }
}

}  // namespace touchpoint::tcp
