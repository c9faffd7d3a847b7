// The tryton connector's configuration (README.md lists every key).
#ifndef TOUCHPOINT_TRYTON_CONFIG_HPP
#define TOUCHPOINT_TRYTON_CONFIG_HPP

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace touchpoint::tryton {

struct WriteBackConfig {
  /// What an invalid e-mail, phone or address does to the party's record:
  /// deactivate it (a comment says why) or only comment on it.
  enum class Invalid { deactivate, comment } invalid = Invalid::deactivate;
  /// Response kinds that become a note on the party (ir.note).
  std::set<std::string> notes{"bounce_hard", "complaint", "unsubscribe", "letter_returned", "call_outcome"};
  /// Revoked marketing consent tags the party with a category ("no e-mail marketing").
  bool consent_categories = true;
  std::string category_prefix = "Touchpoint: ";
  /// A sale on a call becomes a sale.opportunity: auto (when the module is
  /// activated), on (fail without it), off.
  enum class Opportunities { automatic, on, off } opportunities = Opportunities::automatic;
  int64_t company = 0;  ///< company.company id for opportunities; 0: the first one
};

struct Config {
  std::string url;       ///< http://host:port, without the database
  std::string database;  ///< the Tryton database name
  std::string user;
  std::string password;
  /// Identity kind of a party on the profile: ext:<system> = party id.
  std::string system = "tryton";
  /// Region of phone numbers without a country code ("030 123..." in DE), for matching.
  std::string default_region = "DE";
  int64_t page_size = 500;  ///< parties per search_read, one emitted unit per page
  /// Changes up to this many seconds before the newest one seen are read
  /// again (Tryton stamps a change when its transaction starts, not when it
  /// commits); re-read versions keep their ids and are stored once.
  int64_t overlap_seconds = 10;
  int64_t timeout_ms = 30'000;
  bool verify_tls = true;
  int64_t max_backoff_ms = 60'000;  ///< longest wait between reads while Tryton fails
  WriteBackConfig write_back;
};

/// Parses the JSON config. Throws touchpoint::ConfigError naming the key.
Config parse_config(std::string_view json);

}  // namespace touchpoint::tryton

#endif  // TOUCHPOINT_TRYTON_CONFIG_HPP
