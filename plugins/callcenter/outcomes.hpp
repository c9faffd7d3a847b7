// The closed list of call outcomes (docs/channels.md, kind call_outcome).
#ifndef TOUCHPOINT_CALLCENTER_OUTCOMES_HPP
#define TOUCHPOINT_CALLCENTER_OUTCOMES_HPP

#include <algorithm>
#include <array>
#include <string_view>

namespace touchpoint::callcenter {

inline constexpr std::array<std::string_view, 9> kOutcomes = {
    "reached", "no_answer", "busy", "voicemail", "callback", "wrong_number", "do_not_call", "not_interested", "sale"};

inline bool is_outcome(std::string_view s) {
  return std::find(kOutcomes.begin(), kOutcomes.end(), s) != kOutcomes.end();
}

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_OUTCOMES_HPP
