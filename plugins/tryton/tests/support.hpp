// The tryton plugin's test support: a real trytond per test
// (tests/fixtures/tryton/trytond.sh) and a JSON-RPC client for the test's
// own changes and checks in Tryton.
#ifndef TOUCHPOINT_TRYTON_TESTS_SUPPORT_HPP
#define TOUCHPOINT_TRYTON_TESTS_SUPPORT_HPP

#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <touchpoint/testing.hpp>

#include "json_rpc.hpp"
#include "temp_dir.hpp"

namespace touchpoint::tryton::test {

inline int run(const std::string& cmd, std::string* out = nullptr) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    if (out) out->append(buf, n);
  const int st = ::pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/// A real Tryton server with its own SQLite database; stop() and start()
/// again keep the database and the port (a CRM that was down comes back).
class Trytond {
 public:
  Trytond() { start(); }
  ~Trytond() { stop(); }
  Trytond(const Trytond&) = delete;
  Trytond& operator=(const Trytond&) = delete;

  void start() {
    std::string out;
    if (run(std::string(TP_TRYTOND_FIXTURE) + " start " + dir_.path().string() + " 2>&1", &out) != 0)
      throw std::runtime_error("trytond fixture failed: " + out);
    port_ = std::stoi(out);
  }
  void stop() { run(std::string(TP_TRYTOND_FIXTURE) + " stop " + dir_.path().string() + " >/dev/null 2>&1"); }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// The plugin's config for this server, with `extra` merged in.
  std::string config(Json extra = Json::object()) const {
    Json c{{"url", url()},        {"database", "tp"},    {"user", "admin"},
           {"password", "admin"}, {"timeout_ms", 10000}, {"overlap_seconds", 0}};
    c.update(extra);
    return c.dump();
  }

  /// Runs SQL on the server's database file (what no API may do: backdating a stamp).
  void sql(const std::string& statement) {
    std::string out;
    if (run("sqlite3 " + (dir_.path() / "tp.sqlite").string() + " \"" + statement + "\" 2>&1", &out) != 0)
      throw std::runtime_error("sqlite3: " + out);
  }

  /// The test's own session, as the admin.
  JsonRpcClient& rpc() {
    if (!rpc_) rpc_ = std::make_unique<JsonRpcClient>(RpcEndpoint{url(), "tp", "admin", "admin", 10000, true});
    return *rpc_;
  }

  /// Creates a party with e-mail/phone mechanisms and one address; returns its id.
  int64_t party(const std::string& name, const Json& mechanisms = Json::array(),
                const Json& addresses = Json::array()) {
    Json values{{"name", name}};
    if (!mechanisms.empty()) values["contact_mechanisms"] = Json::array({Json::array({"create", mechanisms})});
    if (!addresses.empty()) values["addresses"] = Json::array({Json::array({"create", addresses})});
    return rpc().model("party.party", "create", Json::array({Json::array({values})}))[0].get<int64_t>();
  }

 private:
  testing_support::TempDir dir_{"tp_trytond"};
  int port_ = 0;
  std::unique_ptr<JsonRpcClient> rpc_;
};

inline std::string plugin_path() { return TP_TRYTON_PLUGIN; }

}  // namespace touchpoint::tryton::test

#endif  // TOUCHPOINT_TRYTON_TESTS_SUPPORT_HPP
