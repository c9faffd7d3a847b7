// The SMTP envelope's text: RFC 3461 xtext for ENVID, the VERP return path,
// address and contact-id syntax checks (they end up inside SMTP commands and
// headers, so CR/LF or '>' must never get through) and PII masking for logs.
#ifndef TP_EMAIL_ENVELOPE_HPP
#define TP_EMAIL_ENVELOPE_HPP

#include <string>
#include <string_view>

namespace tp_email {

/// RFC 3461 section 4: every byte outside '!'..'~', and '+' and '=', as "+HH".
std::string xtext_encode(std::string_view s);

/// "bounces@bank.example" + "c-1" -> "bounces+c-1@bank.example".
std::string verp_address(std::string_view return_path, std::string_view contact_id);

/// A plain addr-spec "local@domain": printable ASCII or UTF-8, no spaces,
/// controls, quotes, angle brackets, commas or semicolons; one '@'; at most
/// 254 bytes, local part at most 64. Enough to be safe inside "RCPT TO:<...>".
bool valid_mailbox(std::string_view address);

/// A contact id usable in a VERP local part, ENVID and Message-ID:
/// 1-64 bytes of [A-Za-z0-9._-].
bool valid_contact_id(std::string_view id);

/// "anna@example.de" -> "a***@example.de" (never log an address in clear).
std::string mask_address(std::string_view address);

}  // namespace tp_email

#endif  // TP_EMAIL_ENVELOPE_HPP
