// Incremental reading of party.party with its contact mechanisms and
// addresses: which parties changed since a cursor, one page at a time, as
// `profile` records.
//
// A party counts as changed when it, one of its contact mechanisms or one of
// its addresses was created or written at or after the sweep's lower bound.
// A sweep pages through those parties by id; when it ends, the next sweep's
// bound is the newest change it saw, but never later than the server's clock
// when the sweep began (a party already passed may change meanwhile), and
// each query reaches `overlap` further back (Tryton stamps a change when its
// transaction starts, not when it commits). A party version re-read that way
// keeps its record id, so the store keeps it once.
#ifndef TOUCHPOINT_TRYTON_PARTY_SYNC_HPP
#define TOUCHPOINT_TRYTON_PARTY_SYNC_HPP

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <touchpoint/plugin.hpp>
#include <vector>

#include "json_rpc.hpp"
#include "tryton_config.hpp"

namespace touchpoint::tryton {

struct SyncCursor {
  int64_t since_us = 0;         ///< lower bound of the sweep (0: everything)
  int64_t last_id = 0;          ///< parties up to this id are done in this sweep
  int64_t high_us = 0;          ///< newest change seen in this sweep
  int64_t sweep_started_s = 0;  ///< server clock when the sweep's first page was read
  bool operator==(const SyncCursor&) const = default;
};

std::string encode_cursor(const SyncCursor& c);
/// nullopt for text that is not a cursor of this plugin.
std::optional<SyncCursor> decode_cursor(std::string_view text);

struct SyncPage {
  std::vector<Record> records;
  std::vector<Reject> rejects;
  SyncCursor next;
  bool sweep_done = false;                            ///< the next read starts a new sweep (no hurry)
  std::vector<std::pair<int64_t, int64_t>> versions;  ///< (party id, stamp) of what the page holds
};

/// One party as the store gets it: `data` of a profile record.
struct PartyView {
  int64_t id = 0;
  int64_t stamp_us = 0;  ///< the newest create/write of the party, its mechanisms and addresses
  Json data;
};

/// Builds the profile for `party` from its contact mechanisms and addresses
/// (all of the party's, active or not). Pure: unit-tested without Tryton.
PartyView map_party(const Json& party, const std::vector<const Json*>& mechanisms,
                    const std::vector<const Json*>& addresses, const std::string& system);

class PartySync {
 public:
  PartySync(JsonRpcClient& rpc, const Config& config) : rpc_(rpc), config_(config) {}
  /// Reads the next page after `from`. Throws TrytonUnavailable / TrytonError.
  SyncPage next_page(const SyncCursor& from);
  /// The host took `page`: its versions are not emitted again by this process.
  void accepted(const SyncPage& page);
  /// Forgets what was emitted (the host lost a page: everything may come again).
  void forget() { emitted_.clear(); }

 private:
  JsonRpcClient& rpc_;
  const Config& config_;
  std::map<int64_t, int64_t> emitted_;  // party id -> stamp already emitted in this process (overlap re-reads)
};

}  // namespace touchpoint::tryton

#endif  // TOUCHPOINT_TRYTON_PARTY_SYNC_HPP
