#include "link_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>
#include <vector>

#include "hash.hpp"
#include "intake.hpp"
#include "tracking_token.hpp"
#include "unsubscribe_token.hpp"

namespace tp_email::intake {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::string_view kUnsubscribe = "/u/";
constexpr std::string_view kClick = "/c/";
constexpr std::string_view kOpen = "/o/";
constexpr std::string_view kGifSuffix = ".gif";
constexpr std::size_t kHeaderLimit = 8 * 1024;
constexpr std::size_t kMaxUserAgentBytes = 256;

// The smallest transparent GIF: 1x1, one colour, transparent.
constexpr unsigned char kPixel[] = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80,
                                    0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04,
                                    0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01,
                                    0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

std::string page(std::string_view title, std::string_view body) {
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + std::string(title) + "</title></head><body>" +
         std::string(body) + "</body></html>\n";
}

// RFC 8058: the form body carries exactly the field List-Unsubscribe=One-Click.
bool one_click_body(std::string_view body) {
  std::size_t pos = 0;
  while (pos <= body.size()) {
    const std::size_t amp = body.find('&', pos);
    std::string_view field = body.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    while (!field.empty() && (field.back() == '\r' || field.back() == '\n')) field.remove_suffix(1);
    if (field == "List-Unsubscribe=One-Click") return true;
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return false;
}

std::string rfc3339_utc(int64_t unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The `unsubscribe` response record (detail.method `one-click`), with an id
// stable per contact so repeated clicks are applied once.
Response unsubscribe_response(const std::string& contact_id, std::string_view method) {
  Response r;
  r.id = "email-" + detail::sha256_hex("unsubscribe\n" + contact_id).substr(0, 32);
  r.contact_id = contact_id;
  r.kind = "unsubscribe";
  r.method = std::string(method);
  return r;
}

// A `clicked` or `opened` response. The id is stable per contact, kind, URL
// and person-or-machine: the first of each is applied, and a scanner's hit
// does not hide the person's that follows.
Response tracking_response(std::string_view kind, const TrackingToken& t, std::string reason,
                           std::string_view user_agent, int64_t now_unix_s) {
  Response r;
  r.kind = std::string(kind);
  r.contact_id = t.contact_id;
  r.url = t.url;
  r.machine = !reason.empty();
  r.machine_reason = std::move(reason);
  r.user_agent = std::string(user_agent.substr(0, kMaxUserAgentBytes));
  r.at = rfc3339_utc(now_unix_s);
  r.id = "email-" +
         detail::sha256_hex(r.kind + "\n" + r.contact_id + "\n" + r.url + "\n" + (r.machine ? "machine" : "person"))
             .substr(0, 32);
  return r;
}

}  // namespace

namespace {

// What the sessions share: the configuration, the emit callback and the
// recent hits.
struct Shared {
  LinkServerConfig cfg;
  std::string secret;
  LinkServer::Emit emit;
  LinkServer::Clock clock;

  std::mutex recent_mutex;
  std::unordered_set<std::string> recent;
  std::deque<std::string> recent_order;

  /// True the first time `id` is seen among the last cfg.recent_hits ids.
  bool first_hit(const std::string& id) {
    std::lock_guard<std::mutex> lock(recent_mutex);
    if (cfg.recent_hits == 0) return true;
    if (!recent.insert(id).second) return false;
    recent_order.push_back(id);
    if (recent_order.size() > cfg.recent_hits) {
      recent.erase(recent_order.front());
      recent_order.pop_front();
    }
    return true;
  }
  /// A hit the hub did not take is forgotten, so that the next one tries again.
  void forget(const std::string& id) {
    std::lock_guard<std::mutex> lock(recent_mutex);
    recent.erase(id);
  }
  bool emit_record(const touchpoint::Record& r) {
    try {
      return emit(r);
    } catch (...) {
      return false;
    }
  }
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Shared& server) : stream_(std::move(socket)), server_(server) {}

  void start() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(server_.cfg.max_body_bytes);
    // One deadline for the whole request: a slow sender cannot hold the connection.
    stream_.expires_after(server_.cfg.timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  using Response = http::response<http::string_body>;

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) return reply(http::status::payload_too_large, "Too large", "Request too large.");
    if (ec == http::error::header_limit) return reply(http::status::bad_request, "Bad request", "Header too large.");
    if (ec) return;  // timeout, reset, garbage: just close
    const auto& req = parser_->get();
    const std::string_view target(req.target().data(), req.target().size());
    if (target.substr(0, kUnsubscribe.size()) == kUnsubscribe) return unsubscribe(target.substr(kUnsubscribe.size()));
    std::string_view path = target.substr(0, target.find('?'));  // a proxy's query string is not part of the token
    if (path.substr(0, kClick.size()) == kClick) return click(path.substr(kClick.size()));
    if (path.substr(0, kOpen.size()) == kOpen) return open(path.substr(kOpen.size()));
    reply(http::status::not_found, "Not found", "Not found.");
  }

  void unsubscribe(std::string_view token) {
    const auto& req = parser_->get();
    const TokenResult t = check_unsubscribe_token(server_.secret, token);
    if (req.method() != http::verb::get && req.method() != http::verb::post)
      return reply(http::status::method_not_allowed, "Not allowed", "Use GET or POST.");
    if (t.check == TokenCheck::malformed)
      return reply(http::status::bad_request, "Invalid link", "This unsubscribe link is not valid.");
    if (t.check == TokenCheck::forged)
      return reply(http::status::not_found, "Unknown link", "This unsubscribe link is not known.");
    if (req.method() == http::verb::get) {
      // The token is c-, hex, '.', hex: safe to put into the form as it is.
      return reply(http::status::ok, "Unsubscribe",
                   "<p>Do you want to stop receiving these e-mails?</p><form method=\"post\" action=\"/u/" +
                       std::string(token) +
                       "\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
                       "<button type=\"submit\">Unsubscribe</button></form>");
    }
    if (!one_click_body(req.body()))
      return reply(http::status::bad_request, "Bad request", "Expected List-Unsubscribe=One-Click.");
    if (!server_.emit_record(to_record(unsubscribe_response(t.contact_id, "one-click"))))
      return reply(http::status::service_unavailable, "Try again", "Please try again later.");
    reply(http::status::ok, "Unsubscribed", "<p>You have been unsubscribed.</p>");
  }

  /// Checks the method and the token; on success records the hit. False when it replied with an error.
  bool record_hit(std::string_view kind, const TrackingToken& t) {
    const auto& req = parser_->get();
    const bool head = req.method() == http::verb::head;
    if (req.method() != http::verb::get && !head) {
      reply(http::status::method_not_allowed, "Not allowed", "Use GET.");
      return false;
    }
    if (t.check == TokenCheck::malformed) {
      reply(http::status::bad_request, "Invalid link", "This link is not valid.");
      return false;
    }
    if (t.check == TokenCheck::forged) {
      reply(http::status::not_found, "Unknown link", "This link is not known.");
      return false;
    }
    const int64_t now = server_.clock();
    const auto ua = req.find(http::field::user_agent);
    const std::string_view user_agent =
        ua == req.end() ? std::string_view() : std::string_view(ua->value().data(), ua->value().size());
    const touchpoint::Record record = to_record(tracking_response(
        kind, t, machine_reason(server_.cfg.machine, head, user_agent, t.sent_unix_s, now), user_agent, now));
    if (server_.first_hit(record.id) && !server_.emit_record(record)) server_.forget(record.id);
    return true;
  }

  void click(std::string_view token) {
    const TrackingToken t = check_click_token(server_.secret, token);
    if (!record_hit("clicked", t)) return;
    auto res = make(http::status::found);
    res->set(http::field::location, t.url);  // trackable_url(): no controls, no spaces
    res->set(http::field::content_type, "text/html; charset=utf-8");
    res->body() = page("Redirect", "<p>Continue to the <a href=\"" + escape(t.url) + "\">page</a>.</p>");
    send(std::move(res));
  }

  void open(std::string_view name) {
    if (name.size() < kGifSuffix.size() || name.substr(name.size() - kGifSuffix.size()) != kGifSuffix)
      return reply(http::status::not_found, "Not found", "Not found.");
    const TrackingToken t = check_open_token(server_.secret, name.substr(0, name.size() - kGifSuffix.size()));
    if (!record_hit("opened", t)) return;
    auto res = make(http::status::ok);
    res->set(http::field::content_type, "image/gif");
    res->body().assign(reinterpret_cast<const char*>(kPixel), sizeof kPixel);
    send(std::move(res));
  }

  static std::string escape(std::string_view s) {
    std::string out;
    for (const char c : s) {
      if (c == '&')
        out += "&amp;";
      else if (c == '"')
        out += "&quot;";
      else if (c == '<')
        out += "&lt;";
      else if (c == '>')
        out += "&gt;";
      else
        out.push_back(c);
    }
    return out;
  }

  std::shared_ptr<Response> make(http::status status) {
    auto res = std::make_shared<Response>(status, 11);
    res->set(http::field::cache_control, "no-store, private");
    // The token is the contact's: the target site must not see it as the referrer.
    res->set("Referrer-Policy", "no-referrer");
    return res;
  }

  void reply(http::status status, std::string_view title, std::string_view body) {
    auto res = make(status);
    res->set(http::field::content_type, "text/html; charset=utf-8");
    res->body() = page(title, body);
    send(std::move(res));
  }

  void send(std::shared_ptr<Response> res) {
    res->set(http::field::connection, "close");
    res->prepare_payload();
    res->keep_alive(false);
    if (parser_ && parser_->is_header_done() && parser_->get().method() == http::verb::head) res->body().clear();
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Shared& server_;
};

}  // namespace

struct LinkServer::Impl {
  Shared shared;
  net::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  bool stopped = false;

