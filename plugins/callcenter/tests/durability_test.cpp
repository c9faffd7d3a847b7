// The webhook against a hand-written host whose done() callbacks the test controls: the 200
// must wait for done(TP_OK), and a done() with an error is a 503 the sender retries.
#include <dlfcn.h>
#include <touchpoint/abi.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "support.hpp"
#include "tp_common/signature.hpp"

namespace touchpoint::callcenter::test {
namespace {

using namespace std::chrono_literals;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

class ManualHost {
 public:
  struct Owed {
    tp_emit_done_fn done = nullptr;
    void* user = nullptr;
  };

  ManualHost() {
    api_.size = sizeof(api_);
    api_.abi_version = TP_ABI_VERSION;
    api_.host_version = tp_str{"manual-host", 11};
    api_.log = [](tp_host_ctx*, int32_t, tp_str) {};
    api_.config_get = [](tp_host_ctx*, tp_str, tp_str*) -> tp_status { return TP_STATUS_PERMANENT; };
    api_.counter_add = [](tp_host_ctx*, tp_str, tp_str, double) {};
    api_.gauge_set = [](tp_host_ctx* c, tp_str name, tp_str, double v) {
      if (std::string_view(name.data, name.len) == "callcenter_webhook_port") self(c)->port_ = static_cast<int>(v);
    };
    api_.emit = [](tp_host_ctx* c, const tp_emit*, tp_emit_done_fn done, void* user, tp_error*) -> tp_status {
      ManualHost* h = self(c);
      {
        std::lock_guard<std::mutex> lock(h->mu_);
        h->owed_.push_back(Owed{done, user});
      }
      h->cv_.notify_all();
      return TP_OK;
    };
    api_.checkpoint_get = [](tp_host_ctx*, tp_str* out) -> tp_status {
      *out = tp_str{nullptr, 0};
      return TP_OK;
    };
    api_.post = [](tp_host_ctx*, tp_task_fn, void*) -> tp_status { return TP_STATUS_SHUTTING_DOWN; };
    void* lib = dlopen(TP_CALLCENTER_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) throw std::runtime_error(dlerror());
    auto negotiate = reinterpret_cast<tp_plugin_negotiate_fn>(dlsym(lib, TP_PLUGIN_ENTRY_SYMBOL));
    tp_negotiation n{sizeof(n), TP_MAKE_VERSION(1, 0), TP_ABI_VERSION, &api_};
    info_.size = sizeof(info_);
    if (negotiate == nullptr || negotiate(&n, &info_, nullptr) != TP_OK) throw std::runtime_error("negotiation");
    const std::string config = R"({"webhook":{"listen":"127.0.0.1:0","secret":")" + std::string(kSecret) + R"("}})";
    char buf[512];
    tp_error err{sizeof(err), buf, sizeof(buf), 0};
    if (info_.vtable->open(&api_, reinterpret_cast<tp_host_ctx*>(this), tp_str{config.data(), config.size()},
                           &instance_, &err) != TP_OK)
      throw std::runtime_error("open: " + std::string(buf, err.len));
  }
  ~ManualHost() {
    // Nothing may stay owed at close: the plugin waits for its answers.
    complete_all(TP_STATUS_SHUTTING_DOWN);
    info_.vtable->close(instance_);
  }

  int port() const { return port_; }
  bool wait_owed(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return owed_.size() >= n; });
  }
  void complete_all(tp_status status) {
    std::vector<Owed> owed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      owed.swap(owed_);
    }
    for (const Owed& o : owed) o.done(o.user, status, tp_str{"disk full", 9});
  }

 private:
  static ManualHost* self(tp_host_ctx* c) { return reinterpret_cast<ManualHost*>(c); }
  tp_host_api api_{};
  tp_plugin_info info_{};
  tp_instance* instance_ = nullptr;
  std::atomic<int> port_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Owed> owed_;
};

std::future<HttpResponse> post_async(int port, const std::string& id) {
  return std::async(std::launch::async, [port, id] {
    const std::string body = R"({"contact_id":"c-1","outcome":"do_not_call"})";
    const std::string stamp = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    tp_common::SignatureVerifier signer(kSecret, 300);
    return http_post("http://127.0.0.1:" + std::to_string(port) + "/dispositions", body,
                     {"Content-Type: application/json", "webhook-id: " + id, "webhook-timestamp: " + stamp,
                      "webhook-signature: " + signer.sign(id, stamp, body)});
  });
}

TEST(Durability, The200WaitsForDone) {
  ManualHost host;
  ASSERT_GT(host.port(), 0);
  auto response = post_async(host.port(), "msg_durable");
  ASSERT_TRUE(host.wait_owed(1));
  // Emitted, not yet durable: no answer may have been sent.
  EXPECT_EQ(response.wait_for(100ms), std::future_status::timeout);
  host.complete_all(TP_OK);
  const HttpResponse res = response.get();
  EXPECT_EQ(res.status, 200) << res.error;
  EXPECT_EQ(res.body, R"({"accepted":1})");
}

TEST(Durability, AFailedDoneIs503AndTheRetryIsAccepted) {
  ManualHost host;
  auto response = post_async(host.port(), "msg_lost");
  ASSERT_TRUE(host.wait_owed(1));
  host.complete_all(TP_STATUS_INTERNAL);
  EXPECT_EQ(response.get().status, 503);
  auto retry = post_async(host.port(), "msg_lost");
  ASSERT_TRUE(host.wait_owed(1)) << "the id was not remembered: the retry is emitted";
  host.complete_all(TP_OK);
  EXPECT_EQ(retry.get().status, 200);
}

}  // namespace
}  // namespace touchpoint::callcenter::test
