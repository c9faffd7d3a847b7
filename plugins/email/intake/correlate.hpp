// Finds the contact id a report refers to, in the order fixed with the
// sender: DSN ENVID, VERP token, original Message-ID, X-Touchpoint-Contact.
#ifndef TP_EMAIL_INTAKE_CORRELATE_HPP
#define TP_EMAIL_INTAKE_CORRELATE_HPP

#include <string>
#include <string_view>

#include "mime_report.hpp"

namespace tp_email::intake::detail {

/// `c-` and 24 lower-case hex digits.
bool is_contact_id(std::string_view s);

/// RFC 3461 xtext: "+XX" is the byte 0xXX. Malformed escapes stay as they are.
std::string xtext_decode(std::string_view s);

/// The contact id of a `bounces+{contact_id}@` token anywhere in `text`, empty when none.
std::string verp_contact(std::string_view text);

/// The Message-ID without angle brackets or surrounding space.
std::string bare_message_id(std::string_view s);

struct Correlation {
  std::string contact_id;   ///< empty when not found
  std::string provider_id;  ///< the original Message-ID, empty when unknown
  std::string via;          ///< "envid", "verp", "message-id", "header" or ""
};

Correlation correlate(const RawReport& report);

}  // namespace tp_email::intake::detail

#endif
