// The plugin against a hand-written host whose done() callbacks the test
// controls: the 202 must wait for done(TP_OK), an error from done() is a 500,
// and close() must not return while done() callbacks are still owed.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <touchpoint/abi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace touchpoint::webhook::test {
namespace {

using namespace std::chrono_literals;

class ManualHost {
 public:
  struct Owed {
    tp_emit_done_fn done = nullptr;
    void* user = nullptr;
    size_t count = 0;
  };

  ManualHost() {
    api_.size = sizeof(api_);
    api_.abi_version = TP_ABI_VERSION;
    api_.host_version = tp_str{"manual-host", 11};
    api_.log = [](tp_host_ctx* c, int32_t, tp_str m) {
      ManualHost* h = self(c);
      ++h->calls_;
      std::lock_guard<std::mutex> lock(h->mu_);
      h->logs_.emplace_back(m.data, m.len);
    };
    api_.config_get = [](tp_host_ctx*, tp_str, tp_str*) -> tp_status { return TP_STATUS_PERMANENT; };
    api_.counter_add = [](tp_host_ctx* c, tp_str, tp_str, double) { ++self(c)->calls_; };
    api_.gauge_set = [](tp_host_ctx* c, tp_str name, tp_str, double v) {
      ++self(c)->calls_;
      if (std::string_view(name.data, name.len) == "webhook_listening_port") self(c)->port_ = static_cast<uint16_t>(v);
    };
    api_.emit = [](tp_host_ctx* c, const tp_emit* unit, tp_emit_done_fn done, void* user, tp_error* err) -> tp_status {
      ManualHost* h = self(c);
      ++h->calls_;
      if (h->refuse_ != TP_OK) {
        size_t n = std::min(h->refuse_message_.size(), err->capacity);
        std::memcpy(err->message, h->refuse_message_.data(), n);
        err->len = n;
        return h->refuse_;
      }
      if (h->done_inline_) {
        done(user, TP_OK, tp_str{nullptr, 0});  // completion before emit even returns
        return TP_OK;
      }
      {
        std::lock_guard<std::mutex> lock(h->mu_);
        h->owed_.push_back(Owed{done, user, unit->count});
      }
      h->cv_.notify_all();
      return TP_OK;
    };
    api_.checkpoint_get = [](tp_host_ctx*, tp_str* out) -> tp_status {
      *out = tp_str{nullptr, 0};
      return TP_OK;
    };
    api_.post = [](tp_host_ctx*, tp_task_fn, void*) -> tp_status { return TP_STATUS_SHUTTING_DOWN; };

    void* lib = dlopen(TP_WEBHOOK_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) throw std::runtime_error(dlerror());
    auto negotiate = reinterpret_cast<tp_plugin_negotiate_fn>(dlsym(lib, TP_PLUGIN_ENTRY_SYMBOL));
    if (negotiate == nullptr) throw std::runtime_error("no entry point");
    tp_negotiation n{sizeof(n), TP_MAKE_VERSION(1, 0), TP_ABI_VERSION, &api_};
    info_.size = sizeof(info_);
    if (negotiate(&n, &info_, nullptr) != TP_OK) throw std::runtime_error("negotiation failed");
  }

  ~ManualHost() { close(); }

  const tp_plugin_info& info() const { return info_; }

  void open(bool done_inline = false) {
    done_inline_ = done_inline;
    std::string message;
    ASSERT_EQ(try_open(R"({"listen":"127.0.0.1:0"})", &message), TP_OK) << message;
    ASSERT_GT(port_.load(), 0);
  }

  tp_status try_open(std::string_view config, std::string* message) {
    char buf[512];
    tp_error err{sizeof(err), buf, sizeof(buf), 0};
    tp_status status = info_.vtable->open(&api_, reinterpret_cast<tp_host_ctx*>(this),
                                          tp_str{config.data(), config.size()}, &instance_, &err);
    message->assign(buf, err.len);
    return status;
  }

  uint16_t port() const { return port_.load(); }

  /// Makes emit() refuse with `status` and `message` (TP_OK: accept again).
  void refuse_emits(tp_status status, std::string message) {
    refuse_ = status;
    refuse_message_ = std::move(message);
  }

  std::string logs() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string all;
    for (const std::string& line : logs_) all += line + "\n";
    return all;
  }

  void close() {
    if (instance_ != nullptr) info_.vtable->close(instance_);
    instance_ = nullptr;
  }

