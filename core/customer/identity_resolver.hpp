#pragma once
// Which identities a record claims for its person, normalised and checked
// against the configured kinds: e-mail (trimmed, lower-cased), phone
// (E.164 only: "+4930123456"), external ids per system ("ext:crm"). Blocked
// values ("test@test.com", "0000000", "-1", "null", "unknown", ...) never
// link anyone. The order is the precedence when identities point at
// different profiles.

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/customer_config.hpp"
#include "record/record.hpp"

namespace touchpoint::core::customer {

struct IdentityKey {
  std::string kind;  ///< "email", "phone", "ext:<system>"
  std::string value;
  /// "kind:value" (the form suppression subjects and tombstones use).
  std::string text() const { return kind + ":" + value; }
  bool operator==(const IdentityKey& o) const { return kind == o.kind && value == o.value; }
};

/// What a customer reference ("anna@example.de", "ext:crm:K-1", "phone:+49...", "42") names.
struct CustomerRef {
  std::optional<IdentityKey> identity;
  int64_t profile_id = 0;  ///< set when the reference is a profile id
  std::string error;       ///< set when it is malformed or blocked
};

class IdentityResolver {
 public:
  explicit IdentityResolver(const CustomerConfig& config);

  /// The normalised identity, or nullopt when the value is not usable
  /// (empty, malformed, blocked). `why` says which (optional).
  std::optional<IdentityKey> normalize(std::string_view kind, std::string_view value, std::string* why = nullptr) const;

  /// The record's identities in precedence order: the key (ext:<source>),
  /// data.external_ids, data.customer, data.email, data.phone. Duplicates
  /// are dropped; `blocked` counts values that were refused.
  std::vector<IdentityKey> extract(const Record& record, size_t* blocked = nullptr) const;

  /// Parses a reference as the decision API, the CLI and `data.customer` take it.
  CustomerRef parse_reference(std::string_view ref) const;

  /// The configured limit for a kind (0: none).
  int max_per_profile(std::string_view kind) const;

 private:
  struct Kind {
    IdentityKindSpec spec;
    std::vector<std::unique_ptr<RE2>> patterns;
  };
  const Kind* kind_of(std::string_view kind) const;
  bool blocked(const Kind* k, const std::string& value) const;

  std::vector<std::pair<std::string, Kind>> kinds_;  // "email", "phone", "ext:crm", "ext:*"
};

}  // namespace touchpoint::core::customer
