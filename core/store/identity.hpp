#pragma once
// Which identities a record claims for its person. A profile is found by any
// of them; the order is the precedence when they point at different profiles.

#include <string>
#include <vector>

#include "record/record.hpp"

namespace touchpoint::core {

struct IdentityKey {
  std::string kind;  ///< "ext:<source>", "email", "phone", "ext:<system>"
  std::string value;
};

/// ext:<source> from the record key, ext:<system> from data.external_ids,
/// then e-mail (trimmed, lower-cased: case duplicates are the most common
/// CDP duplicate) and phone from data.
std::vector<IdentityKey> extract_identities(const Record& record);

}  // namespace touchpoint::core
