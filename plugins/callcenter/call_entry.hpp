// One row of a call list, built from a `message` record of channel `phone`
// (docs/channels.md), and its CSV and JSON forms.
#ifndef TOUCHPOINT_CALLCENTER_CALL_ENTRY_HPP
#define TOUCHPOINT_CALLCENTER_CALL_ENTRY_HPP

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace touchpoint::callcenter {

struct CallEntry {
  std::string contact_id, phone, name, first_name, last_name, campaign, script, priority;
  std::string window_from, window_to, timezone;
  bool in_doubt = false;  ///< a re-send after a crash (meta.in_doubt)

  /// The value of a CSV column (config.hpp known_columns()).
  std::string_view column(std::string_view name) const;
};

/// True for "+" and 7 to 15 digits, the first not 0 (ITU-T E.164).
bool is_e164(std::string_view s) noexcept;

/// Builds the entry from a record's envelope id, data and meta. On failure returns the
/// reason (the record can never be called: a permanent outcome); phone numbers in it are masked.
std::variant<CallEntry, std::string> parse_call_entry(std::string_view id, std::string_view data,
                                                      std::string_view meta);

/// The entry as one JSON object (empty fields left out).
std::string to_json(const CallEntry& e);

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_CALL_ENTRY_HPP
