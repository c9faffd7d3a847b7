#include "http_server.hpp"

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "content_type.hpp"
#include "padded_body.hpp"
#include "responses.hpp"
#include "segment_parser.hpp"
#include "tp_common/body_parser.hpp"
#include "tp_common/inflight_tracker.hpp"
#include "tp_common/record_emitter.hpp"
#include "tp_common/replay_cache.hpp"
#include "tp_common/signature.hpp"
#include "write_keys.hpp"

namespace touchpoint::webhook {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr std::uint32_t kHeaderLimit = 16 * 1024;
// After an error response that leaves unread request bytes, the connection is
// half-closed and drained for a moment so the client reads the response
// instead of a connection reset.
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr std::size_t kLingerMaxBytes = 1024 * 1024;
// stop() waits this long for emitted requests to be acknowledged.
constexpr auto kStopDrainTimeout = std::chrono::seconds(10);
// Per-thread scratch above this size is released after a request.
constexpr std::size_t kRetainedScratchBytes = 16 * 1024 * 1024;
// Connections over max_connections get a 503 from a short-lived session;
// beyond this many of those at once they are closed without an answer.
constexpr std::size_t kMaxRefusingSessions = 64;
// Bytes read at once while a keep-alive connection waits for its next request.
constexpr std::size_t kIdleReadBytes = 4096;
// Beast reads into the free capacity of the connection's buffer (at least
// 512 bytes, at most 64 KiB per read): give it room while a body arrives, so
// a 10 MiB body takes 160 reads instead of 20,000.
constexpr std::size_t kBodyReadBytes = 64 * 1024;
constexpr char kServerName[] = "touchpoint-webhook";

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view sv(beast::string_view v) { return std::string_view(v.data(), v.size()); }

// Outstanding work (see Route and Listener), shared with the done callbacks.
using tp_common::InflightTracker;

// One unit of an InflightTracker, released on destruction.
class InflightToken {
 public:
  InflightToken() = default;
  explicit InflightToken(std::shared_ptr<InflightTracker> tracker) : tracker_(std::move(tracker)) {
    tracker_->acquire();
  }
  InflightToken(InflightToken&& other) noexcept = default;
  InflightToken& operator=(InflightToken&& other) noexcept {
    if (this != &other) {
      reset();
      tracker_ = std::move(other.tracker_);
    }
    return *this;
  }
  InflightToken(const InflightToken&) = delete;
  InflightToken& operator=(const InflightToken&) = delete;
  ~InflightToken() { reset(); }
  void reset() noexcept {
    if (tracker_) {
      tracker_->release();
      tracker_.reset();
    }
  }

 private:
  std::shared_ptr<InflightTracker> tracker_;
};

// The global budget for request bodies being received or parsed
// (max_inflight_bytes), shared by all connections.
class ByteBudget {
 public:
  explicit ByteBudget(uint64_t limit) : limit_(limit) {}
  bool try_reserve(uint64_t n) noexcept {
    uint64_t used = used_.load(std::memory_order_relaxed);
    do {
      if (n > limit_ - used) return false;
    } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
    return true;
  }
  void release(uint64_t n) noexcept { used_.fetch_sub(n, std::memory_order_relaxed); }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> used_{0};
};

// A reservation in a ByteBudget, released on destruction.
class BudgetReservation {
 public:
  BudgetReservation() = default;
  BudgetReservation(ByteBudget& budget, uint64_t bytes) : budget_(&budget), bytes_(bytes) {}
  BudgetReservation(BudgetReservation&& other) noexcept
      : budget_(std::exchange(other.budget_, nullptr)), bytes_(other.bytes_) {}
  BudgetReservation& operator=(BudgetReservation&& other) noexcept {
    if (this != &other) {
      reset();
      budget_ = std::exchange(other.budget_, nullptr);
      bytes_ = other.bytes_;
    }
    return *this;
  }
  BudgetReservation(const BudgetReservation&) = delete;
  BudgetReservation& operator=(const BudgetReservation&) = delete;
  ~BudgetReservation() { reset(); }
  void reset() noexcept {
    if (budget_ != nullptr) budget_->release(bytes_);
    budget_ = nullptr;
  }

