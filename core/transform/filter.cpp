// filter: { field: country, op: eq, value: DE, action: drop|reject }
//
// Keeps records for which the condition holds; the others are dropped (or
// rejected with `action: reject`). Ops:
//   eq, ne           typed JSON equality (1 == 1.0, "1" != 1); ne holds for missing fields
//   in, not_in       value is a list; not_in holds for missing fields
//   exists, missing  present and not null / absent or null (no value)
//   regex            the ECMAScript pattern matches somewhere in the string
//                    (anchor with ^...$); matched with RE2 in linear time
//                    (pattern.hpp). A string longer than the pattern can
//                    check in bounded time rejects as too_large, whatever
//                    the action.
//   gt, ge, lt, le   numeric comparison; only JSON numbers qualify, numeric
//                    strings such as "42" do not
// Envelope fields (@type, @key, @id) are strings, missing when empty; their
// values are compared as written in the file, untyped.

#include <optional>
#include <utility>

#include "transform/builtin.hpp"
#include "transform/options.hpp"
#include "transform/pattern.hpp"
#include "transform/yaml_value.hpp"

namespace touchpoint::core::transform {
namespace {

enum class Op { eq, ne, in, not_in, exists, missing, regex, gt, ge, lt, le };

bool equals(const FieldView& view, const Json& value) {
  if (view.json != nullptr) return *view.json == value;
  return value.is_string() && value.get_ref<const std::string&>() == *view.text;
}

class Filter final : public Transform {
 public:
  std::optional<std::vector<FieldUse>> fields() const override { return uses({field_}, true, false); }
  Filter(FieldPath field, Op op, Json value, std::optional<Pattern> regex, bool reject, std::string reason)
      : field_(std::move(field)),
        op_(op),
        value_(std::move(value)),
        number_(value_.is_number() ? value_.get<double>() : 0.0),
        regex_(std::move(regex)),
        reject_(reject),
        reason_(std::move(reason)),
        too_large_(regex_ ? "filter cannot test " + field_.text() + ": the value is longer than the " +
                                std::to_string(regex_->max_input()) + " bytes regex '" + regex_->text() + "' can check"
                          : std::string()) {}

  StepResult apply(Record& record) const override {
    const FieldView view = field_.view(record);
    if (op_ == Op::regex) {
      const std::string* text = view.text;
      if (view.json != nullptr && view.json->is_string()) text = &view.json->get_ref<const std::string&>();
      if (text != nullptr && regex_->too_large(*text)) return StepResult::too_large(too_large_);
    }
    if (matches(view)) return StepResult::keep();
    return reject_ ? StepResult::reject(reason_) : StepResult::drop(reason_);
  }

 private:
  bool matches(const FieldView& view) const {
    bool present = !view.missing() && !(view.json != nullptr && view.json->is_null());
    switch (op_) {
      case Op::exists:
        return present;
      case Op::missing:
        return !present;
      case Op::eq:
        return present && equals(view, value_);
      case Op::ne:
        return !present || !equals(view, value_);
      case Op::in:
        return present && in(view);
      case Op::not_in:
        return !present || !in(view);
      case Op::regex:
        if (view.text != nullptr) return regex_->search(*view.text);
        return present && view.json->is_string() && regex_->search(view.json->get_ref<const std::string&>());
      case Op::gt:
      case Op::ge:
      case Op::lt:
      case Op::le:
        break;
    }
    if (!present || view.json == nullptr || !view.json->is_number()) return false;
    double x = view.json->get<double>();
    switch (op_) {
      case Op::gt:
        return x > number_;
      case Op::ge:
        return x >= number_;
      case Op::lt:
        return x < number_;
      default:
        return x <= number_;
    }
  }

  bool in(const FieldView& view) const {
    for (const Json& candidate : value_) {
      if (equals(view, candidate)) return true;
    }
    return false;
  }

  FieldPath field_;
  Op op_;
  Json value_;
  double number_;
  std::optional<Pattern> regex_;
  bool reject_;
  std::string reason_;
  std::string too_large_;
};

/// Envelope fields compare as strings, so their values are taken as written.
Json value_for(const YAML::Node& node, bool envelope, const ConfigSource& source) {
  if (!envelope) return yaml_to_json(node, source);
  if (!node.IsScalar()) source.fail(node, "values compared with an envelope field must be strings");
  return node.Scalar();
}

}  // namespace

std::unique_ptr<Transform> make_filter(const YAML::Node& options, const YAML::Node& anchor,
                                       const ConfigSource& source) {
  Options o(options, anchor, "filter", {"field", "op", "value", "action"}, source);
  FieldPath field = o.path("field", PathScope::data_or_envelope);
  std::string op_name = o.required_string("op");
  auto op = static_cast<Op>(
      o.choice("op", {"eq", "ne", "in", "not_in", "exists", "missing", "regex", "gt", "ge", "lt", "le"}, 0));
  bool reject = o.choice("action", {"drop", "reject"}, 0) == 1;

  std::string reason = "filter not matched: " + field.text() + " " + op_name;
  Json value;
  std::optional<Pattern> regex;
  switch (op) {
    case Op::exists:
    case Op::missing:
      if (o.has("value")) o.fail("value", "op '" + op_name + "' takes no value");
      break;
    case Op::eq:
    case Op::ne:
      value = value_for(o.required("value"), field.is_envelope(), source);
      break;
    case Op::in:
    case Op::not_in: {
      YAML::Node list = o.required("value");
      if (!list.IsSequence() || list.size() == 0)
        o.fail("value", "value for op '" + op_name + "' must be a non-empty list");
      value = Json::array();
      for (const YAML::Node& item : list) value.push_back(value_for(item, field.is_envelope(), source));
      break;
    }
    case Op::regex:
      regex = Pattern::compile(o.required("value"), source);
      value = regex->text();
      break;
    case Op::gt:
    case Op::ge:
    case Op::lt:
    case Op::le:
      if (field.is_envelope()) {
        o.fail("op", "op '" + op_name + "' compares numbers; envelope field '" + field.text() + "' is a string");
      }
      value = yaml_to_json(o.required("value"), source);
      if (!value.is_number()) o.fail("value", "value for op '" + op_name + "' must be a number");
      break;
  }
  if (!value.is_null()) {
    reason += ' ';
    reason += value.dump();
  }
  return std::make_unique<Filter>(std::move(field), op, std::move(value), std::move(regex), reject, std::move(reason));
}

}  // namespace touchpoint::core::transform
