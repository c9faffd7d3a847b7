// Helpers of the email plugin tests: the real postfix fixture
// (tests/fixtures/mail/postfix.sh), Maildir polling, parsing received mail
// with GMime, a template directory, and a TCP proxy that counts connections
// and can cut one mid-message (a server that goes away).
#ifndef TP_EMAIL_TEST_SUPPORT_HPP
#define TP_EMAIL_TEST_SUPPORT_HPP

#include <gmime/gmime.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tp_email::test {

/// "c-" and 24 random hex digits, like the hub's contact ids.
std::string random_contact_id();

std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& content);

/// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// The postfix of this test run. Under ctest it is the suite's fixture
/// (TP_EMAIL_POSTFIX_DIR, started and stopped by ctest fixtures); run
/// directly, the binary starts one in a temporary directory and stops it at
/// exit (also when tests fail).
class Postfix {
 public:
  static Postfix& shared();
  static void stop_owned();

  uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path maildir_new(const std::string& user) const { return dir_ / "mail" / user / "new"; }
  std::string log() const { return read_file(dir_ / "log" / "maillog"); }

 private:
  std::filesystem::path dir_;
  uint16_t port_ = 0;
  bool owned_ = false;
};

/// Waits (polling, with a deadline) until `count` files in `maildir_new` contain `needle`; returns their contents.
std::vector<std::string> wait_for_mail(const std::filesystem::path& maildir_new, const std::string& needle,
                                       size_t count = 1, std::chrono::milliseconds timeout = std::chrono::seconds(20));
/// The files in `maildir_new` containing `needle`, now.
std::vector<std::string> mail_containing(const std::filesystem::path& maildir_new, const std::string& needle);

/// A message parsed with GMime (headers decoded, parts split).
class ParsedMail {
 public:
  explicit ParsedMail(const std::string& raw);
  ~ParsedMail();
  ParsedMail(const ParsedMail&) = delete;
  ParsedMail& operator=(const ParsedMail&) = delete;

  bool ok() const { return msg_ != nullptr; }
  std::string header(const char* name) const;  ///< the raw (undecoded, unfolded) value; "" when missing
  std::string subject() const;                 ///< decoded
  std::string to_name() const;                 ///< decoded display name of the first To
  std::string to_address() const;
  std::string content_type() const;  ///< of the top-level part, "type/subtype"
  /// Decoded text of the first part with this type ("text/plain", "text/html"), "" when none.
  std::string part_text(const char* mime_type) const;

 private:
  GMimeMessage* msg_ = nullptr;
};

/// Writes DIR/{name}.subject/.txt/.html (html only when non-empty).
void write_template(const std::filesystem::path& dir, const std::string& name, const std::string& subject,
                    const std::string& text, const std::string& html = {});

/// The sink config for the shared postfix (port overridable), as JSON text.
std::string sink_config(const std::filesystem::path& templates, uint16_t port, const std::string& extra_smtp = {},
                        const std::string& extra_top = {});

/// One contact ("message" record data) as the hub sends it.
std::string message_data(const std::string& contact_id, const std::string& to, const std::string& first_name = "Anna",
                         const std::string& last_name = "Müller", const std::string& template_name = "spring",
                         bool transactional = false);

/// Forwards 127.0.0.1:port() to 127.0.0.1:target. Counts connections; can cut
/// the connection just before the n-th end-of-data ("\r\n.\r\n") reaches the
/// server and then stop listening (the server "went away"), or drop all
/// connections while still listening (the server closed idle connections).
class TcpProxy {
 public:
  explicit TcpProxy(uint16_t target);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  uint16_t port() const { return port_; }
  unsigned connections() const { return connections_.load(); }
  /// 0: never cut.
  void go_away_at_message(unsigned n) { cut_at_ = n; }
  void drop_connections();

 private:
  void accept_loop();
  void pump(int client);

  uint16_t target_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<bool> gone_{false};
  std::atomic<unsigned> connections_{0};
  std::atomic<unsigned> terminators_{0};
  std::atomic<unsigned> cut_at_{0};
  std::atomic<unsigned> generation_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
};

}  // namespace tp_email::test

#endif  // TP_EMAIL_TEST_SUPPORT_HPP
