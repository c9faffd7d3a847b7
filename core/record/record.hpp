#pragma once
// The record envelope: everything that flows through Touchpoint has this
// shape (docs/envelope.md). Sources hand records over the ABI as JSON bytes;
// inside the hub, `data` and `meta` are parsed so transforms can edit them.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace touchpoint::core {

using Json = nlohmann::json;

struct Record {
  std::string id;      ///< unique; the store is idempotent on it
  std::string type;    ///< "profile", "event", later "message", "response"
  std::string source;  ///< connector instance (pipeline name for sources)
  std::string key;     ///< entity the record concerns, may be empty
  int64_t ts_ms = 0;   ///< event time, Unix epoch milliseconds
  Json data = Json::object();
  Json meta = Json::object();
};

/// Serializes the whole envelope as one JSON object (for sinks, DLQ, CLI).
Json to_json(const Record& r);
/// Inverse of to_json; throws std::runtime_error on a malformed envelope.
Record record_from_json(const Json& j);

}  // namespace touchpoint::core
