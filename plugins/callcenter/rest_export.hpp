// Call lists POSTed to a REST endpoint with libcurl: one JSON array of call
// entries per write batch.
#ifndef TOUCHPOINT_CALLCENTER_REST_EXPORT_HPP
#define TOUCHPOINT_CALLCENTER_REST_EXPORT_HPP

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "call_entry.hpp"
#include "config.hpp"

namespace touchpoint::callcenter {

struct RestResult {
  enum class Kind { sent, retryable, permanent } kind = Kind::retryable;
  std::string message;                              ///< why (retryable, permanent), bounded
  std::string list_id;                              ///< the response's list_id (or id), may be empty
  std::map<std::string, std::string> entry_ids;     ///< contact_id -> the provider's entry id
  std::map<std::string, std::string> entry_errors;  ///< contact_id -> the provider's refusal of that entry
};

/// Reads a 2xx body: {"list_id"|"id": ..., "entries": [{"contact_id", "id", "error"?}]}, all optional.
void parse_success_body(std::string_view body, RestResult& result);

/// The error text of a 4xx/5xx body ("message", "error" or "error.message", else the body), bounded.
std::string error_message_of(std::string_view body);

class RestExporter {
 public:
  explicit RestExporter(HttpTarget config);
  ~RestExporter();
  RestExporter(const RestExporter&) = delete;
  RestExporter& operator=(const RestExporter&) = delete;

  RestResult post(const std::vector<const CallEntry*>& entries);

 private:
  HttpTarget config_;
  void* curl_ = nullptr;  // CURL*, reused so the connection is kept alive
};

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_REST_EXPORT_HPP
