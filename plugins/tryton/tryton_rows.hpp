// Reading the rows Tryton answers with.
#ifndef TOUCHPOINT_TRYTON_ROWS_HPP
#define TOUCHPOINT_TRYTON_ROWS_HPP

#include <nlohmann/json.hpp>

namespace touchpoint::tryton {

/// A row's `active`: true/false, or 1/0 from an SQLite database; absent means active.
inline bool is_active(const nlohmann::json& row) {
  if (!row.is_object()) return false;
  auto it = row.find("active");
  return it == row.end() || (it->is_boolean() ? it->get<bool>() : it->is_number() && it->get<double>() != 0);
}

}  // namespace touchpoint::tryton

#endif  // TOUCHPOINT_TRYTON_ROWS_HPP