 private:
  ByteBudget* budget_ = nullptr;
  uint64_t bytes_ = 0;
};

// Host calls of one instance. A shared listener keeps serving after an
// instance closed, so every host call of an instance goes through its gate:
// close() waits for the calls in progress and refuses all later ones.
class HostGate {
 public:
  bool enter() {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    ++active_;
    return true;
  }
  void leave() noexcept {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      wake = --active_ == 0 && closed_;
    }
    if (wake) cv_.notify_all();
  }
  void close() noexcept {
    std::unique_lock<std::mutex> lock(mu_);
    closed_ = true;
    cv_.wait(lock, [&] { return active_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t active_ = 0;
  bool closed_ = false;
};

// The settings of the socket: one value per listener, so every instance that
// shares an address must give the same.
struct SocketSetting {
  const char* key;
  uint64_t (*get)(const Config&);
};
constexpr SocketSetting kSocketSettings[] = {
    {"threads", [](const Config& c) -> uint64_t { return c.threads; }},
    {"max_connections", [](const Config& c) -> uint64_t { return c.max_connections; }},
    {"header_timeout_seconds", [](const Config& c) -> uint64_t { return c.header_timeout_seconds; }},
    {"idle_timeout_seconds", [](const Config& c) -> uint64_t { return c.idle_timeout_seconds; }},
    {"max_inflight_bytes", [](const Config& c) -> uint64_t { return c.max_inflight_bytes; }},
};

// "127.0.0.1:8080", "[::1]:8080".
std::string format_endpoint(const net::ip::address& address, uint16_t port) {
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

}  // namespace

// One instance on a listener: its path and everything but the socket.
// Sessions hold it (shared_ptr) for the duration of a request.
struct Route {
  Route(const Config& cfg, Host h, std::string instance_name)
      : config(cfg),
        host(h),
        name(std::move(instance_name)),
        timeout(cfg.read_timeout_seconds),
        paths(cfg.paths()),
        replay(cfg.replay_cache_size) {
    if (!config.secret.empty())
      verifier = std::make_unique<tp_common::SignatureVerifier>(config.secret, config.tolerance_seconds);
    parse_options.default_type = config.type;
    parse_options.id_field = config.id_field;
    parse_options.key_field = config.key_field;
    parse_options.max_records = config.max_records_per_request;
    segment_options.event_types = &config.event_types;
    segment_options.anonymous_system = config.anonymous_id_system;
    segment_options.max_message_bytes = config.max_message_bytes;
    segment_options.max_records = config.max_records_per_request;
  }
  Route(const Route&) = delete;
  Route& operator=(const Route&) = delete;

  // Runs f(host) unless the instance is closed; false when it is.
  template <class F>
  bool with_host(F&& f) {
    if (!gate.enter()) return false;
    struct Leave {
      HostGate& g;
      ~Leave() { g.leave(); }
    } leave{gate};
    f(host);
    return true;
  }

  // "instance 'web-signups'", for messages to other instances.
  std::string describe() const {
    return name.empty() ? std::string("another webhook instance of this process") : "instance '" + name + "'";
  }

  const Config config;
  const Host host;
  const std::string name;              // the host's "instance" setting, empty if it has none
  const std::chrono::seconds timeout;  // one request body; writing a response
  const std::vector<std::string> paths;
  std::unique_ptr<tp_common::SignatureVerifier> verifier;
  tp_common::ReplayCache replay;
  ParseOptions parse_options;      // views config
  SegmentOptions segment_options;  // views config; `call` is set per request
  // Emitted requests whose response is not written yet (for a graceful close).
  const std::shared_ptr<InflightTracker> responses = std::make_shared<InflightTracker>();
  HostGate gate;
};

void count_response(const Host& host, unsigned status) {
  char labels[24] = "status=";
  auto res = std::to_chars(labels + 7, labels + sizeof(labels), status);
  host.counter_add("webhook_requests_total", std::string_view(labels, static_cast<size_t>(res.ptr - labels)), 1);
}

// One bound address: the acceptor, the server threads, the connection and
// body budgets, and the paths registered on it. Owned by the registry and by
// the HttpServers of its instances; sessions refer to it while the
// io_context (which it owns) runs them.
class Listener {
 public:
  // Binds and listens; serving starts with start(). `hint` is appended to a
  // bind error.
  Listener(const Config& config, const net::ip::address& address, const std::string& hint);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  void start();

  const std::string& key() const noexcept { return key_; }
  uint16_t port() const noexcept { return local_.port(); }
  bool running() const noexcept { return running_.load(); }
  const Config& settings() const noexcept { return settings_; }

  // Paths. Changed only under the registry's lock; read by sessions.
  std::shared_ptr<Route> find(std::string_view path) const {
    std::lock_guard<std::mutex> lock(routes_mu_);
    auto it = routes_.find(path);
    return it == routes_.end() ? nullptr : it->second;
  }
  void add(const std::shared_ptr<Route>& route) {
    std::lock_guard<std::mutex> lock(routes_mu_);
    for (const std::string& path : route->paths) routes_.emplace(path, route);
  }
  // Returns the number of routes left.
  size_t remove(const Route& route) {
    std::lock_guard<std::mutex> lock(routes_mu_);
    for (const std::string& path : route.paths) {
      auto it = routes_.find(path);
      if (it != routes_.end() && it->second.get() == &route) {
        routes_.erase(it);
        retired_.insert(path);
      }
    }
    return routes_.size();
  }
  /// Whether an instance served this path on this listener before: its
  /// pipeline is stopping or restarting (503, retry), not unknown (404).
  bool retired(std::string_view path) const {
    std::lock_guard<std::mutex> lock(routes_mu_);
    return retired_.find(path) != retired_.end();
  }
  size_t route_count() const {  // instances, not paths
    std::lock_guard<std::mutex> lock(routes_mu_);
    std::set<const Route*> distinct;
    for (const auto& entry : routes_) distinct.insert(entry.second.get());
    return distinct.size();
  }
  std::shared_ptr<Route> any_route() const {
    std::lock_guard<std::mutex> lock(routes_mu_);
    return routes_.empty() ? nullptr : routes_.begin()->second;
  }

  // Events of the listener as a whole (connections, requests for no path,
  // server-thread errors) go to every instance registered on it.
  template <class F>
  void for_each_host(F&& f) const {
    std::lock_guard<std::mutex> lock(routes_mu_);
    std::set<const Route*> done;  // once per instance, not per path
    for (const auto& [path, route] : routes_) {
      if (!done.insert(route.get()).second) continue;
      try {
        route->with_host(f);
      } catch (...) {
      }
    }
  }

  // Open connections, bounded by max_connections; mirrored in the gauge
  // webhook_connections of every instance.
  bool try_enter_connection() {
    std::lock_guard<std::mutex> lock(connections_mu_);
    if (open_connections_ >= settings_.max_connections) return false;
    ++open_connections_;
    publish_connections();
    return true;
  }
  void leave_connection() noexcept {
    std::lock_guard<std::mutex> lock(connections_mu_);
    --open_connections_;
    publish_connections();
  }

  // The last instance's close: stop accepting, then (stop_threads) stop and
  // join the server threads; `last` logs what must be logged.
  void close_acceptor() noexcept;
  void stop_threads(Route* last) noexcept;

  const std::chrono::seconds header_timeout;  // one request header; writing a response outside any path
  const std::chrono::seconds idle_timeout;    // keep-alive: until the next request's first byte
  std::atomic<size_t> refusing{0};            // sessions answering 503 for max_connections
  ByteBudget budget;
  // Emits whose done() has not returned yet: the io_context must outlive them.
  const std::shared_ptr<InflightTracker> callbacks = std::make_shared<InflightTracker>();
  // Guarded by the registry's lock: the last path is gone and no instance
  // joins any more; instances closing, still waiting for their responses.
  bool retiring = false;
  size_t draining = 0;

 private:
  void publish_connections() noexcept {
    const double open = static_cast<double>(open_connections_);
    for_each_host([open](const Host& h) { h.gauge_set("webhook_connections", "", open); });
  }
  void run() noexcept;
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);

  const Config settings_;  // of the instance that bound it; only the socket settings count
  mutable std::mutex routes_mu_;
  std::map<std::string, std::shared_ptr<Route>, std::less<>> routes_;
  std::set<std::string, std::less<>> retired_;  // paths once served here (bounded by the config)
  std::mutex connections_mu_;
  uint64_t open_connections_ = 0;
  std::string key_;
  // Declared after everything sessions use: destroyed first.
  std::unique_ptr<net::io_context> ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<net::steady_timer> retry_timer_;
  std::vector<std::thread> threads_;
  tcp::endpoint local_;
  std::atomic<bool> running_{false};
  bool stopped_ = false;  // stop_threads() ran
};

namespace {

// Parser state and buffers reused by all requests handled on one server thread.
struct ThreadScratch {
  BodyParser parser;
  SegmentParser segment;
  std::string write_key;
  ParsedBatch batch;
  std::vector<tp_record> records;

  void trim() {
    if (batch.arena.capacity() > kRetainedScratchBytes) std::string().swap(batch.arena);
    if (batch.records.capacity() * sizeof(ParsedRecord) > kRetainedScratchBytes)
      std::vector<ParsedRecord>().swap(batch.records);
    if (records.capacity() * sizeof(tp_record) > kRetainedScratchBytes) std::vector<tp_record>().swap(records);
  }
};

ThreadScratch& thread_scratch() {
  thread_local ThreadScratch scratch;
  return scratch;
}

template <class Request>
tp_common::SignatureHeaders signature_headers(const Request& req) {
  return tp_common::SignatureHeaders{sv(req["webhook-id"]), sv(req["webhook-timestamp"]), sv(req["webhook-signature"])};
}

enum ExtraHeaders : unsigned { kNoExtra = 0, kRetryAfter = 1, kAllowPost = 2, kPreflight = 4 };

bool cors_allows(const Config& config, std::string_view origin) {
  for (const std::string& o : config.cors_origins)
    if (o == "*" || o == origin) return true;
  return false;
}

bool speaks_segment(const Route& route) { return route.config.protocol == Protocol::segment; }

// The 2xx of a request whose records are durable: Segment's clients expect 200 {"success":true}.
http::status accepted_status(const Route& route) {
  return speaks_segment(route) ? http::status::ok : http::status::accepted;
}
std::string accepted_answer(const Route& route, size_t count) {
  return speaks_segment(route) ? std::string("{\"success\":true}") : accepted_body(count);
}

// Expiry (Unix seconds) of a webhook-id in the replay cache: the tolerance
// window after the request was accepted, or after its webhook-timestamp when
// that lies in the future (its signature stays valid until then).
int64_t replay_expiry(std::string_view timestamp, int64_t now, int64_t tolerance) {
  int64_t ts = 0;
  auto [ptr, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  const bool valid = ec == std::errc() && ptr == timestamp.data() + timestamp.size() && ts < (int64_t{1} << 40);
  return (valid && ts > now ? ts : now) + tolerance;
}

// One connection. All its handlers run on its strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  enum class Role { serve, refuse };

  // A serving session holds one connection slot of the listener (taken by
  // the acceptor); a refusing one counts in listener.refusing.
  Session(tcp::socket&& socket, Listener& listener, Role role)
      : stream_(std::move(socket)), listener_(listener), role_(role) {}
  ~Session() {
    if (role_ == Role::serve) {
      listener_.leave_connection();
    } else {
      listener_.refusing.fetch_sub(1);
    }
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start() {
    if (role_ == Role::refuse)
      return net::dispatch(stream_.get_executor(),
                           beast::bind_front_handler(&Session::refuse_connection, shared_from_this()));
    // A new connection's header deadline runs from the accept.
    net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::read_header, shared_from_this()));
  }

  // The host's completion of an emit (tp_emit_done_fn), on a host thread:
  // hand the outcome to the session's strand and return at once.
  static void emit_done(void* user, tp_status status, tp_str message) noexcept {
    std::unique_ptr<PendingEmit> pending(static_cast<PendingEmit*>(user));
    try {
      std::shared_ptr<Session> self = std::move(pending->session);
      auto executor = self->stream_.get_executor();
      net::post(executor, [self = std::move(self), token = std::move(pending->response), count = pending->count, status,
                           text = std::string(view(message))]() mutable {
        self->finish_emit(status, count, text, std::move(token));
      });
    } catch (...) {
      // Out of memory: the session is dropped and the client sees the connection close.
    }
    // `pending` (and its callback token) goes last: the post above happened
    // while stop() still kept the io_context alive.
  }

 private:
  struct PendingEmit {
    std::shared_ptr<Session> session;
    InflightToken response;
    InflightToken callback;
    size_t count = 0;
  };

  void refuse_connection() {
    respond(http::status::service_unavailable, error_body("too many connections; retry later"), true, kRetryAfter);
  }

  // Keep-alive: waits up to idle_timeout for the first byte of the next
  // request; the header deadline starts when it arrives.
  void await_request() {
    if (buffer_.size() > 0) return read_header();  // pipelined: already here
    buffer_.shrink_to_fit();                       // an idle connection keeps no body-sized buffer
    stream_.expires_after(listener_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kIdleReadBytes),
                            beast::bind_front_handler(&Session::on_idle_read, shared_from_this()));
  }

  void on_idle_read(beast::error_code ec, std::size_t bytes) {
    buffer_.commit(bytes);
    if (bytes > 0) return read_header();
    if (ec == net::error::eof) {  // the client closed between requests
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    if (ec) return close_socket();  // idle timeout, reset
    await_request();
  }

  // beast::tcp_stream::expires_after sets one absolute deadline that every
  // read started afterwards shares (each read_some waits on the same timer
  // and leaves its expiry alone), so the deadline is total for the whole
  // composed async_read_header / async_read, however slowly the bytes trickle in.
  void read_header() {
    version_ = 11;
    keep_alive_ = false;
    cors_origin_.clear();
    route_.reset();
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // The path's max_body_bytes applies once the header names the path (on_header).
    // (Not boost::none: Beast 1.74 compares a Content-Length with an empty
    // optional as larger.)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_after(listener_.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return on_read_error(ec);
    const auto& req = parser_->get();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    // Early answers leave the body unread: the connection is then closed.
    const bool body_pending = !parser_->is_done();
    std::string_view target = sv(req.target());
    std::string_view path = target.substr(0, target.find('?'));
    route_ = listener_.find(path);
    if (!route_) {
      // A client must retry a request that reached a stopping pipeline, not drop it.
      if (listener_.retired(path))
        return respond(http::status::service_unavailable,
                       error_body("the pipeline of this path is stopping or restarting; retry"), body_pending);
      return respond(http::status::not_found, error_body("no such path"), body_pending);
    }
    const Config& config = route_->config;
    if (auto length = parser_->content_length(); length && *length > config.max_body_bytes)
      return respond(http::status::payload_too_large, body_too_large(), true);
    parser_->body_limit(config.max_body_bytes);  // for a chunked body
    // CORS: a web page on an allowed origin may post (analytics.js in a browser).
    const std::string_view origin = sv(req[http::field::origin]);
    if (!origin.empty() && cors_allows(config, origin)) cors_origin_ = origin;
    if (req.method() == http::verb::options) {
      if (!cors_origin_.empty()) return respond(http::status::no_content, "", body_pending, kPreflight);
      if (!origin.empty() && !config.cors_origins.empty())
        return respond(http::status::forbidden, error_body("this origin may not post here (cors_origins)"),
                       body_pending);
      return respond(http::status::no_content, "", body_pending, kAllowPost);
    }
    if (req.method() != http::verb::post)
      return respond(http::status::method_not_allowed, error_body("only POST is allowed"), body_pending, kAllowPost);
    if (route_->verifier) {
      tp_common::SignatureStatus status = route_->verifier->check_headers(signature_headers(req), unix_now());
      if (status != tp_common::SignatureStatus::ok)
        return respond(http::status::unauthorized, error_body(tp_common::describe(status)), body_pending);
    }
    write_key_checked_ = false;
    if (speaks_segment(*route_)) {
      segment_call_ = segment_call_of(path.substr(path.rfind('/') + 1)).value_or(SegmentCall::batch);
      std::string_view authorization = sv(req[http::field::authorization]);
      if (!authorization.empty()) {
        std::optional<std::string> key = basic_auth_user(authorization);
        if (!key || !is_write_key(route_->config.write_keys, *key))
          return respond(http::status::unauthorized,
                         error_body(key ? "unknown write key" : "Authorization must be Basic base64(<write key>:)"),
                         body_pending);
        write_key_checked_ = true;
      }
      std::string_view encoding = sv(req[http::field::content_encoding]);
      if (!encoding.empty() && !beast::iequals(req[http::field::content_encoding], "identity"))
        return respond(http::status::unsupported_media_type,
                       error_body("Content-Encoding " + std::string(encoding.substr(0, 32)) +
                                  " is not accepted; send the body uncompressed"),
                       body_pending);
    }
    if (!is_accepted_content_type(sv(req[http::field::content_type])))
      return respond(http::status::unsupported_media_type,
                     error_body("unsupported Content-Type: send JSON or NDJSON (application/json, "
                                "application/x-ndjson, text/plain or none)"),
                     body_pending);
    // Reserve the body's memory in the global budget before reading it. A
    // chunked body's size is unknown: it may take up to max_body_bytes.
    uint64_t need = 0;
    if (auto length = parser_->content_length()) {
      need = *length;
    } else if (parser_->chunked()) {
      need = config.max_body_bytes;
    }
    if (!listener_.budget.try_reserve(need)) {
      route_->with_host([](const Host& h) { h.counter_add("webhook_inflight_refused_total", "", 1); });
      return respond(http::status::service_unavailable,
                     error_body("too many request bodies in flight (max_inflight_bytes); retry later"), body_pending,
                     kRetryAfter);
    }
    budget_ = BudgetReservation(listener_.budget, need);
    if (!body_pending) return handle_request();
    if (version_ >= 11 && beast::iequals(req[http::field::expect], "100-continue")) {
      continue_ = http::response<http::empty_body>(http::status::continue_, version_);
      stream_.expires_after(route_->timeout);
      return http::async_write(stream_, continue_,
                               beast::bind_front_handler(&Session::on_continue_written, shared_from_this()));
    }
    read_body();
  }

  void on_continue_written(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return close_socket();
    read_body();
  }

  void read_body() {
    if (buffer_.capacity() < kBodyReadBytes) buffer_.reserve(kBodyReadBytes);
    stream_.expires_after(route_->timeout);
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, std::size_t /*bytes*/) {
    if (ec) return on_read_error(ec);
    handle_request();
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit && route_)
      return respond(http::status::payload_too_large, body_too_large(), true);
    if (ec == http::error::header_limit)
      return respond(http::status::request_header_fields_too_large, error_body("request header too large"), true);
    if (ec == http::error::end_of_stream) {  // the client closed between requests
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::partial_message)
      return respond(http::status::bad_request, error_body("malformed HTTP request: " + ec.message()), true);
    // Timeout, reset, truncated message: nobody to answer.
    close_socket();
  }

  void handle_request() {
    try {
      process_request();
    } catch (const std::exception& e) {
      budget_.reset();
      internal_error(std::string("webhook: request failed: ") + e.what(), true);
      return;
    }
    budget_.reset();  // the body is parsed and, if emitted, copied by the host
  }

  // A 500 never carries exception texts or host messages (paths, internals):
  // the detail goes to the hub's log.
  void internal_error(const std::string& detail, bool close_after) {
    try {
      route_->with_host([&](const Host& h) { h.error(detail); });
    } catch (...) {
    }
    respond(http::status::internal_server_error, error_body("internal error; the details are in the hub's log"),
            close_after);
  }

  // The replay-cache entry of this request (webhook-id header), if any.
  void note_replay_key(const http::request<PaddedBody>& req, int64_t now) {
    replay_key_.reset();
    std::string_view id = sv(req["webhook-id"]);
    if (!route_->replay.enabled() || id.empty()) return;
    replay_key_ = tp_common::ReplayCache::key_of(id);
    replay_expiry_ = replay_expiry(sv(req["webhook-timestamp"]), now, route_->config.tolerance_seconds);
  }

  void remember_accepted() {
    if (replay_key_) route_->replay.remember(*replay_key_, replay_expiry_, unix_now());
    replay_key_.reset();
  }

  void process_request() {
    const http::request<PaddedBody>& req = parser_->get();
    std::string& body = parser_->get().body();
    if (body.capacity() < body.size() + kBodyPadding) body.reserve(body.size() + kBodyPadding);
    if (speaks_segment(*route_)) return process_segment(body);
    const int64_t now = unix_now();
    if (route_->verifier) {
      tp_common::SignatureStatus status = route_->verifier->verify(signature_headers(req), body, now);
      if (status != tp_common::SignatureStatus::ok)
        return respond(http::status::unauthorized, error_body(tp_common::describe(status)), false);
    }
    note_replay_key(req, now);
    if (replay_key_ && route_->replay.contains(*replay_key_, now)) {
      // Already acknowledged: a 2xx, because senders retry any other status.
      replay_key_.reset();
      parser_.reset();
      route_->with_host([](const Host& h) { h.counter_add("webhook_duplicates_total", "", 1); });
      return respond(http::status::accepted, duplicate_body(), false);
    }
    // Records without an id get "<key>:<index>": a retried request yields the same ids.
    ParseOptions options = route_->parse_options;
    options.idempotency_key = sv(req["webhook-id"]);
    if (options.idempotency_key.empty()) options.idempotency_key = sv(req["idempotency-key"]);
    ThreadScratch& scratch = thread_scratch();
    std::optional<ParseError> error = scratch.parser.parse_padded(body, options, scratch.batch);
    parser_.reset();  // the request and its body are no longer needed
    if (error) {
      replay_key_.reset();
      scratch.trim();
      return respond(error->too_large ? http::status::payload_too_large : http::status::bad_request,
                     error_body(error->message, error->position), false);
    }
    emit(scratch);
  }

  // A Segment call: authenticated by the header or, failing that, by the body's writeKey.
  void process_segment(std::string& body) {
    SegmentOptions options = route_->segment_options;
    options.call = segment_call_;
    options.received_ms = unix_now_ms();
    ThreadScratch& scratch = thread_scratch();
    std::optional<ParseError> error = scratch.segment.parse_padded(body, options, scratch.batch, scratch.write_key);
    parser_.reset();
    if (!write_key_checked_) {
      const bool known = !scratch.write_key.empty() && is_write_key(route_->config.write_keys, scratch.write_key);
      if (!known) {
        scratch.trim();
        return respond(http::status::unauthorized,
                       error_body(scratch.write_key.empty()
                                      ? "no write key: send Authorization: Basic base64(<write key>:) or \"writeKey\""
                                      : "unknown write key"),
                       false);
      }
    }
    if (error) {
      scratch.trim();
      return respond(error->too_large ? http::status::payload_too_large : http::status::bad_request,
                     error_body(error->message), false);
    }
    emit(scratch);
  }

  // Emits the parsed records as one unit; the response follows when they are durable.
  void emit(ThreadScratch& scratch) {
    const size_t count = scratch.batch.records.size();
    if (count == 0) {
      remember_accepted();
      return respond(accepted_status(*route_), accepted_answer(*route_, 0), false);
    }

    auto pending = std::make_unique<PendingEmit>();
    pending->session = shared_from_this();
    pending->response = InflightToken(route_->responses);
    pending->callback = InflightToken(listener_.callbacks);
    pending->count = count;
    std::string message;
    PendingEmit* user = pending.release();  // owned by emit_done from here on, unless refused
    // A closed instance emits nothing: its requests still being read get 503.
    tp_status status = TP_STATUS_SHUTTING_DOWN;
    route_->with_host([&](const Host& h) {
      status = emit_batch(h, scratch.batch, scratch.records, &Session::emit_done, user, message);
    });
    scratch.trim();
    if (status == TP_OK) return;  // the response follows from emit_done
    pending.reset(user);
    pending->session.reset();  // `this` stays alive: the caller's handler holds a reference
    pending.reset();
    replay_key_.reset();
    respond_refused(status, message);
  }

  void respond_refused(tp_status status, const std::string& message) {
    switch (status) {
      case TP_STATUS_BACKPRESSURE:
        return respond(http::status::service_unavailable, error_body("the hub is over its limits; retry later"), false,
                       kRetryAfter);
      case TP_STATUS_SHUTTING_DOWN:
        return respond(http::status::service_unavailable, error_body("the hub is shutting down"), false);
      case TP_STATUS_RETRYABLE:
        route_->with_host(
            [&](const Host& h) { h.warn("webhook: the hub refused a request's records for now: " + message); });
        return respond(http::status::service_unavailable, error_body("the hub is temporarily unavailable; retry later"),
                       false, kRetryAfter);
      case TP_STATUS_PERMANENT:
        // The plugin checks the host's limits first, so this is rare; the
        // host's message describes the input.
        return respond(http::status::bad_request, error_body("rejected by the hub: " + message), false);
      default:
        return internal_error("webhook: emit failed with status " + std::to_string(status) + ": " + message, false);
    }
  }

  void finish_emit(tp_status status, size_t count, const std::string& message, InflightToken token) {
    inflight_ = std::move(token);  // released once the response is written
    if (status == TP_OK) {
      remember_accepted();
      route_->with_host(
          [count](const Host& h) { h.counter_add("webhook_records_total", "", static_cast<double>(count)); });
      return respond(accepted_status(*route_), accepted_answer(*route_, count), false);
    }
    replay_key_.reset();
    internal_error("webhook: the hub could not store a request's " + std::to_string(count) + " records (status " +
                       std::to_string(status) + "): " + message,
                   false);
  }

  void respond(http::status status, std::string body, bool close_after, unsigned extra = kNoExtra) {
    close_after = close_after || !keep_alive_;
    response_ = http::response<http::string_body>();
    response_.result(status);
    response_.version(version_);
    response_.set(http::field::server, kServerName);
    response_.set(http::field::content_type, "application/json");
    if (extra & kRetryAfter) response_.set(http::field::retry_after, "1");
    if (extra & kAllowPost) response_.set(http::field::allow, "POST, OPTIONS");
    if (!cors_origin_.empty()) {
      response_.set(http::field::access_control_allow_origin, cors_origin_);
      response_.set(http::field::vary, "Origin");
    }
    if (extra & kPreflight) {
      response_.set(http::field::access_control_allow_methods, "POST, OPTIONS");
      response_.set(http::field::access_control_allow_headers, "Authorization, Content-Type");
      response_.set(http::field::access_control_max_age, "86400");
    }
    response_.keep_alive(!close_after);
    response_.body() = std::move(body);
    response_.prepare_payload();
    // A response outside any path (404, malformed HTTP, too many
    // connections) counts for every instance on the listener.
    const unsigned code = static_cast<unsigned>(status);
    if (route_) {
      route_->with_host([code](const Host& h) { count_response(h, code); });
    } else {
      listener_.for_each_host([code](const Host& h) { count_response(h, code); });
    }
    stream_.expires_after(route_ ? route_->timeout : listener_.header_timeout);
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&Session::on_write, shared_from_this(), close_after));
  }

  void on_write(bool close_after, beast::error_code ec, std::size_t /*bytes*/) {
    inflight_.reset();
    route_.reset();  // a closed instance's route is not kept by its idle connections
    if (ec) return close_socket();
    if (close_after) return linger();
    await_request();
  }

  void linger() {
    parser_.reset();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTimeout);
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(drain_), beast::bind_front_handler(&Session::on_drain, shared_from_this()));
  }

  void on_drain(beast::error_code ec, std::size_t bytes) {
    drained_ += bytes;
    if (ec || drained_ > kLingerMaxBytes) return close_socket();
    drain();
  }

  void close_socket() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  std::string body_too_large() const {
    return error_body("body exceeds max_body_bytes (" + std::to_string(route_->config.max_body_bytes) + ")");
  }

  beast::tcp_stream stream_;
  Listener& listener_;
  const Role role_;
  std::shared_ptr<Route> route_;                       // the instance of the current request's path
  BudgetReservation budget_;                           // of the current request's body
  std::optional<tp_common::Sha256Digest> replay_key_;  // the current request's webhook-id, remembered on 202
  bool write_key_checked_ = false;                     // Segment: the Authorization header held a known key
  SegmentCall segment_call_ = SegmentCall::batch;      // Segment: the endpoint of the current request
  int64_t replay_expiry_ = 0;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<PaddedBody>> parser_;
  http::response<http::empty_body> continue_;
  http::response<http::string_body> response_;
  InflightToken inflight_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  std::string cors_origin_;  // the request's Origin when the path allows it: echoed in the response
  std::array<char, 4096> drain_{};
  std::size_t drained_ = 0;
};

