// The e-mail channel's response intake: turns the messages of a bounce
// mailbox (Maildir or IMAP) into `response` records (docs/channels.md).
// Linked into the `email` plugin as the static library tp_email_intake.
#ifndef TP_EMAIL_INTAKE_INTAKE_HPP
#define TP_EMAIL_INTAKE_INTAKE_HPP

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <touchpoint/plugin.hpp>
#include <vector>

namespace tp_email::intake {

struct ImapConfig {
  std::string url;  ///< imap://host:port/MAILBOX or imaps://...
  std::string username;
  std::string password;
  bool tls = true;          ///< require TLS (STARTTLS on imap://); false allows plain text
  std::string ca_file;      ///< PEM bundle to verify the server with; empty: system store
  std::string move_to;      ///< commit moves messages here instead of only flagging them
  long timeout_ms = 30000;  ///< connect and per-command timeout
};

struct IntakeConfig {
  std::optional<std::string> maildir;  ///< exactly one of maildir and imap
  std::optional<ImapConfig> imap;
  std::size_t max_message_bytes = 10u * 1024u * 1024u;
  std::size_t max_per_poll = 100;    ///< messages per unit
  std::size_t max_recipients = 100;  ///< responses taken from one report
};

/// Parses the "intake" config object. Throws std::invalid_argument naming the key.
IntakeConfig parse_intake_config(std::string_view intake_json);

/// One provider event read from a report.
struct Response {
  std::string id;           ///< stable: hash of (report Message-ID or report bytes, recipient)
  std::string contact_id;   ///< c- + 24 hex, empty when not found
  std::string provider_id;  ///< the original Message-ID (no angle brackets), empty when unknown
  std::string kind;    ///< bounce_hard, bounce_soft, policy_block, delivered, complaint, unsubscribe, clicked, opened
  std::string at;      ///< RFC 3339 UTC, empty when the report gives no usable date
  std::string status;  ///< RFC 3463 code (DSN), may be empty
  std::string diagnostic;     ///< Diagnostic-Code text (DSN), may be empty
  std::string feedback_type;  ///< ARF Feedback-Type (complaint)
  std::string method;         ///< unsubscribe: one-click, mailto, page
  std::string recipient;      ///< Final-/Original-Recipient or Original-Rcpt-To, lower case; not emitted
  std::string url;            ///< clicked: the link's target
  bool machine = false;       ///< clicked, opened: a machine's hit (machine_detect.hpp)
  std::string machine_reason;
  std::string user_agent;  ///< clicked, opened: at most 256 bytes
};

struct ParseResult {
  std::vector<Response> responses;
  std::string error;   ///< why the message is not a usable report; empty on success
  std::string notice;  ///< non-fatal: something was dropped (e.g. recipients over the limit)
  bool ok() const noexcept { return error.empty(); }
};

struct ParseLimits {
  std::size_t max_recipients = 100;
};

/// Parses one RFC 5322 message: a DSN (RFC 3464) or an ARF report (RFC 5965).
/// Never throws on bad input; a message that is no usable report gives an error.
ParseResult parse_report(std::string_view rfc822, const ParseLimits& limits = {});

/// The `response` record of a parsed response (docs/channels.md).
touchpoint::Record to_record(const Response& r);

class MailboxReader;

class Intake {
 public:
  Intake(IntakeConfig cfg, std::string unsubscribe_secret);
  ~Intake();
  Intake(const Intake&) = delete;
  Intake& operator=(const Intake&) = delete;

  // Reads what is available now: records (type "response") and rejects, plus a cursor; nullopt when nothing new.
  // Throws touchpoint::RetryableError when the mailbox cannot be reached.
  struct Unit {
    std::vector<touchpoint::Record> records;
    std::vector<touchpoint::Reject> rejects;
    std::string cursor;
  };
  std::optional<Unit> poll();
  /// The unit is durable in the hub: move/flag the messages.
  void commit(std::string_view cursor);
  /// The unit was not accepted: its messages are handed out again by the next poll().
  void release(std::string_view cursor);

  const std::string& unsubscribe_secret() const noexcept { return secret_; }

 private:
  IntakeConfig cfg_;
  std::string secret_;
  std::unique_ptr<MailboxReader> reader_;
  std::mutex mutex_;  // poll() runs on the instance thread, commit() may come from a host thread
};

}  // namespace tp_email::intake

#endif
