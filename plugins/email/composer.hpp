// Turns one contact ("message" record, docs/channels.md) into what goes on the
// wire: the envelope (VERP return path, ENVID = contact id) and the rendered
// MIME message. Every problem with the record or its template is a
// ComposeError: the contact can never be sent as it is (permanent).
#ifndef TP_EMAIL_COMPOSER_HPP
#define TP_EMAIL_COMPOSER_HPP

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "email_config.hpp"
#include "smtp_client.hpp"
#include "templates.hpp"

namespace tp_email {

struct ComposeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Composed {
  std::string contact_id;
  std::string message_id;  ///< "<{contact_id}@{message_id_domain}>", the provider id of the outcome
  Envelope envelope;
  std::string message;  ///< CRLF, not dot-stuffed
};

class Composer {
 public:
  Composer(const EmailConfig& config, TemplateStore& templates) : config_(config), templates_(templates) {}

  /// `record_id` is the envelope id (the contact id), `data` the record's JSON.
  Composed compose(std::string_view record_id, std::string_view data, int64_t now_unix_s) const;

 private:
  const EmailConfig& config_;
  TemplateStore& templates_;
};

}  // namespace tp_email

#endif  // TP_EMAIL_COMPOSER_HPP