// The listeners of this process, by bound address. The plugin's .so holds it,
// so instances share a listener only within one hub process.
class Registry {
 public:
  static Registry& get() {
    static Registry* registry = new Registry();  // never destroyed: server threads may outlive static destructors
    return *registry;
  }

  struct Registration {
    std::shared_ptr<Listener> listener;
    std::shared_ptr<Route> route;
    size_t others = 0;
  };

  Registration open(const Config& config, Host host);
  void close(const std::shared_ptr<Listener>& listener, const std::shared_ptr<Route>& route) noexcept;

 private:
  // How long an open waits for a listener that its last instance is closing.
  static constexpr auto kRetireWait = std::chrono::seconds(30);

  std::mutex mu_;
  std::condition_variable cv_;  // a retiring listener left
  std::map<std::string, std::shared_ptr<Listener>> listeners_;
};

}  // namespace

Listener::Listener(const Config& config, const net::ip::address& address, const std::string& hint)
    : header_timeout(config.header_timeout_seconds),
      idle_timeout(config.idle_timeout_seconds),
      budget(config.max_inflight_bytes),
      settings_(config),
      ioc_(std::make_unique<net::io_context>(config.threads)) {
  auto fail = [&](const char* what, const beast::error_code& ec) {
    throw RetryableError("webhook: cannot " + std::string(what) + " " + config.listen + ": " + ec.message() + hint);
  };
  beast::error_code ec;
  const tcp::endpoint endpoint(address, config.port);
  acceptor_.emplace(net::make_strand(*ioc_));
  acceptor_->open(endpoint.protocol(), ec);
  if (ec) fail("open a socket for", ec);
  acceptor_->set_option(net::socket_base::reuse_address(true), ec);
  acceptor_->bind(endpoint, ec);
  if (ec) fail("bind", ec);
  acceptor_->listen(net::socket_base::max_listen_connections, ec);
  if (ec) fail("listen on", ec);
  local_ = acceptor_->local_endpoint(ec);
  if (ec) fail("read the local address of", ec);
  key_ = format_endpoint(local_.address(), local_.port());
  retry_timer_.emplace(acceptor_->get_executor());
}

