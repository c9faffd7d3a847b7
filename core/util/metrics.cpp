#include "util/metrics.hpp"

#include <charconv>
#include <cmath>

namespace touchpoint::core {
namespace {

constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

std::string prom_labels(std::string_view labels, std::string_view extra = {}) {
  std::string out;
  auto add = [&](std::string_view list) {
    size_t pos = 0;
    while (pos < list.size()) {
      size_t comma = list.find(',', pos);
      std::string_view kv = list.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
      pos = comma == std::string_view::npos ? list.size() : comma + 1;
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      if (!out.empty()) out += ',';
      // Label names must match [a-zA-Z_][a-zA-Z0-9_]*; anything else becomes '_'.
      std::string_view label = kv.substr(0, eq);
      if (label[0] >= '0' && label[0] <= '9') out += '_';
      for (char c : label)
        out += ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') ? c : '_';
      out += "=\"";
      for (char c : kv.substr(eq + 1)) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\n') {
          out += "\\n";
          continue;
        }
        out += c;
      }
      out += '"';
    }
  };
  add(labels);
  add(extra);
  return out.empty() ? std::string() : "{" + out + "}";
}

// Shortest text that reads back as the same double; NaN and infinities as
// the exposition format spells them.
std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

std::string escape_help(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

bool valid_metric_name(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':'))
      return false;
  return !(n[0] >= '0' && n[0] <= '9');
}

}  // namespace

std::string join_labels(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  return std::string(a) + "," + std::string(b);
}

Metrics::Family* Metrics::family(std::string_view name, Kind kind) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    if (families_.size() >= kMaxFamilies) return nullptr;
    it = families_.emplace(std::string(name), Family{kind, {}, {}}).first;
  }
  // One name, one type: a counter cannot also be a gauge or a histogram.
  return it->second.kind == kind ? &it->second : nullptr;
}

template <typename Map>
typename Map::mapped_type* Metrics::series(Map& map, std::string_view labels) {
  if (labels.size() > kMaxLabelBytes) return nullptr;
  auto it = map.find(std::string(labels));
  if (it != map.end()) return &it->second;
  if (map.size() >= kMaxSeriesPerFamily) return nullptr;
  return &map[std::string(labels)];
}

void Metrics::counter_add(std::string_view name, std::string_view labels, double delta) {
  if (!valid_metric_name(name) || name.size() > kMaxNameBytes || !(delta >= 0)) return;
  std::lock_guard<std::mutex> lk(mu_);
  Family* f = family(name, Kind::counter);
  double* v = f ? series(f->values, labels) : nullptr;
  if (v == nullptr) {
    ++dropped_;
    return;
  }
  *v += delta;
}

void Metrics::gauge_set(std::string_view name, std::string_view labels, double value) {
  if (!valid_metric_name(name) || name.size() > kMaxNameBytes) return;
  std::lock_guard<std::mutex> lk(mu_);
  Family* f = family(name, Kind::gauge);
  double* v = f ? series(f->values, labels) : nullptr;
  if (v == nullptr) {
    ++dropped_;
    return;
  }
  *v = value;
}

void Metrics::observe(std::string_view name, std::string_view labels, double seconds) {
  if (!valid_metric_name(name) || name.size() > kMaxNameBytes) return;
  std::lock_guard<std::mutex> lk(mu_);
  Family* f = family(name, Kind::histogram);
  Histogram* hp = f ? series(f->histograms, labels) : nullptr;
  if (hp == nullptr) {
    ++dropped_;
    return;
  }
  Histogram& h = *hp;
  if (h.buckets.empty()) h.buckets.assign(std::size(kBuckets), 0);
  for (size_t i = 0; i < std::size(kBuckets); ++i)
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

void Metrics::describe(std::string_view name, std::string_view help) {
  std::lock_guard<std::mutex> lk(mu_);
  help_[std::string(name)] = std::string(help);  // kept for a family that appears later, too
}

double Metrics::value(std::string_view name, std::string_view labels) const {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return 0;
  auto v = it->second.values.find(std::string(labels));
  return v == it->second.values.end() ? 0 : v->second;
}

std::string Metrics::render() const {
  std::lock_guard<std::mutex> lk(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (auto h = help_.find(name); h != help_.end() && !h->second.empty())
      out += "# HELP " + name + " " + escape_help(h->second) + "\n";
    out += "# TYPE " + name +
           (f.kind == Kind::counter ? " counter\n"
            : f.kind == Kind::gauge ? " gauge\n"
                                    : " histogram\n");
    for (const auto& [labels, v] : f.values) out += name + prom_labels(labels) + " " + number(v) + "\n";
    for (const auto& [labels, h] : f.histograms) {
      for (size_t i = 0; i < std::size(kBuckets); ++i)
        out += name + "_bucket" + prom_labels(labels, "le=" + number(kBuckets[i])) + " " +
               std::to_string(h.buckets[i]) + "\n";
      out += name + "_bucket" + prom_labels(labels, "le=+Inf") + " " + std::to_string(h.count) + "\n";
      out += name + "_sum" + prom_labels(labels) + " " + number(h.sum) + "\n";
      out += name + "_count" + prom_labels(labels) + " " + std::to_string(h.count) + "\n";
    }
  }
  if (dropped_ > 0)
    out +=
        "# HELP touchpoint_metrics_dropped_total Updates dropped because a metric limit was reached\n"
        "# TYPE touchpoint_metrics_dropped_total counter\ntouchpoint_metrics_dropped_total " +
        std::to_string(dropped_) + "\n";
  return out;
}

std::map<std::string, std::map<std::string, double>> Metrics::values() const {
  std::lock_guard<std::mutex> lk(mu_);
  std::map<std::string, std::map<std::string, double>> out;
  for (const auto& [name, f] : families_) {
    for (const auto& [labels, v] : f.values) out[name][labels] = v;
    for (const auto& [labels, h] : f.histograms) {
      out[name + "_count"][labels] = static_cast<double>(h.count);
      out[name + "_sum"][labels] = h.sum;
    }
  }
  return out;
}

uint64_t Metrics::dropped() const {
  std::lock_guard<std::mutex> lk(mu_);
  return dropped_;
}

}  // namespace touchpoint::core
