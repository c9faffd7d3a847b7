// The metrics registry is bounded: a plugin inventing label values or
// metric names cannot grow the hub's memory without limit.

#include <gtest/gtest.h>

#include "util/metrics.hpp"

namespace touchpoint::core {
namespace {

TEST(MetricsLimits, LabelSetsPerFamilyAreCapped) {
  Metrics m;
  for (size_t i = 0; i < Metrics::kMaxSeriesPerFamily + 500; ++i)
    m.counter_add("plugin_events_total", "customer=" + std::to_string(i), 1);
  EXPECT_EQ(m.dropped(), 500u);
  EXPECT_EQ(m.value("plugin_events_total", "customer=0"), 1.0);
  EXPECT_EQ(m.value("plugin_events_total", "customer=" + std::to_string(Metrics::kMaxSeriesPerFamily)), 0.0);
  // Existing series still count.
  m.counter_add("plugin_events_total", "customer=7", 2);
  EXPECT_EQ(m.value("plugin_events_total", "customer=7"), 3.0);
  EXPECT_NE(m.render().find("touchpoint_metrics_dropped_total 500\n"), std::string::npos);
}

TEST(MetricsLimits, FamiliesNamesAndLabelLengthAreCapped) {
  Metrics m;
  for (size_t i = 0; i < Metrics::kMaxFamilies + 10; ++i) m.gauge_set("g" + std::to_string(i), "", 1);
  EXPECT_EQ(m.dropped(), 10u);
  m.counter_add("c", std::string(Metrics::kMaxLabelBytes + 1, 'x'), 1);
  EXPECT_EQ(m.dropped(), 11u);
  m.observe(std::string(Metrics::kMaxNameBytes + 1, 'n'), "", 0.1);  // invalid names are ignored, not counted
  EXPECT_EQ(m.dropped(), 11u);
  // The histogram of an existing family keeps working at the family limit.
  Metrics h;
  for (size_t i = 0; i < Metrics::kMaxSeriesPerFamily; ++i) h.observe("lat_seconds", "i=" + std::to_string(i), 0.1);
  h.observe("lat_seconds", "i=new", 0.1);
  EXPECT_EQ(h.dropped(), 1u);
}

}  // namespace
}  // namespace touchpoint::core