Listener::~Listener() {
  close_acceptor();
  stop_threads(nullptr);
}

void Listener::start() {
  work_.emplace(ioc_->get_executor());
  do_accept();
  running_ = true;
  try {
    for (unsigned i = 0; i < settings_.threads; ++i) threads_.emplace_back([this] { run(); });
  } catch (...) {
    close_acceptor();
    stop_threads(nullptr);
    throw;
  }
}

void Listener::run() noexcept {
  for (;;) {
    try {
      ioc_->run();
      return;
    } catch (const std::exception& e) {
      const std::string message = std::string("webhook: unexpected exception in a server thread: ") + e.what();
      for_each_host([&](const Host& h) { h.error(message); });
    } catch (...) {
    }
  }
}

void Listener::do_accept() {
  acceptor_->async_accept(net::make_strand(*ioc_), beast::bind_front_handler(&Listener::on_accept, this));
}

void Listener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_->is_open()) return;
  if (ec) {
    // E.g. out of file descriptors: back off instead of spinning.
    retry_timer_->expires_after(std::chrono::milliseconds(50));
    retry_timer_->async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && acceptor_->is_open()) do_accept();
    });
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  try {
    if (try_enter_connection()) {
      std::shared_ptr<Session> session;
      try {
        session = std::make_shared<Session>(std::move(socket), *this, Session::Role::serve);
      } catch (...) {
        leave_connection();
        throw;
      }
      session->start();
    } else {
      // Over max_connections: answer 503 and close; the others keep being served.
      for_each_host([](const Host& h) { h.counter_add("webhook_connections_refused_total", "", 1); });
      if (refusing.fetch_add(1) < kMaxRefusingSessions) {
        std::shared_ptr<Session> session;
        try {
          session = std::make_shared<Session>(std::move(socket), *this, Session::Role::refuse);
        } catch (...) {
          refusing.fetch_sub(1);
          throw;
        }
        session->start();
      } else {
        refusing.fetch_sub(1);
        socket.close(ignored);
      }
    }
  } catch (const std::exception&) {
    // Out of memory: drop this connection, keep accepting.
  }
  do_accept();
}

