// Whether a click or an open came from a person or a machine: mail gateways'
// link scanners (Safe Links, Mimecast, Proofpoint, Barracuda) follow every
// link within seconds of delivery, privacy proxies prefetch every image
// (Apple Mail Privacy Protection sends "Mozilla/5.0" and nothing else). A
// machine's hit is recorded and flagged, never counted as a person's.
#ifndef TP_EMAIL_INTAKE_MACHINE_DETECT_HPP
#define TP_EMAIL_INTAKE_MACHINE_DETECT_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tp_email::intake {

struct MachineRules {
  std::vector<std::string> user_agents;  ///< lower-case substrings
  int64_t within_seconds = 5;            ///< a hit this soon after the message was composed
};

/// Empty for a person; otherwise why it is a machine: "head_request",
/// "no_user_agent", "generic_user_agent" (exactly "Mozilla/5.0"),
/// "user_agent:<the listed substring>", or "too_soon_after_send".
std::string machine_reason(const MachineRules& rules, bool head_request, std::string_view user_agent,
                           int64_t sent_unix_s, int64_t now_unix_s);

}  // namespace tp_email::intake

#endif
