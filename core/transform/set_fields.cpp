// set: { path: value, ... } always writes; default: { path: value, ... } only
// writes where the field is missing or null (an envelope field: empty).
// Values are typed per the YAML core schema (yaml_value.hpp). Envelope
// targets (@type, @key, @id) take the scalar's text as written.

#include <utility>
#include <vector>

#include "transform/builtin.hpp"
#include "transform/options.hpp"
#include "transform/yaml_value.hpp"

namespace touchpoint::core::transform {
namespace {

struct Assignment {
  FieldPath path;
  Json value;        ///< for data paths
  std::string text;  ///< for envelope paths
};

class SetFields final : public Transform {
 public:
  std::optional<std::vector<FieldUse>> fields() const override {
    std::vector<FieldUse> out;
    for (const Assignment& a : assignments_) out.push_back({a.path.text(), false, true});
    return out;
  }
  SetFields(std::vector<Assignment> assignments, bool only_missing)
      : assignments_(std::move(assignments)), only_missing_(only_missing) {}

  StepResult apply(Record& record) const override {
    for (const Assignment& a : assignments_) {
      if (a.path.is_envelope()) {
        std::string& field = a.path.envelope_field(record);
        if (!only_missing_ || field.empty()) field = a.text;
        continue;
      }
      if (only_missing_) {
        const Json* existing = a.path.find(record.data);
        if (existing != nullptr && !existing->is_null()) continue;
      }
      std::size_t blocked = 0;
      Json* target = a.path.make(record.data, &blocked);
      if (target == nullptr) {
        return StepResult::reject("cannot set '" + a.path.text() + "': '" + a.path.prefix(blocked) +
                                  "' is not an object");
      }
      *target = a.value;
    }
    return StepResult::keep();
  }

 private:
  std::vector<Assignment> assignments_;
  bool only_missing_;
};

std::unique_ptr<Transform> make(const YAML::Node& options, const YAML::Node& anchor, const ConfigSource& source,
                                const std::string& kind) {
  expect_map(options, anchor, kind, source);
  if (options.size() == 0) source.fail(options, "empty field map for " + kind);
  std::vector<Assignment> assignments;
  for (const auto& entry : options) {
    Assignment a{parse_path(entry.first, PathScope::data_or_envelope, kind, source), nullptr, {}};
    if (a.path.is_envelope()) {
      if (!entry.second.IsScalar()) {
        source.fail(entry.second.IsNull() ? entry.first : entry.second,
                    "value for '" + a.path.text() + "' must be a string");
      }
      a.text = entry.second.Scalar();
    } else {
      a.value = yaml_to_json(entry.second, source);
    }
    assignments.push_back(std::move(a));
  }
  return std::make_unique<SetFields>(std::move(assignments), kind == "default");
}

}  // namespace

std::unique_ptr<Transform> make_set(const YAML::Node& options, const YAML::Node& anchor, const ConfigSource& source) {
  return make(options, anchor, source, "set");
}

std::unique_ptr<Transform> make_default(const YAML::Node& options, const YAML::Node& anchor,
                                        const ConfigSource& source) {
  return make(options, anchor, source, "default");
}

}  // namespace touchpoint::core::transform
