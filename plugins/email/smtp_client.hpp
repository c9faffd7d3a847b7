// One SMTP submission connection (Poco::Net::SMTPClientSession underneath):
// EHLO, STARTTLS, AUTH PLAIN/LOGIN, and transactions with the RFC 3461 DSN
// parameters when the server advertises DSN. The connection is kept open
// across messages and batches (RSET between transactions) and reopened when
// the server has closed it.
#ifndef TP_EMAIL_SMTP_CLIENT_HPP
#define TP_EMAIL_SMTP_CLIENT_HPP

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "email_config.hpp"

namespace tp_email {

struct Envelope {
  std::string mail_from;  ///< the VERP return path
  std::string envid;      ///< ENVID (not yet xtext-encoded); the contact id
  std::string rcpt;
};

struct SendResult {
  enum class Kind { sent, retryable, permanent };
  Kind kind = Kind::retryable;
  std::string reply;  ///< the server's reply (or the connection error) for the outcome
};

class SmtpClient {
 public:
  using Log = std::function<void(int level, const std::string& message)>;  // touchpoint::LogLevel values

  SmtpClient(SmtpConfig config, Log log);
  ~SmtpClient();
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;

  /// One transaction. Opens the connection when there is none; never throws
  /// for SMTP or network failures (they become retryable/permanent results).
  SendResult send(const Envelope& envelope, std::string_view message);

  /// Opens the connection now (for check()); returns "" or the problem.
  std::string probe();

  /// QUIT and close (errors ignored).
  void close();

  bool connected() const;
  bool server_has_dsn() const { return dsn_; }
  /// Connections opened so far (connection reuse is measurable).
  unsigned connections_opened() const { return connections_; }

 private:
  class Session;
  void open();  // throws on failure
  void drop();
  SendResult transaction(const Envelope& envelope, std::string_view message);

  SmtpConfig config_;
  Log log_;
  std::unique_ptr<Session> session_;
  bool dsn_ = false;
  bool warned_no_dsn_ = false;
  bool warned_no_tls_ = false;
  bool used_ = false;  // a transaction ran on this connection: RSET before the next
  unsigned connections_ = 0;
};

}  // namespace tp_email

#endif  // TP_EMAIL_SMTP_CLIENT_HPP
