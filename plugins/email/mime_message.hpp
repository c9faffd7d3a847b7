// Builds the RFC 5322 / MIME message with GMime: text/plain alone, or
// multipart/alternative with text/plain and text/html; UTF-8, quoted-printable;
// display names and the subject as RFC 2047 encoded-words; CRLF line ends.
#ifndef TP_EMAIL_MIME_MESSAGE_HPP
#define TP_EMAIL_MIME_MESSAGE_HPP

#include <cstdint>
#include <string>

#include "email_config.hpp"

namespace tp_email {

struct MessageParts {
  std::string message_id;  ///< without angle brackets: "{contact_id}@{domain}"
  Mailbox from;
  Mailbox to;
  std::string subject;  ///< one line
  std::string text;
  std::string html;
  bool has_html = false;
  std::string list_unsubscribe;  ///< the List-Unsubscribe value; empty: no List-Unsubscribe headers
  std::string contact_id;        ///< X-Touchpoint-Contact
  int64_t date_unix_s = 0;
};

/// The message as it goes after DATA (CRLF line ends, no dot-stuffing yet).
std::string build_mime_message(const MessageParts& parts);

}  // namespace tp_email

#endif  // TP_EMAIL_MIME_MESSAGE_HPP
