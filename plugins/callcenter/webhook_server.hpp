// The disposition webhook: an HTTP/1.1 listener (Boost.Beast, one server
// thread) for Standard Webhooks signed POSTs. A request's dispositions are
// emitted as one unit and answered 200 only when the host reports the unit
// durable; the approach follows plugins/webhook/http_server.cpp, reduced to
// one instance per listener.
#ifndef TOUCHPOINT_CALLCENTER_WEBHOOK_SERVER_HPP
#define TOUCHPOINT_CALLCENTER_WEBHOOK_SERVER_HPP

#include <cstdint>
#include <memory>
#include <touchpoint/plugin.hpp>

#include "config.hpp"
#include "disposition.hpp"

namespace touchpoint::callcenter {

/// At most this many dispositions in one request.
inline constexpr size_t kMaxDispositionsPerRequest = 10000;

class WebhookServer {
 public:
  /// Binds and starts serving; throws RetryableError when the address cannot be bound.
  WebhookServer(const Webhook& config, const OutcomeMap& outcome_map, Host host);
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  uint16_t port() const noexcept;
  bool running() const noexcept;
  /// Stops accepting, waits (bounded) for requests whose unit was emitted to be answered, joins
  /// the thread. No host call happens after it returns. Idempotent.
  void stop() noexcept;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_WEBHOOK_SERVER_HPP