  void accept() {
    acceptor.async_accept(io, [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      } else {
        std::make_shared<Session>(std::move(socket), shared)->start();
      }
      accept();
    });
  }
};

LinkServer::LinkServer(LinkServerConfig cfg, std::string secret, Emit emit, Clock clock)
    : impl_(std::make_unique<Impl>()) {
  Shared& sh = impl_->shared;
  sh.cfg = std::move(cfg);
  sh.secret = std::move(secret);
  sh.emit = std::move(emit);
  sh.clock = clock ? std::move(clock) : Clock([] {
    return static_cast<int64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  });
  beast::error_code ec;
  const auto address = net::ip::make_address(sh.cfg.address, ec);
  if (ec) throw touchpoint::ConfigError("email links: bad listen address " + sh.cfg.address);
  const tcp::endpoint endpoint(address, sh.cfg.port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw touchpoint::RetryableError("email links: cannot listen on " + sh.cfg.address + ": " + ec.message());
  impl_->accept();
  const std::size_t n = std::max<std::size_t>(1, sh.cfg.threads);
  for (std::size_t i = 0; i < n; ++i) impl_->threads.emplace_back([impl = impl_.get()] { impl->io.run(); });
}

LinkServer::~LinkServer() { stop(); }

std::uint16_t LinkServer::port() const noexcept {
  beast::error_code ec;
  const auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void LinkServer::stop() noexcept {
  if (impl_->stopped) return;
  impl_->stopped = true;
  // Open sessions are dropped with the io_context; the threads are joined before anything is freed.
  impl_->io.stop();
  for (std::thread& t : impl_->threads)
    if (t.joinable()) t.join();
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace tp_email::intake