void Listener::close_acceptor() noexcept {
  if (!running_.exchange(false)) return;
  try {
    net::post(acceptor_->get_executor(), [this] {
      beast::error_code ignored;
      acceptor_->close(ignored);
      retry_timer_->cancel();
    });
  } catch (...) {
  }
}

void Listener::stop_threads(Route* last) noexcept {
  if (stopped_ || !ioc_) return;
  stopped_ = true;
  work_.reset();
  ioc_->stop();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  // No handler runs any more: release the port now (the close posted by
  // close_acceptor() may not have run), so the address can be bound again.
  beast::error_code ignored;
  if (acceptor_) acceptor_->close(ignored);
  if (retry_timer_) retry_timer_->cancel();
  // No new emits can start now; done() callbacks still owed post into the
  // io_context, so it must not be destroyed before they have returned.
  if (!callbacks->wait_idle(kStopDrainTimeout)) {
    // Keep it (and the sessions it holds) alive rather than risk a
    // use-after-free; the posted handlers never run.
    if (last != nullptr) {
      try {
        last->with_host([](const Host& h) { h.warn("webhook: stopped with unacknowledged requests"); });
      } catch (...) {
      }
    }
    (void)ioc_.release();
  }
}

namespace {

std::string instance_name(const Host& host) {
  try {
    return host.config("instance").value_or("");
  } catch (...) {
    return {};
  }
}

Registry::Registration Registry::open(const Config& config, Host host) {
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(config.host, ec);
  if (ec) throw ConfigError("webhook config: 'listen' has an invalid address: " + config.host);
  auto route = std::make_shared<Route>(config, host, instance_name(host));

  std::unique_lock<std::mutex> lock(mu_);
  std::string hint;
  if (config.port != 0) {
    const std::string key = format_endpoint(address, config.port);
    const auto deadline = std::chrono::steady_clock::now() + kRetireWait;
    for (;;) {
      auto it = listeners_.find(key);
      if (it == listeners_.end()) break;
      Listener& listener = *it->second;
      if (listener.retiring) {
        // Its last instance is closing it: bind anew once it is gone.
        if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
          auto again = listeners_.find(key);
          if (again != listeners_.end() && again->second->retiring)
            throw RetryableError("webhook: the listener on " + key + " is still shutting down; try again");
        }
        continue;
      }
      std::shared_ptr<Route> other = listener.any_route();
      const std::string owner = other ? other->describe() : std::string("another webhook instance");
      for (const std::string& path : route->paths)
        if (std::shared_ptr<Route> taken = listener.find(path))
          throw ConfigError("webhook config: 'path' " + path + " on " + key + " is already served by " +
                            taken->describe() +
                            "; webhook instances that share a listener (the same 'listen') need different paths");
      for (const SocketSetting& s : kSocketSettings) {
        const uint64_t mine = s.get(config), theirs = s.get(listener.settings());
        if (mine != theirs)
          throw ConfigError("webhook config: '" + std::string(s.key) + "' is " + std::to_string(mine) +
                            ", but the listener on " + key + ", which this instance shares with " + owner + ", has " +
                            std::to_string(theirs) +
                            "; threads, max_connections, header_timeout_seconds, idle_timeout_seconds and "
                            "max_inflight_bytes belong to the socket and must be the same in every instance on "
                            "one address");
      }
      Registration r{it->second, route, listener.route_count()};
      listener.add(route);
      return r;
    }
    // Another address of this process on the same port (0.0.0.0 and
    // 127.0.0.1, say) cannot be bound beside it: say which.
    for (const auto& [other_key, listener] : listeners_) {
      if (listener->port() != config.port) continue;
      std::shared_ptr<Route> other = listener->any_route();
      hint = " (" + (other ? other->describe() : std::string("another webhook instance")) + " listens on " + other_key +
             "; give the same 'listen' to share its listener)";
      break;
    }
  }
  auto listener = std::make_shared<Listener>(config, address, hint);
  listener->add(route);
  listener->start();  // on failure the listener is destroyed, which stops it
  listeners_[listener->key()] = listener;
  return Registration{listener, route, 0};
}

