// The rest connector's configuration (README.md): everything a REST API
// needs, in the pipeline's YAML. Parsing checks it whole, so `touchpoint
// validate` names a wrong key before the hub starts.
#ifndef TOUCHPOINT_REST_REST_CONFIG_HPP
#define TOUCHPOINT_REST_REST_CONFIG_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_template.hpp"

namespace touchpoint::rest {

struct AuthConfig {
  enum class Type { none, bearer, basic, api_key, oauth2 } type = Type::none;
  std::string token;               // bearer
  std::string user, password;      // basic
  std::string key, header, param;  // api_key: in `header` (default X-API-Key) or query `param`
  std::string token_url;           // oauth2 client credentials
  std::string client_id, client_secret, scope;
  bool client_auth_basic = false;  // client id/secret as HTTP Basic instead of in the form
};

/// A request: method, path (relative to base_url) and query with templates.
struct RequestTemplate {
  std::string method = "GET";
  TextTemplate path;
  std::vector<std::pair<std::string, TextTemplate>> query;
  std::vector<std::pair<std::string, TextTemplate>> headers;
  JsonTemplate body;  // empty: no body
};

struct Pagination {
  enum class Type { none, cursor, next_url, link, offset, page } type = Type::none;
  std::string next;        // cursor / next_url: JSON pointer into the answer
  std::string param;       // cursor: query parameter for the token; offset/page: the number's parameter
  std::string size_param;  // offset/page: the page size's parameter ("" = set it yourself in query)
  int64_t size = 100;      // offset/page: records per page
  int64_t start = 1;       // page: the first page's number
};

struct ReadConfig {
  RequestTemplate request;
  std::string records;  // JSON pointer to the list of items ("" = the answer is the list)
  std::string type = "profile";
  std::string id;            // JSON pointer to an item's id
  std::string cursor_field;  // JSON pointer to an item's change stamp; "" = full reads
  Json cursor_start;         // the first sweep's {{cursor}}
  Pagination pagination;
  JsonTemplate map;  // empty: the item itself is the record's data
  int64_t max_pages_per_sweep = 100000;
};

/// Several records per request (a collection or batch endpoint): the
/// request's body template makes one item per record, `body` wraps them.
struct BatchConfig {
  int64_t max_records = 100;
  JsonTemplate body;    // with {{records}}: the items
  std::string results;  // JSON pointer to the answer's per-record results, in the records' order
  std::string ok;       // JSON pointer in a result: true when that record was written
  std::string reason;   // JSON pointer in a result: why it was not
};

struct WriteConfig {
  RequestTemplate request;
  std::vector<std::string> types;        // empty: every record
  std::vector<std::string> skip_unless;  // JSON pointers: a record without a value at one of them is skipped
  std::optional<BatchConfig> batch;
};

struct Config {
  std::string base_url;
  AuthConfig auth;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t timeout_ms = 30'000;
  int64_t connect_timeout_ms = 10'000;
  bool verify_tls = true;
  std::string ca_file;
  double requests_per_second = 0;  // 0: no limit of our own
  int64_t max_connections = 4;
  int64_t max_response_bytes = 64 * 1024 * 1024;
  int64_t max_backoff_ms = 300'000;
  std::optional<ReadConfig> read;
  std::optional<WriteConfig> write;
};

/// Throws touchpoint::ConfigError naming the key.
Config parse_config(std::string_view json);

}  // namespace touchpoint::rest

#endif  // TOUCHPOINT_REST_REST_CONFIG_HPP
