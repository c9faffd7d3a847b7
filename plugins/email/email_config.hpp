// The e-mail connector's configuration, parsed and validated from the
// instance's JSON "config" block. Every error is a touchpoint::ConfigError
// naming the offending key (e.g. "smtp.port").
#ifndef TP_EMAIL_CONFIG_HPP
#define TP_EMAIL_CONFIG_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tp_email {

enum class TlsMode { none, starttls, required };

struct SmtpConfig {
  std::string host;
  uint16_t port = 587;
  TlsMode tls = TlsMode::starttls;
  std::string username;  ///< empty: no AUTH
  std::string password;
  int timeout_ms = 30000;  ///< connect and every command
  std::string helo;        ///< EHLO name; default: the host name
  std::string ca_file;     ///< PEM CA bundle for the server certificate; empty: the system's
  bool tls_verify = true;  ///< verify the server certificate and host name
  int connections = 1;     ///< parallel connections a batch is spread over (1..16)
};

struct Mailbox {
  std::string name;  ///< display name, UTF-8, may be empty
  std::string address;
};

struct UnsubscribeConfig {
  std::string url_base;  ///< "https://bank.example/u": the URL is url_base + "/" + token
  std::string mailto;    ///< optional: "unsubscribe@bank.example"
  std::string secret;    ///< HMAC key of the token
  /// Source side: where the one-click endpoint listens ("127.0.0.1:8090";
  /// empty: no endpoint). Put it behind the public url_base (a reverse proxy).
  std::string listen_address;
  uint16_t listen_port = 0;
  bool listen = false;
};

/// Click and open tracking (README: "Click and open tracking"). The links are
/// signed with unsubscribe.secret and served by the unsubscribe.listen endpoint.
struct TrackingConfig {
  bool enabled = false;  ///< the "tracking" block is there
  std::string
      url_base;  ///< "https://t.bank.example": links become url_base/c/{token}, the pixel url_base/o/{token}.gif
  bool clicks = true;
  bool opens = true;
  /// Non-empty: only customers whose attribute of this name is true are tracked (consent, TTDSG section 25).
  std::string consent_attribute;
  /// Source side: lower-case substrings of User-Agents that are machines (link scanners, prefetchers).
  std::vector<std::string> machine_user_agents = default_machine_user_agents();
  /// Source side: a click or open this soon after the message was composed is a machine's.
  int64_t machine_within_seconds = 5;

  static std::vector<std::string> default_machine_user_agents();
};

struct EmailConfig {
  SmtpConfig smtp;
  Mailbox from;
  std::string return_path;        ///< "bounces@bank.example"; VERP makes it bounces+{contact_id}@...
  std::string message_id_domain;  ///< default: the domain of from.address
  std::string templates;          ///< directory of {template}.subject/.txt/.html
  std::string default_template;   ///< for messages without "template"; empty: such a message fails
  UnsubscribeConfig unsubscribe;
  TrackingConfig tracking;
  double rate_per_second = 0;              ///< 0: unlimited
  uint64_t max_message_bytes = 10485760;   ///< a rendered message above this fails permanently
  std::optional<std::string> intake_json;  ///< the "intake" object as JSON text, for the source side
  bool has_sink = false;                   ///< "smtp" given: the instance can send
};

/// Parses and validates `json`. Throws touchpoint::ConfigError.
EmailConfig parse_email_config(std::string_view json);

}  // namespace tp_email

#endif  // TP_EMAIL_CONFIG_HPP
