#pragma once
// Shared helpers for the transform tests: build a step from a one-item YAML
// snippet, capture config errors as "file:line:col: message", render a
// StepResult as "keep" / "drop: reason" / "reject: reason", and time steps.

#include <time.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <utility>

#include "transform/transform.hpp"

namespace touchpoint::core::test {

inline Step make(const std::string& yaml, size_t index = 0) {
  return make_step(YAML::Load(yaml), index, ConfigSource("p.yaml"));
}

/// The ConfigError text make_step throws for `yaml`, or "<no error>".
inline std::string config_error(const std::string& yaml) {
  try {
    make(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}

inline Record record(const std::string& data_json) {
  Record r;
  r.id = "r-1";
  r.type = "event";
  r.source = "test";
  r.data = Json::parse(data_json);
  return r;
}

inline std::string outcome(const StepResult& result) {
  switch (result.kind) {
    case StepResult::Kind::keep:
      return result.reason.empty() ? "keep" : "keep: " + result.reason;
    case StepResult::Kind::drop:
      return "drop: " + result.reason;
    case StepResult::Kind::reject:
      return "reject: " + result.reason;
  }
  return "?";
}

/// Applies the step to `r` and returns its outcome.
inline std::string apply(const Step& step, Record& r) { return outcome(step.transform->apply(r)); }

/// Like apply, but a reject shows its dead-letter class: "too_large: reason".
inline std::string apply_coded(const Step& step, Record& r) {
  StepResult result = step.transform->apply(r);
  if (result.kind == StepResult::Kind::reject) return result.code + ": " + result.reason;
  return outcome(result);
}

/// CPU seconds this thread spends in f(): unlike wall-clock time, hardly
/// changed by other work on a shared machine.
template <class F>
double seconds(F&& f) {
  auto now = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  const double start = now();
  std::forward<F>(f)();
  return now() - start;
}

/// Bound for one step over a hostile value. Generous on purpose (sanitizer
/// builds on shared machines are slow): it catches minutes, not microseconds.
constexpr double kStepSeconds = 2.0;

}  // namespace touchpoint::core::test
