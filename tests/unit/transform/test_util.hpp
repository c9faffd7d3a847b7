#pragma once
// Shared helpers for the transform tests: build a step from a one-item YAML
// snippet, capture config errors as "file:line:col: message", and render a
// StepResult as "keep" / "drop: reason" / "reject: reason".

#include <yaml-cpp/yaml.h>

#include <string>

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

}  // namespace touchpoint::core::test