  bool wait_owed(size_t n, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return owed_.size() >= n; });
  }
  Owed take() {
    std::lock_guard<std::mutex> lock(mu_);
    Owed o = owed_.front();
    owed_.erase(owed_.begin());
    return o;
  }

  std::string url(const std::string& path = "/ingest") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  /// Host calls (log, counter, gauge, emit) made since the last reset_calls().
  size_t calls() const { return calls_.load(); }
  void reset_calls() { calls_ = 0; }

 private:
  static ManualHost* self(tp_host_ctx* c) { return reinterpret_cast<ManualHost*>(c); }

  tp_host_api api_{};
  tp_plugin_info info_{};
  tp_instance* instance_ = nullptr;
  std::atomic<uint16_t> port_{0};
  std::atomic<size_t> calls_{0};
  bool done_inline_ = false;
  std::atomic<tp_status> refuse_{TP_OK};
  std::string refuse_message_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Owed> owed_;
  std::vector<std::string> logs_;
};

std::future<HttpResponse> post_async(const std::string& url, const std::string& body) {
  return std::async(std::launch::async, [url, body] {
    HttpClient client;
    return client.post(url, body);
  });
}

TEST(WebhookManualHost, NegotiatesAsASource) {
  ManualHost host;
  EXPECT_EQ(std::string(host.info().name.data, host.info().name.len), "webhook");
  EXPECT_EQ(host.info().capabilities, TP_CAP_SOURCE);
  EXPECT_EQ(host.info().abi_version, TP_ABI_VERSION);
}

TEST(WebhookManualHost, OpenFailuresAreReported) {
  ManualHost host;
  std::string message;
  EXPECT_EQ(host.try_open(R"({"listen":"127.0.0.1:0","threads":0})", &message), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(message.find("'threads'"), std::string::npos) << message;
  EXPECT_EQ(host.try_open(R"({"listen":"127.0.0.1:0","port_file":"/nonexistent-dir/x/port"})", &message),
            TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(message.find("'port_file'"), std::string::npos) << message;

  // A port some other socket (not a webhook instance of this process) listens on.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string listen = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  EXPECT_EQ(host.try_open(R"({"listen":")" + listen + "\"}", &message), TP_STATUS_RETRYABLE);
  EXPECT_NE(message.find("cannot bind " + listen), std::string::npos) << message;
  ::close(fd);
}

TEST(WebhookManualHost, ResponseWaitsForDurability) {
  ManualHost host;
  host.open();
  auto response = post_async(host.url(), R"([{"a":1},{"a":2}])");
  ASSERT_TRUE(host.wait_owed(1));
  EXPECT_EQ(response.wait_for(300ms), std::future_status::timeout) << "answered before the unit was durable";
  ManualHost::Owed owed = host.take();
  EXPECT_EQ(owed.count, 2u);
  std::thread([owed] { owed.done(owed.user, TP_OK, tp_str{nullptr, 0}); }).join();  // from a "host thread"
  HttpResponse res = response.get();
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(res.body, R"({"accepted":2})");
}

TEST(WebhookManualHost, DoneErrorIs500WithoutTheHostsMessage) {
  ManualHost host;
  host.open();
  auto response = post_async(host.url(), R"({"a":1})");
  ASSERT_TRUE(host.wait_owed(1));
  ManualHost::Owed owed = host.take();
  const std::string detail = "journal full: /var/lib/touchpoint/journal/000017.seg: No space left on device";
  owed.done(owed.user, TP_STATUS_RETRYABLE, tp_str{detail.data(), detail.size()});
  HttpResponse res = response.get();
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.body.find("journal"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find("internal error"), std::string::npos) << res.body;
  EXPECT_NE(host.logs().find(detail), std::string::npos) << "the detail goes to the hub's log: " << host.logs();
}

TEST(WebhookManualHost, UnexpectedEmitStatusIs500WithoutTheHostsMessage) {
  ManualHost host;
  host.open();
  const std::string detail = "std::bad_alloc in /srv/hub/secret-path";
  host.refuse_emits(TP_STATUS_INTERNAL, detail);
  HttpClient client;
  HttpResponse res = client.post(host.url(), R"({"a":1})");
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.body.find("bad_alloc"), std::string::npos) << res.body;
  EXPECT_EQ(res.body.find("secret"), std::string::npos) << res.body;
  EXPECT_NE(host.logs().find(detail), std::string::npos) << host.logs();
  // A transient refusal is a 503 with a retry hint, again without the detail.
  host.refuse_emits(TP_STATUS_RETRYABLE, detail);
  res = client.post(host.url(), R"({"a":1})");
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.headers["retry-after"], "1");
  EXPECT_EQ(res.body.find("secret"), std::string::npos) << res.body;
}

TEST(WebhookManualHost, DoneInsideEmitIsFine) {
  ManualHost host;
  host.open(/*done_inline=*/true);
  HttpClient client;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client.post(host.url(), R"({"a":1})").status, 202);
}

