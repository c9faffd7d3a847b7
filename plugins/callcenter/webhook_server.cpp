#include "webhook_server.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "json_input.hpp"
#include "text.hpp"
#include "tp_common/replay_cache.hpp"
#include "tp_common/sha256.hpp"
#include "tp_common/signature.hpp"

namespace touchpoint::callcenter {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr std::uint32_t kHeaderLimit = 16 * 1024;
constexpr auto kStopDrainTimeout = std::chrono::seconds(10);
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr size_t kLingerMaxBytes = 1024 * 1024;

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string_view sv(beast::string_view v) { return std::string_view(v.data(), v.size()); }

std::string error_body(std::string_view message, std::string_view field = {}, long index = -1) {
  std::string out = "{\"error\":";
  append_json_string(out, message);
  if (!field.empty()) {
    out += ",\"field\":";
    append_json_string(out, field);
  }
  if (index >= 0) out += ",\"index\":" + std::to_string(index);
  out.push_back('}');
  return out;
}

// "application/json", with parameters, or none at all (many senders omit it).
bool json_content_type(std::string_view ct) {
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  return ct.empty() || beast::iequals(beast::string_view(ct.data(), ct.size()), "application/json");
}

}  // namespace

struct WebhookServer::State {
  State(const Webhook& c, const OutcomeMap& m, Host h)
      : config(c), outcome_map(m), host(h), verifier(c.secret, c.tolerance_seconds), replay(c.replay_cache_size) {}

  const Webhook config;
  const OutcomeMap outcome_map;
  const Host host;
  tp_common::SignatureVerifier verifier;
  tp_common::ReplayCache replay;
  // Sessions hold the State; the State holds the io_context only until stop(), so the pending
  // handlers (and the sessions in them) are destroyed with it instead of keeping each other alive.
  std::shared_ptr<net::io_context> ioc = std::make_shared<net::io_context>(1);
  std::optional<tcp::acceptor> acceptor;
  std::thread thread;
  std::atomic<bool> running{false};
  std::atomic<size_t> connections{0};

  // Units emitted whose done() has not come back yet.
  std::mutex mu;
  std::condition_variable cv;
  size_t pending = 0;
  void add_pending() {
    std::lock_guard<std::mutex> lock(mu);
    ++pending;
  }
  void release_pending() {
    {
      std::lock_guard<std::mutex> lock(mu);
      --pending;
    }
    cv.notify_all();
  }
};

