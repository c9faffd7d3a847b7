#include "util/metrics.hpp"

#include <cstdio>

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
      out.append(kv.substr(0, eq));
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

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
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

Metrics::Family& Metrics::family(std::string_view name, Kind kind) {
  auto it = families_.find(name);
  if (it == families_.end()) it = families_.emplace(std::string(name), Family{kind, {}, {}, {}}).first;
  return it->second;
}

void Metrics::counter_add(std::string_view name, std::string_view labels, double delta) {
  if (!valid_metric_name(name) || delta < 0) return;
  std::lock_guard<std::mutex> lk(mu_);
  family(name, Kind::counter).values[std::string(labels)] += delta;
}

void Metrics::gauge_set(std::string_view name, std::string_view labels, double value) {
  if (!valid_metric_name(name)) return;
  std::lock_guard<std::mutex> lk(mu_);
  family(name, Kind::gauge).values[std::string(labels)] = value;
}

void Metrics::observe(std::string_view name, std::string_view labels, double seconds) {
  if (!valid_metric_name(name)) return;
  std::lock_guard<std::mutex> lk(mu_);
  Histogram& h = family(name, Kind::histogram).histograms[std::string(labels)];
  if (h.buckets.empty()) h.buckets.assign(std::size(kBuckets), 0);
  for (size_t i = 0; i < std::size(kBuckets); ++i)
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

void Metrics::describe(std::string_view name, std::string_view help) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) it->second.help = std::string(help);
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
    if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + (f.kind == Kind::counter ? " counter\n" : f.kind == Kind::gauge ? " gauge\n" : " histogram\n");
    for (const auto& [labels, v] : f.values) out += name + prom_labels(labels) + " " + number(v) + "\n";
    for (const auto& [labels, h] : f.histograms) {
      for (size_t i = 0; i < std::size(kBuckets); ++i)
        out += name + "_bucket" + prom_labels(labels, "le=" + number(kBuckets[i])) + " " + std::to_string(h.buckets[i]) + "\n";
      out += name + "_bucket" + prom_labels(labels, "le=+Inf") + " " + std::to_string(h.count) + "\n";
      out += name + "_sum" + prom_labels(labels) + " " + number(h.sum) + "\n";
      out += name + "_count" + prom_labels(labels) + " " + std::to_string(h.count) + "\n";
    }
  }
  return out;
}

}  // namespace touchpoint::core
