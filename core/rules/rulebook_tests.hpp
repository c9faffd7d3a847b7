#pragma once
// The test cases written in the rulebook file itself (`tests:`, see
// docs/rulebook.md, "Test cases"). They are parsed and checked by
// Rulebook::load(); run_tests() decides each case and compares.

#include <string>
#include <vector>

#include "rules/rulebook.hpp"

namespace touchpoint::core::rules {

struct CaseResult {
  std::string name;
  std::string where;  ///< "file:line" of the case
  bool passed = false;
  std::string difference;  ///< empty when passed; else one line per difference
  Decision actual;
};

struct RulebookTests {
  std::vector<CaseResult> cases;  ///< in file order
  size_t passed = 0;
  size_t failed = 0;
  bool ok() const noexcept { return failed == 0; }
};

RulebookTests run_tests(const Rulebook& rulebook);

/// A human-readable report: one line per case ("ok"/"FAIL"), the differences
/// of failing cases indented below, and a summary line.
std::string format_report(const RulebookTests& results);

}  // namespace touchpoint::core::rules