TEST(WebhookManualHost, CloseWaitsForOwedCallbacks) {
  ManualHost host;
  host.open();
  auto response = post_async(host.url(), R"({"a":1})");
  ASSERT_TRUE(host.wait_owed(1));
  ManualHost::Owed owed = host.take();
  std::thread late([owed] {
    std::this_thread::sleep_for(300ms);
    owed.done(owed.user, TP_OK, tp_str{nullptr, 0});
  });
  auto start = std::chrono::steady_clock::now();
  host.close();
  auto took = std::chrono::steady_clock::now() - start;
  late.join();
  EXPECT_GE(took, 250ms) << "close() returned while a done() callback was owed";
  EXPECT_LT(took, 5s);
  EXPECT_EQ(response.get().status, 202) << "the durable request still got its answer";
}

// Two instances on one listener: closing one waits for its own owed
// request only, the other keeps serving meanwhile, and the closed one gets
// no host call afterwards.
TEST(WebhookManualHost, ClosingASharedInstanceWaitsForItsOwnRequestsWhileTheOtherServes) {
  ManualHost first;
  first.open();
  ManualHost second;
  std::string message;
  ASSERT_EQ(second.try_open(R"({"listen":"127.0.0.1:)" + std::to_string(first.port()) + R"(","path":"/b"})", &message),
            TP_OK)
      << message;
  ASSERT_EQ(second.port(), first.port());

  auto owed_response = post_async(first.url(), R"({"a":1})");
  ASSERT_TRUE(first.wait_owed(1));
  auto closing = std::async(std::launch::async, [&] { first.close(); });
  EXPECT_EQ(closing.wait_for(200ms), std::future_status::timeout) << "close() returned while a done() was owed";

  // Meanwhile the other instance serves, and the closing one's path is gone.
  auto other = post_async(second.url("/b"), R"({"b":1})");
  ASSERT_TRUE(second.wait_owed(1));
  ManualHost::Owed b = second.take();
  b.done(b.user, TP_OK, tp_str{nullptr, 0});
  EXPECT_EQ(other.get().status, 202);
  HttpClient client;
  EXPECT_EQ(client.post(first.url(), R"({"a":2})").status, 503);  // its path is stopping: retry
  EXPECT_EQ(first.wait_owed(2, 0ms), false) << "nothing emitted to the closing instance";

  ManualHost::Owed a = first.take();
  a.done(a.user, TP_OK, tp_str{nullptr, 0});
  closing.get();
  EXPECT_EQ(owed_response.get().status, 202) << "the durable request still got its answer";

  first.reset_calls();
  EXPECT_EQ(client.post(first.url(), "{}").status, 503);
  EXPECT_EQ(client.post(first.url("/nowhere"), "{}").status, 404);
  RawSocket garbage(first.port());
  garbage.send_all("BREW /b HTCPCP/1.0\r\n\r\n");
  (void)garbage.read_until_close(2000ms);
  auto again = post_async(second.url("/b"), R"({"b":2})");
  ASSERT_TRUE(second.wait_owed(1));
  b = second.take();
  b.done(b.user, TP_OK, tp_str{nullptr, 0});
  EXPECT_EQ(again.get().status, 202);
  EXPECT_EQ(first.calls(), 0u) << "no host call of a closed instance";
}

// The last instance of a listener closes while another one is still waiting
// for its owed request: the server threads keep running until that request
// got its answer, so neither close waits in vain.
TEST(WebhookManualHost, LastCloseWaitsForAnotherInstanceStillDraining) {
  ManualHost first;
  first.open();
  ManualHost second;
  std::string message;
  ASSERT_EQ(second.try_open(R"({"listen":"127.0.0.1:)" + std::to_string(first.port()) + R"(","path":"/b"})", &message),
            TP_OK)
      << message;

  auto owed_response = post_async(first.url(), R"({"a":1})");
  ASSERT_TRUE(first.wait_owed(1));
  auto closing_first = std::async(std::launch::async, [&] { first.close(); });
  EXPECT_EQ(closing_first.wait_for(100ms), std::future_status::timeout);
  auto closing_second = std::async(std::launch::async, [&] { second.close(); });  // the last path

  const auto started = std::chrono::steady_clock::now();
  ManualHost::Owed a = first.take();
  a.done(a.user, TP_OK, tp_str{nullptr, 0});
  EXPECT_EQ(owed_response.get().status, 202) << "answered although the last instance closed meanwhile";
  closing_first.get();
  closing_second.get();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "a close waited for a response that could not come";
  RawSocket refused(first.port());
  EXPECT_FALSE(refused.connected()) << "the listener stopped with its last instance";
}

}  // namespace
}  // namespace touchpoint::webhook::test
