#include "unsubscribe_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <thread>

#include "hash.hpp"
#include "intake.hpp"
#include "unsubscribe_token.hpp"

namespace tp_email::intake {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::string_view kPrefix = "/u/";
constexpr std::size_t kHeaderLimit = 8 * 1024;

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

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const UnsubscribeConfig& cfg, const std::string& secret,
          const UnsubscribeServer::Emit& emit)
      : stream_(std::move(socket)), cfg_(cfg), secret_(secret), emit_(emit) {}

  void start() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(cfg_.max_body_bytes);
    // One deadline for the whole request: a slow sender cannot hold the connection.
    stream_.expires_after(cfg_.timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) return reply(http::status::payload_too_large, "Too large", "Request too large.");
    if (ec == http::error::header_limit) return reply(http::status::bad_request, "Bad request", "Header too large.");
    if (ec) return;  // timeout, reset, garbage: just close
    const auto& req = parser_->get();
    const std::string_view target(req.target().data(), req.target().size());
    if (target.substr(0, kPrefix.size()) != kPrefix) return reply(http::status::not_found, "Not found", "Not found.");
    const std::string_view token = target.substr(kPrefix.size());
    const TokenResult t = check_unsubscribe_token(secret_, token);
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
    bool taken = false;
    try {
      taken = emit_(to_record(unsubscribe_response(t.contact_id, "one-click")));
    } catch (...) {
      taken = false;
    }
    if (!taken) return reply(http::status::service_unavailable, "Try again", "Please try again later.");
    reply(http::status::ok, "Unsubscribed", "<p>You have been unsubscribed.</p>");
  }

  void reply(http::status status, std::string_view title, std::string_view body) {
    auto res = std::make_shared<http::response<http::string_body>>(status, 11);
    res->set(http::field::content_type, "text/html; charset=utf-8");
    res->set(http::field::cache_control, "no-store");
    res->set(http::field::connection, "close");
    res->body() = page(title, body);
    res->prepare_payload();
    res->keep_alive(false);
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const UnsubscribeConfig& cfg_;
  const std::string& secret_;
  const UnsubscribeServer::Emit& emit_;
};

}  // namespace

struct UnsubscribeServer::Impl {
  UnsubscribeConfig cfg;
  std::string secret;
  Emit emit;
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  bool stopped = false;

  void accept() {
    acceptor.async_accept(io, [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      } else {
        std::make_shared<Session>(std::move(socket), cfg, secret, emit)->start();
      }
      accept();
    });
  }
};

UnsubscribeServer::UnsubscribeServer(UnsubscribeConfig cfg, std::string secret, Emit emit)
    : impl_(std::make_unique<Impl>()) {
  impl_->cfg = std::move(cfg);
  impl_->secret = std::move(secret);
  impl_->emit = std::move(emit);
  beast::error_code ec;
  const auto address = net::ip::make_address(impl_->cfg.address, ec);
  if (ec) throw touchpoint::ConfigError("unsubscribe: bad listen address " + impl_->cfg.address);
  const tcp::endpoint endpoint(address, impl_->cfg.port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw touchpoint::RetryableError("unsubscribe: cannot listen on " + impl_->cfg.address + ": " + ec.message());
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

UnsubscribeServer::~UnsubscribeServer() { stop(); }

std::uint16_t UnsubscribeServer::port() const noexcept {
  beast::error_code ec;
  const auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void UnsubscribeServer::stop() noexcept {
  if (impl_->stopped) return;
  impl_->stopped = true;
  // Open sessions are dropped with the io_context; the thread is joined before anything is freed.
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace tp_email::intake