void Registry::close(const std::shared_ptr<Listener>& listener, const std::shared_ptr<Route>& route) noexcept {
  bool last_path = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_path = listener->remove(*route) == 0;
    ++listener->draining;
    if (last_path) listener->retiring = true;  // no instance joins it any more
  }
  if (last_path) listener->close_acceptor();
  // Let the requests whose records were emitted get their response. The
  // server threads run until every instance closing concurrently has drained.
  (void)route->responses->wait_idle(kStopDrainTimeout);
  bool stop = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop = --listener->draining == 0 && listener->retiring;
  }
  if (stop) listener->stop_threads(route.get());
  route->gate.close();  // no host call of this instance from here on
  if (!stop) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = listeners_.find(listener->key());
    if (it != listeners_.end() && it->second == listener) listeners_.erase(it);
  }
  cv_.notify_all();
}

}  // namespace

HttpServer::HttpServer(const Config& config, Host host) {
  Registry::Registration r = Registry::get().open(config, host);
  listener_ = std::move(r.listener);
  route_ = std::move(r.route);
  shared_with_ = r.others;
}

HttpServer::~HttpServer() { stop(); }

uint16_t HttpServer::port() const noexcept { return listener_->port(); }

std::string HttpServer::endpoint() const { return listener_->key(); }

bool HttpServer::running() const noexcept { return !stopped_.load() && listener_->running(); }

void HttpServer::stop() noexcept {
  if (stopped_.exchange(true)) return;
  Registry::get().close(listener_, route_);
}

}  // namespace touchpoint::webhook
