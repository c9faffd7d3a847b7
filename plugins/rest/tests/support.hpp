// The rest plugin's test support: the CRM simulator (tests/fixtures/rest)
// and a reader that drains a source instance.
#ifndef TOUCHPOINT_REST_TESTS_SUPPORT_HPP
#define TOUCHPOINT_REST_TESTS_SUPPORT_HPP

#include <touchpoint/testing.hpp>

#include "crm_sim.hpp"

namespace touchpoint::rest::test {

using Json = nlohmann::json;
using tp_fixture::CrmSim;
using tp_fixture::SimAnswer;

/// Reads drained until a read emits nothing new; returns what this call emitted.
inline std::vector<touchpoint::testing::EmittedRecord> drain(touchpoint::testing::Harness& h,
                                                             touchpoint::testing::Instance& inst, int max_reads = 200) {
  const size_t before = h.records().size();
  size_t seen = before;
  for (int i = 0; i < max_reads; ++i) {
    if (inst.read() != TP_OK) break;
    const size_t now = h.records().size();
    if (now == seen && i > 0) break;
    seen = now;
  }
  const auto all = h.records();
  return {all.begin() + static_cast<std::ptrdiff_t>(before), all.end()};
}

inline std::string plugin_path() { return TP_REST_PLUGIN; }

}  // namespace touchpoint::rest::test

#endif  // TOUCHPOINT_REST_TESTS_SUPPORT_HPP
