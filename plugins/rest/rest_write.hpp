// The rest connector's sink side: one request per record from the write
// template (several at once), each answer its record's outcome (README.md
// "Writing"): 2xx ok; 408, 425, 429, 5xx and transport failures retryable;
// any other 4xx permanent with the API's answer as the reason. With
// write.batch, several records go in one request and each gets the outcome
// of its own entry in the answer (partial failures).
#ifndef TOUCHPOINT_REST_REST_WRITE_HPP
#define TOUCHPOINT_REST_REST_WRITE_HPP

#include <string>
#include <touchpoint/plugin.hpp>
#include <vector>

#include "http_client.hpp"
#include "rest_config.hpp"

namespace touchpoint::rest {

struct WriteOutcome {
  enum class Kind { ok, skipped, retryable, permanent } kind = Kind::ok;
  std::string reason;
};

class RestWrite {
 public:
  RestWrite(HttpClient& http, const Config& config);
  /// One outcome per record, in order.
  std::vector<WriteOutcome> write(RecordSpan batch);

 private:
  void write_batches(const std::vector<HttpRequest>& singles, std::vector<Json>& items,
                     const std::vector<size_t>& index, std::vector<WriteOutcome>& out);
  const Config& config_;
  const WriteConfig& write_;
  HttpClient& http_;
};

}  // namespace touchpoint::rest

#endif  // TOUCHPOINT_REST_REST_WRITE_HPP
