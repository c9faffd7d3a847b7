// A real Dovecot for one test, started and stopped through
// tests/fixtures/mail/dovecot.sh in a temporary directory.
#ifndef TP_EMAIL_INTAKE_DOVECOT_FIXTURE_HPP
#define TP_EMAIL_INTAKE_DOVECOT_FIXTURE_HPP

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "test_support.hpp"

namespace tp_email::intake::test {

class Dovecot {
 public:
  explicit Dovecot(std::filesystem::path dir) : dir_(std::move(dir)) {}
  ~Dovecot() { stop(); }
  Dovecot(const Dovecot&) = delete;
  Dovecot& operator=(const Dovecot&) = delete;

  /// False (with the script's output in `error`) when dovecot could not be started.
  bool start(std::string& error) {
    const std::string log = (dir_ / "fixture.out").string();
    const std::string cmd = script() + " start '" + dir_.string() + "' >'" + log + "' 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      std::ifstream in(log);
      error.assign(std::istreambuf_iterator<char>(in), {});
      return false;
    }
    running_ = true;
    std::ifstream env(dir_ / "fixture.env");
    std::string line;
    while (std::getline(env, line))
      if (const auto eq = line.find('='); eq != std::string::npos) env_[line.substr(0, eq)] = line.substr(eq + 1);
    return true;
  }
  void stop() {
    if (!running_) return;
    running_ = false;
    const std::string cmd = script() + " stop '" + dir_.string() + "' >/dev/null 2>&1";
    (void)std::system(cmd.c_str());
  }

  std::string port() const { return env_.at("DOVECOT_PORT"); }
  std::string user() const { return env_.at("DOVECOT_USER"); }
  std::string password() const { return env_.at("DOVECOT_PASSWORD"); }
  std::filesystem::path maildir() const { return env_.at("DOVECOT_MAILDIR"); }
  std::string url(const std::string& mailbox = "INBOX") const { return "imap://127.0.0.1:" + port() + "/" + mailbox; }

  /// Drops a message into the user's Maildir as a delivery agent would (tmp/, then new/).
  void deliver(const std::string& name, const std::string& bytes, const std::string& folder = "") const {
    const std::filesystem::path box = folder.empty() ? maildir() : maildir() / ("." + folder);
    write_file(box / "tmp" / name, bytes);
    std::filesystem::rename(box / "tmp" / name, box / "new" / name);
  }

 private:
  static std::string script() { return std::string(TP_EMAIL_FIXTURES) + "/mail/dovecot.sh"; }
  std::filesystem::path dir_;
  bool running_ = false;
  std::map<std::string, std::string> env_;
};

}  // namespace tp_email::intake::test

#endif
