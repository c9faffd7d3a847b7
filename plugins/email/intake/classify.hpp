// Response kind of one DSN recipient from its Action, RFC 3463 status and
// diagnostic text. The table is in README.md; tests pin every row.
#ifndef TP_EMAIL_INTAKE_CLASSIFY_HPP
#define TP_EMAIL_INTAKE_CLASSIFY_HPP

#include <string>
#include <string_view>

namespace tp_email::intake::detail {

/// The first RFC 3463 code (class.subject.detail, class 2, 4 or 5) in `text`, empty when none.
std::string find_status(std::string_view text);

/// "delivered", "bounce_hard", "bounce_soft" or "policy_block"; empty when the
/// recipient group says nothing usable (no action, no status).
std::string classify(std::string_view action, std::string_view status, std::string_view diagnostic);

/// Whether the diagnostic reads like a spam filter or reputation block.
bool looks_like_policy_block(std::string_view diagnostic);

}  // namespace tp_email::intake::detail

#endif
