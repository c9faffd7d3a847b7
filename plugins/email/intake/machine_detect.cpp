#include "machine_detect.hpp"

#include <algorithm>

namespace tp_email::intake {

std::string machine_reason(const MachineRules& rules, bool head_request, std::string_view user_agent,
                           int64_t sent_unix_s, int64_t now_unix_s) {
  if (head_request) return "head_request";
  while (!user_agent.empty() && (user_agent.front() == ' ' || user_agent.front() == '\t')) user_agent.remove_prefix(1);
  while (!user_agent.empty() && (user_agent.back() == ' ' || user_agent.back() == '\t')) user_agent.remove_suffix(1);
  if (user_agent.empty()) return "no_user_agent";
  if (user_agent == "Mozilla/5.0") return "generic_user_agent";
  std::string lower(user_agent.substr(0, 1024));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  for (const std::string& needle : rules.user_agents)
    if (lower.find(needle) != std::string::npos) return "user_agent:" + needle;
  if (now_unix_s - sent_unix_s < rules.within_seconds) return "too_soon_after_send";
  return {};
}

}  // namespace tp_email::intake
