#pragma once
// A transform is one step of a pipeline. It edits a record in place and says
// whether the record goes on, is filtered out on purpose, or is rejected (it
// then goes to the dead-letter store with the pipeline, step and reason).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config_error.hpp"
#include "record/record.hpp"

namespace touchpoint::core {

struct StepResult {
  enum class Kind { keep, drop, reject };
  Kind kind = Kind::keep;
  std::string reason;  ///< for reject (and drop, for metrics/debugging)
  /// Why a reject happened, as the dead letter's error class: "rejected" (the
  /// value is invalid), "too_large" (over an input limit, refused without
  /// being processed) or "timeout" (over the per-record budget).
  std::string code = "rejected";
  /// With keep: further records the step made from this one (a `lua` step
  /// returning a list). They go on through the steps after this one.
  std::vector<Record> emitted;

  static StepResult keep() { return {}; }
  static StepResult drop(std::string why) { return {Kind::drop, std::move(why), "rejected", {}}; }
  static StepResult reject(std::string why) { return {Kind::reject, std::move(why), "rejected", {}}; }
  static StepResult too_large(std::string why) { return {Kind::reject, std::move(why), "too_large", {}}; }
  static StepResult timeout(std::string why) { return {Kind::reject, std::move(why), "timeout", {}}; }
};

/// A field a step names in its options: what `touchpoint validate --discover`
/// checks against the fields a source offers, and what `touchpoint docs` shows.
struct FieldUse {
  std::string path;  ///< "address.city", or "@key" for the envelope
  bool reads = false;
  bool writes = false;
  bool removes = false;
};

class Transform {
 public:
  virtual ~Transform() = default;
  /// Must be thread-compatible: const, no shared mutable state.
  virtual StepResult apply(Record& record) const = 0;
  /// The contents of files the step read when it was built (a Lua script),
  /// part of the pipeline's fingerprint so that a reload sees their edits.
  virtual std::string loaded_files() const { return {}; }
  /// The fields the step reads or writes, in option order; std::nullopt for a
  /// step that may touch fields it does not name (a Lua script).
  virtual std::optional<std::vector<FieldUse>> fields() const { return std::vector<FieldUse>{}; }
};

/// A configured step: its kind ("rename"), a display name ("2:rename") and the transform.
struct Step {
  std::string kind;
  std::string name;
  std::unique_ptr<Transform> transform;
};

/// Builds one step from a pipeline file's `transforms:` list item, which is a
/// single-key map `{ <kind>: <options> }`. Throws ConfigError with the
/// position of the offending node on any mistake (unknown kind, unknown or
/// missing option, wrong type, bad regex, unknown phone region, ...).
Step make_step(const YAML::Node& item, size_t index, const ConfigSource& source);

/// The kinds make_step knows, for `touchpoint validate` and docs.
std::vector<std::string> transform_kinds();

}  // namespace touchpoint::core
