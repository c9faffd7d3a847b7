#pragma once
// A small in-process metrics registry rendered in the Prometheus text
// format. Labels are given as "k1=v1,k2=v2" (the plugin ABI's form).
// Invalid metric names, negative counter increments and updates of a name
// registered with another type are ignored; invalid label-name characters
// become '_', so the output always parses.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace touchpoint::core {

class Metrics {
 public:
  /// Bounds, so that a plugin cannot grow memory without limit through
  /// metric names or label sets: updates beyond them are dropped and
  /// counted in touchpoint_metrics_dropped_total.
  static constexpr size_t kMaxFamilies = 1000;
  static constexpr size_t kMaxSeriesPerFamily = 1000;
  static constexpr size_t kMaxLabelBytes = 1024;
  static constexpr size_t kMaxNameBytes = 200;

  void counter_add(std::string_view name, std::string_view labels, double delta);
  void gauge_set(std::string_view name, std::string_view labels, double value);
  /// Records a duration in seconds into a histogram with fixed buckets.
  void observe(std::string_view name, std::string_view labels, double seconds);
  /// Sets help text shown as # HELP (also before the metric has a value).
  void describe(std::string_view name, std::string_view help);

  double value(std::string_view name, std::string_view labels = {}) const;
  /// Updates dropped at the limits so far.
  uint64_t dropped() const;
  std::string render() const;
  /// Every series' value by family and labels; a histogram as <name>_count and <name>_sum.
  std::map<std::string, std::map<std::string, double>> values() const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;
    uint64_t count = 0;
    double sum = 0;
  };
  enum class Kind { counter, gauge, histogram };
  struct Family {
    Kind kind;
    std::map<std::string, double> values;  // labels -> value
    std::map<std::string, Histogram> histograms;
  };
  Family* family(std::string_view name, Kind kind);  // null if `name` has another kind, or at the limit
  template <typename Map>
  typename Map::mapped_type* series(Map& map, std::string_view labels);  // null at the limit

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;
  std::map<std::string, std::string, std::less<>> help_;
  uint64_t dropped_ = 0;
};

/// "a=b,c=d" + extra "x=y" -> "a=b,c=d,x=y"
std::string join_labels(std::string_view a, std::string_view b);

}  // namespace touchpoint::core
