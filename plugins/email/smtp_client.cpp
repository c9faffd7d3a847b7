#include "smtp_client.hpp"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/DialogSocket.h>
#include <Poco/Net/MailStream.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SMTPClientSession.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/SocketStream.h>
#include <Poco/Net/StreamSocket.h>

#include <mutex>
#include <sstream>
#include <touchpoint/plugin.hpp>

#include "envelope.hpp"

namespace tp_email {

namespace {

using touchpoint::LogLevel;

// A failure of the connection itself (not of one recipient): the message is retryable
// and the connection is dropped.
struct ConnectionFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::size_t kMaxReplyText = 1000;

std::string one_line_reply(std::string s) {
  for (char& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  if (s.size() > kMaxReplyText) s.resize(kMaxReplyText);
  return s;
}

std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

struct Capabilities {
  bool dsn = false;
  bool starttls = false;
  bool auth_plain = false;
  bool auth_login = false;
};

// Poco joins a multi-line reply with '\n', every line keeping its "250-" prefix.
Capabilities parse_ehlo(const std::string& reply) {
  Capabilities caps;
  std::istringstream lines(reply);
  std::string line;
  bool first = true;
  while (std::getline(lines, line)) {
    if (first) {  // the greeting line carries the server name, not a keyword
      first = false;
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string kw = upper(line.size() > 4 ? line.substr(4) : std::string());
    if (kw == "DSN") caps.dsn = true;
    if (kw == "STARTTLS") caps.starttls = true;
    if (kw.rfind("AUTH ", 0) == 0 || kw.rfind("AUTH=", 0) == 0) {
      std::istringstream mechs(kw.substr(5));
      std::string m;
      while (mechs >> m) {
        caps.auth_plain = caps.auth_plain || m == "PLAIN";
        caps.auth_login = caps.auth_login || m == "LOGIN";
      }
    }
  }
  return caps;
}

void init_ssl_once() {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Net::initializeSSL(); });
}

}  // namespace

// Gives access to the protected socket and AUTH helpers of Poco's session.
class SmtpClient::Session : public Poco::Net::SMTPClientSession {
 public:
  explicit Session(const Poco::Net::StreamSocket& s) : SMTPClientSession(s) {}
  using SMTPClientSession::loginUsingLogin;
  using SMTPClientSession::loginUsingPlain;
  using SMTPClientSession::socket;
};

SmtpClient::SmtpClient(SmtpConfig config, Log log) : config_(std::move(config)), log_(std::move(log)) {}

SmtpClient::~SmtpClient() { close(); }

bool SmtpClient::connected() const { return session_ != nullptr; }

void SmtpClient::drop() {
  if (session_) {
    try {
      session_->socket().close();
    } catch (...) {
    }
    session_.reset();
  }
  used_ = false;
}

void SmtpClient::close() {
  if (!session_) return;
  try {
    std::string reply;
    session_->sendCommand("QUIT", reply);
  } catch (...) {
  }
  drop();
}

void SmtpClient::open() {
  const Poco::Timespan timeout(static_cast<Poco::Timespan::TimeDiff>(config_.timeout_ms) * 1000);
  Poco::Net::StreamSocket socket;
  try {
    socket.connect(Poco::Net::SocketAddress(config_.host, config_.port), timeout);
  } catch (const Poco::Exception& e) {
    throw ConnectionFailure("cannot connect to " + config_.host + ":" + std::to_string(config_.port) + ": " +
                            e.displayText());
  }
  socket.setNoDelay(true);  // commands are small and strictly request/reply: no Nagle delays
  auto session = std::make_unique<Session>(socket);
  session->setTimeout(timeout);
  std::string reply;
  auto ehlo = [&] {
    const int status = session->sendCommand("EHLO", config_.helo, reply);
    if (status / 100 != 2) throw ConnectionFailure("EHLO refused: " + one_line_reply(reply));
    return parse_ehlo(reply);
  };
  try {
    session->open();  // reads the greeting; throws unless 2xx
    Capabilities caps = ehlo();
    if (config_.tls != TlsMode::none) {
      if (caps.starttls) {
        const int status = session->sendCommand("STARTTLS", reply);
        if (status / 100 != 2) throw ConnectionFailure("STARTTLS refused: " + one_line_reply(reply));
        init_ssl_once();
        Poco::Net::Context::Ptr context(new Poco::Net::Context(
            Poco::Net::Context::TLS_CLIENT_USE, "", "", config_.ca_file,
            config_.tls_verify ? Poco::Net::Context::VERIFY_RELAXED : Poco::Net::Context::VERIFY_NONE, 9,
            config_.ca_file.empty()));
        Poco::Net::SecureStreamSocket secure =
            Poco::Net::SecureStreamSocket::attach(session->socket(), config_.host, context);
        session->socket() = secure;
        caps = ehlo();  // RFC 3207: forget what was said before TLS
      } else if (config_.tls == TlsMode::required) {
        throw ConnectionFailure("the server does not offer STARTTLS (smtp.tls is 'required')");
      } else if (!warned_no_tls_) {
        warned_no_tls_ = true;
        log_(static_cast<int>(LogLevel::warn), "the SMTP server does not offer STARTTLS; sending without TLS");
      }
    }
    if (!config_.username.empty()) {
      if (caps.auth_plain) {
        session->loginUsingPlain(config_.username, config_.password);
      } else if (caps.auth_login) {
        session->loginUsingLogin(config_.username, config_.password);
      } else {
        throw ConnectionFailure("the server offers neither AUTH PLAIN nor AUTH LOGIN (smtp.username is set)");
      }
    }
    dsn_ = caps.dsn;
  } catch (const ConnectionFailure&) {
    throw;
  } catch (const Poco::Exception& e) {
    throw ConnectionFailure("SMTP session setup failed: " + one_line_reply(e.displayText()));
  }
  if (!dsn_ && !warned_no_dsn_) {
    warned_no_dsn_ = true;
    log_(static_cast<int>(LogLevel::warn),
         "the SMTP server does not advertise DSN: sending without RET/ENVID/NOTIFY/ORCPT; bounces are still "
         "correlated by the VERP return path and the Message-ID");
  }
  session_ = std::move(session);
  used_ = false;
  ++connections_;
}

std::string SmtpClient::probe() {
  if (session_) return {};
  try {
    open();
    return {};
  } catch (const std::exception& e) {
    drop();
    return e.what();
  }
}

SendResult SmtpClient::send(const Envelope& envelope, std::string_view message) {
  try {
    if (session_ && used_) {
      // RSET both clears the previous transaction and tells us whether the server
      // still holds the connection (it may have closed an idle one).
      bool alive = false;
      try {
        std::string reply;
        alive = session_->sendCommand("RSET", reply) / 100 == 2;
      } catch (const Poco::Exception&) {
      }
      if (!alive) drop();
    }
    if (!session_) open();
    return transaction(envelope, message);
  } catch (const ConnectionFailure& e) {
    drop();
    return {SendResult::Kind::retryable, e.what()};
  } catch (const Poco::Exception& e) {
    drop();
    return {SendResult::Kind::retryable, "SMTP connection lost: " + one_line_reply(e.displayText())};
  }
}

SendResult SmtpClient::transaction(const Envelope& env, std::string_view message) {
  std::string reply;
  used_ = true;
  // A reply code tells the outcome; 0 means the server closed the connection.
  auto verdict = [&](int status, const char* stage) -> std::optional<SendResult> {
    if (status / 100 == 2 || status / 100 == 3) return std::nullopt;
    const std::string text = std::string(stage) + ": " + one_line_reply(reply);
    if (status == 0) throw ConnectionFailure(std::string(stage) + ": the server closed the connection");
    if (status == 421) {
      drop();
      return SendResult{SendResult::Kind::retryable, text};
    }
    if (status / 100 == 5) return SendResult{SendResult::Kind::permanent, text};
    return SendResult{SendResult::Kind::retryable, text};
  };

  std::string mail = "MAIL FROM:<" + env.mail_from + ">";
  std::string rcpt = "RCPT TO:<" + env.rcpt + ">";
  if (dsn_) {
    mail += " RET=HDRS ENVID=" + xtext_encode(env.envid);
    rcpt += " NOTIFY=FAILURE,DELAY ORCPT=rfc822;" + xtext_encode(env.rcpt);
  }
  if (auto r = verdict(session_->sendCommand(mail, reply), "MAIL FROM")) return *r;
  if (auto r = verdict(session_->sendCommand(rcpt, reply), "RCPT TO")) return *r;
  const int data_status = session_->sendCommand("DATA", reply);
  if (auto r = verdict(data_status, "DATA")) return *r;
  if (data_status != 354) return {SendResult::Kind::retryable, "DATA: unexpected reply " + one_line_reply(reply)};

  Poco::Net::SocketOutputStream socket_out(session_->socket());
  Poco::Net::MailOutputStream mail_out(socket_out);  // dot-stuffing and the final "."
  mail_out.write(message.data(), static_cast<std::streamsize>(message.size()));
  mail_out.close();
  socket_out.flush();
  if (!socket_out) throw ConnectionFailure("sending the message failed: the connection broke");
  const int status = session_->socket().receiveStatusMessage(reply);
  if (auto r = verdict(status, "end of DATA")) return *r;
  return {SendResult::Kind::sent, one_line_reply(reply)};
}

}  // namespace tp_email