namespace {

using State = WebhookServer::State;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<State> state) : stream_(std::move(socket)), state_(std::move(state)) {
    ++state_->connections;
  }
  ~Session() { --state_->connections; }

  void start() { read_header(); }

 private:
  void read_header() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(state_->config.max_body_bytes);
    stream_.expires_after(std::chrono::seconds(state_->config.timeout_seconds));
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    const auto& req = parser_->get();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    const bool body_pending = !parser_->is_done();
    std::string_view target = sv(req.target());
    if (target.substr(0, target.find('?')) != state_->config.path)
      return respond(http::status::not_found, error_body("no such path"), body_pending);
    if (req.method() != http::verb::post)
      return respond(http::status::method_not_allowed, error_body("only POST is allowed"), body_pending);
    if (auto length = parser_->content_length(); length && *length > state_->config.max_body_bytes)
      return respond(http::status::payload_too_large, too_large(), true);
    const tp_common::SignatureStatus sig = state_->verifier.check_headers(headers(), unix_now());
    if (sig != tp_common::SignatureStatus::ok)
      return respond(http::status::unauthorized, error_body(tp_common::describe(sig)), body_pending);
    if (!json_content_type(sv(req[http::field::content_type])))
      return respond(http::status::unsupported_media_type, error_body("send application/json"), body_pending);
    if (!body_pending) return handle();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      continue_ = http::response<http::empty_body>(http::status::continue_, version_);
      return http::async_write(stream_, continue_, [self = shared_from_this()](beast::error_code wec, std::size_t) {
        if (wec) return self->close();
        self->read_body();
      });
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    handle();
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit) return respond(http::status::payload_too_large, too_large(), true);
    if (ec == http::error::header_limit)
      return respond(http::status::request_header_fields_too_large, error_body("request header too large"), true);
    if (ec == http::error::end_of_stream) return close();
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::partial_message)
      return respond(http::status::bad_request, error_body("malformed HTTP request: " + ec.message()), true);
    close();  // timeout, reset, truncated request: nobody to answer
  }

  tp_common::SignatureHeaders headers() const {
    const auto& req = parser_->get();
    return tp_common::SignatureHeaders{sv(req["webhook-id"]), sv(req["webhook-timestamp"]),
                                       sv(req["webhook-signature"])};
  }

  std::string too_large() const {
    return error_body("body exceeds max_body_bytes (" + std::to_string(state_->config.max_body_bytes) + ")");
  }

  void handle() {
    try {
      process();
    } catch (const std::exception& e) {
      state_->host.error(std::string("callcenter webhook: request failed: ") + e.what());
      respond(http::status::internal_server_error, error_body("internal error; the details are in the hub's log"),
              true);
    }
  }

  void process() {
    const std::string& body = parser_->get().body();
    const int64_t now = unix_now();
    const tp_common::SignatureHeaders h = headers();
    const tp_common::SignatureStatus sig = state_->verifier.verify(h, body, now);
    if (sig != tp_common::SignatureStatus::ok) {
      state_->host.counter_add("callcenter_webhook_unauthorized_total", "", 1);
      return respond(http::status::unauthorized, error_body(tp_common::describe(sig)), false);
    }
    const std::string webhook_id(h.id);
    replay_key_ = tp_common::ReplayCache::key_of(webhook_id);
    int64_t ts = 0;
    std::from_chars(h.timestamp.data(), h.timestamp.data() + h.timestamp.size(), ts);
    replay_expiry_ = (ts > now ? ts : now) + state_->config.tolerance_seconds;
    if (state_->replay.contains(*replay_key_, now)) {
      // Already stored: nothing is emitted again. A 2xx, because a sender retries anything else.
      replay_key_.reset();
      state_->host.counter_add("callcenter_webhook_replays_total", "", 1);
      return respond(http::status::ok, "{\"accepted\":0,\"duplicate\":true}", false);
    }
    auto parsed = parse_json_body(body, kMaxDispositionsPerRequest);
    if (auto* e = std::get_if<JsonInputError>(&parsed))
      return respond(http::status::bad_request, error_body(e->message, {}, e->index), false);
    const auto& list = std::get<std::vector<Fields>>(parsed);
    EmitUnit unit;
    const std::string id_prefix = "wh:" + tp_common::sha256_hex(webhook_id).substr(0, 32) + ":";
    for (size_t i = 0; i < list.size(); ++i) {
      auto built = build_disposition(list[i], state_->outcome_map);
      if (auto* e = std::get_if<DispositionError>(&built))
        return respond(http::status::bad_request, error_body(e->message, e->field, static_cast<long>(i)), false);
      Record r;
      r.id = id_prefix + std::to_string(i);
      r.type = "response";
      r.data = std::move(std::get<Disposition>(built).data);
      unit.records.push_back(std::move(r));
    }
    if (unit.records.empty()) return respond(http::status::ok, "{\"accepted\":0}", false);
    parser_.reset();  // the body is no longer needed
    const size_t count = unit.records.size();
    std::shared_ptr<State> state = state_;
    state->add_pending();
    std::string message;
    const tp_status status = state->host.emit(
        unit,
        [self = shared_from_this(), state, count](tp_status st, std::string_view msg) {
          // On a host thread: hand the outcome to the server thread (gone only after a stop that
          // gave up waiting for this callback).
          std::lock_guard<std::mutex> lock(state->mu);
          if (state->ioc)
            net::post(*state->ioc, [self, st, count, text = std::string(msg)] { self->finish(st, count, text); });
        },
        &message);
    if (status == TP_OK) return;  // finish() answers
    state->release_pending();
    replay_key_.reset();
    switch (status) {
      case TP_STATUS_BACKPRESSURE:
      case TP_STATUS_RETRYABLE:
      case TP_STATUS_SHUTTING_DOWN:
        state->host.counter_add("callcenter_webhook_backpressure_total", "", 1);
        return respond(http::status::service_unavailable, error_body("the hub is busy; retry later"), false, true);
      case TP_STATUS_PERMANENT:
        return respond(http::status::bad_request, error_body("rejected by the hub: " + excerpt(message, 300)), false);
      default:
        state->host.error("callcenter webhook: emit failed with status " + std::to_string(status) + ": " + message);
        return respond(http::status::internal_server_error,
                       error_body("internal error; the details are in the hub's log"), false);
    }
  }

  void finish(tp_status status, size_t count, const std::string& message) {
    pending_ = true;
    if (status == TP_OK) {
      if (replay_key_) state_->replay.remember(*replay_key_, replay_expiry_, unix_now());
      replay_key_.reset();
      state_->host.counter_add("callcenter_dispositions_total", "source=webhook", static_cast<double>(count));
      return respond(http::status::ok, "{\"accepted\":" + std::to_string(count) + "}", false);
    }
    replay_key_.reset();
    state_->host.warn("callcenter webhook: the hub could not store " + std::to_string(count) +
                      " dispositions (status " + std::to_string(status) + "): " + message);
    respond(http::status::service_unavailable, error_body("the hub could not store the dispositions; retry"), false,
            true);
  }

  void respond(http::status status, std::string body, bool close_after, bool retry_after = false) {
    close_after = close_after || !keep_alive_;
    response_ = {};
    response_.result(status);
    response_.version(version_);
    response_.set(http::field::server, "touchpoint-callcenter");
    response_.set(http::field::content_type, "application/json");
    if (retry_after) response_.set(http::field::retry_after, "1");
    response_.keep_alive(!close_after);
    response_.body() = std::move(body);
    response_.prepare_payload();
    char labels[24];
    auto res = std::to_chars(labels, labels + sizeof(labels), static_cast<unsigned>(status));
    state_->host.counter_add("callcenter_webhook_requests_total",
                             "status=" + std::string(labels, static_cast<size_t>(res.ptr - labels)), 1);
    stream_.expires_after(std::chrono::seconds(state_->config.timeout_seconds));
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&Session::on_write, shared_from_this(), close_after));
  }

  void on_write(bool close_after, beast::error_code ec, std::size_t) {
    if (pending_) {
      pending_ = false;
      state_->release_pending();
    }
    if (ec) return close();
    if (close_after) return linger();
    read_header();
  }

  // After an early answer the client may still be sending: drain a little so it reads the
  // answer instead of a connection reset.
  void linger() {
    parser_.reset();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTimeout);
    drain();
  }
  void drain() {
    stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kLingerMaxBytes) return self->close();
      self->drain();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<State> state_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::empty_body> continue_;
  http::response<http::string_body> response_;
  std::optional<tp_common::Sha256Digest> replay_key_;
  int64_t replay_expiry_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool pending_ = false;  // the response answers an emitted unit
  std::array<char, 4096> drain_{};
  size_t drained_ = 0;
};

