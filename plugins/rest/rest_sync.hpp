// The rest connector's source side: pages of an API's list endpoint into
// records, an incremental cursor over a change stamp, and the state that
// resumes a sweep after a restart (README.md "Reading").
#ifndef TOUCHPOINT_REST_REST_SYNC_HPP
#define TOUCHPOINT_REST_REST_SYNC_HPP

#include <optional>
#include <stdexcept>
#include <string>
#include <touchpoint/plugin.hpp>
#include <unordered_map>
#include <vector>

#include "http_client.hpp"
#include "rest_config.hpp"

namespace touchpoint::rest {

/// Where a sync stands; the source's checkpoint, committed only after the
/// records read up to it are durable.
struct SyncState {
  Json lower;                         ///< this sweep's {{cursor}} (null: no cursor configured)
  std::vector<std::string> boundary;  ///< ids already read at exactly `lower`
  Json high;                          ///< the newest stamp seen in this sweep
  std::vector<std::string> at_high;   ///< ids read at exactly `high`
  bool in_sweep = false;
  Json page;          ///< the next page (token, URL, offset or number); null: the first
  int64_t pages = 0;  ///< pages read in this sweep
  bool operator==(const SyncState&) const = default;
};

std::string encode_state(const SyncState& s);
std::optional<SyncState> decode_state(std::string_view text);

struct SyncPage {
  std::vector<EmitUnit> units;  ///< the page's records and rejects, split to fit the unit limit; the last has `next`
  SyncState next;
  bool sweep_done = false;
  size_t items = 0;
  /// Without a change stamp: (item id, record id) of what this page emits.
  std::vector<std::pair<std::string, std::string>> versions;
};

/// The API said no in a way that will not pass by waiting (a 4xx, a wrong shape).
class ApiRefused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The API or the network failed in a way that may pass (5xx, 429, timeout).
class ApiUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RestSync {
 public:
  RestSync(HttpClient& http, const Config& config);
  /// The first state (before anything was read).
  SyncState initial() const;
  /// Reads the page `state` points at. Throws ApiUnavailable, ApiRefused or AuthRefused.
  SyncPage next_page(const SyncState& state);
  /// The host took the page: its unchanged items are not emitted again by later sweeps.
  void accepted(const SyncPage& page);
  /// A unit was lost: emit everything of the next sweep again.
  void forget() { emitted_.clear(); }

 private:
  HttpRequest build_request(const SyncState& s) const;
  const Config& config_;
  const ReadConfig& read_;
  HttpClient& http_;
  // Full reads (no cursor): the record id each item had when last emitted,
  // so a sweep emits only what changed. Bounded; past the bound, items are
  // emitted again and the store keeps them once by their record ids.
  std::unordered_map<std::string, std::string> emitted_;
};

/// -1, 0 or 1: numbers by value, strings (ISO dates of one format) by bytes.
int compare_stamps(const Json& a, const Json& b);

/// Appends the request template's query to `url`; a parameter that is one
/// missing placeholder (no {{next}} on the first page) is left out.
void append_query(std::string& url, const RequestTemplate& request, const TemplateContext& ctx);

/// The request's text bounded for an error message.
std::string excerpt(const std::string& text, size_t max = 300);

}  // namespace touchpoint::rest

#endif  // TOUCHPOINT_REST_REST_SYNC_HPP