void do_accept(const std::shared_ptr<State>& state) {
  state->acceptor->async_accept([state](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !state->acceptor->is_open()) return;
    if (!ec) {
      if (state->connections.load() >= state->config.max_connections) {
        state->host.counter_add("callcenter_webhook_connections_refused_total", "", 1);
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        try {
          std::make_shared<Session>(std::move(socket), state)->start();
        } catch (const std::exception&) {
          // Out of memory: drop this connection, keep accepting.
        }
      }
    }
    do_accept(state);
  });
}

}  // namespace

WebhookServer::WebhookServer(const Webhook& config, const OutcomeMap& outcome_map, Host host)
    : state_(std::make_shared<State>(config, outcome_map, host)) {
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(config.host, ec);
  if (ec) throw ConfigError("callcenter config: 'webhook.listen' has an invalid address: " + config.host);
  const tcp::endpoint endpoint(address, config.port);
  auto& acceptor = state_->acceptor.emplace(*state_->ioc);
  auto fail = [&](const char* what) {
    throw RetryableError("callcenter webhook: cannot " + std::string(what) + " " + config.host + ":" +
                         std::to_string(config.port) + ": " + ec.message());
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) fail("open a socket for");
  acceptor.set_option(net::socket_base::reuse_address(true), ec);
  acceptor.bind(endpoint, ec);
  if (ec) fail("bind");
  acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) fail("listen on");
  do_accept(state_);
  state_->running = true;
  state_->thread = std::thread([state = state_] {
    for (;;) {
      try {
        state->ioc->run();
        return;
      } catch (const std::exception& e) {
        state->host.error(std::string("callcenter webhook: unexpected exception in the server thread: ") + e.what());
      }
    }
  });
}

WebhookServer::~WebhookServer() { stop(); }

uint16_t WebhookServer::port() const noexcept {
  if (!state_->acceptor) return 0;
  beast::error_code ec;
  const auto ep = state_->acceptor->local_endpoint(ec);
  return ec ? 0 : ep.port();
}

bool WebhookServer::running() const noexcept { return state_->running.load(); }

void WebhookServer::stop() noexcept {
  if (!state_->running.exchange(false)) return;
  net::post(*state_->ioc, [state = state_.get()] {
    beast::error_code ignored;
    state->acceptor->close(ignored);
  });
  bool drained = false;
  {
    // Requests whose unit is in the host's hands get their answer first.
    std::unique_lock<std::mutex> lock(state_->mu);
    drained = state_->cv.wait_for(lock, kStopDrainTimeout, [&] { return state_->pending == 0; });
  }
  state_->ioc->stop();
  if (state_->thread.joinable()) state_->thread.join();
  if (!drained) {
    // A done() is still owed and will post into the io_context: keep it (a bounded leak)
    // rather than risk a use-after-free.
    state_->host.warn("callcenter webhook: stopped with unacknowledged requests");
    return;
  }
  state_->acceptor.reset();
  std::shared_ptr<net::io_context> ioc;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    ioc = std::move(state_->ioc);
  }
  ioc.reset();
}

}  // namespace touchpoint::callcenter
