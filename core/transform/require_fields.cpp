// require: { fields: { path: { type: ..., regex: ..., enum: [...] }, ... } }
//      or: { fields: [path, ...] }            (presence only)
//
// Rejects records whose fields are missing, null or do not match. Checks run
// in the order type, enum, regex. `regex` is ECMAScript syntax, compiled once
// and matched with RE2 in linear time (pattern.hpp): it matches anywhere in
// the string unless anchored with ^...$. A string longer than the pattern can
// check in bounded time rejects as too_large. Envelope fields (@key, ...)
// count as missing when empty.
// Reasons name the field and the rule but not the value, so they stay
// low-cardinality for metrics (the dead-letter store keeps the record).

#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include "transform/builtin.hpp"
#include "transform/options.hpp"
#include "transform/pattern.hpp"
#include "transform/yaml_value.hpp"

namespace touchpoint::core::transform {
namespace {

enum class Type { any, string, number, integer, boolean, object, array };

const char* type_article(Type t) {
  switch (t) {
    case Type::string:
      return "a string";
    case Type::number:
      return "a number";
    case Type::integer:
      return "an integer";
    case Type::boolean:
      return "a boolean";
    case Type::object:
      return "an object";
    case Type::array:
      return "an array";
    case Type::any:
      break;
  }
  return "anything";
}

bool has_type(const Json& v, Type t) {
  switch (t) {
    case Type::string:
      return v.is_string();
    case Type::number:
      return v.is_number();
    case Type::integer:
      // 3.0 counts: JSON does not distinguish integers from floats.
      return v.is_number_integer() || (v.is_number_float() && std::trunc(v.get<double>()) == v.get<double>());
    case Type::boolean:
      return v.is_boolean();
    case Type::object:
      return v.is_object();
    case Type::array:
      return v.is_array();
    case Type::any:
      break;
  }
  return true;
}

struct Rule {
  FieldPath path;
  Type type = Type::any;
  std::optional<Pattern> regex;
  Json allowed;  ///< array of allowed values, or null
  std::string allowed_text;
};

class RequireFields final : public Transform {
 public:
  std::optional<std::vector<FieldUse>> fields() const override {
    std::vector<FieldUse> out;
    for (const Rule& r : rules_) out.push_back({r.path.text(), true, false});
    return out;
  }
  explicit RequireFields(std::vector<Rule> rules) : rules_(std::move(rules)) {}

  StepResult apply(Record& record) const override {
    for (const Rule& r : rules_) {
      FieldView view = r.path.view(record);
      if (view.missing()) return StepResult::reject("missing required field '" + r.path.text() + "'");
      if (view.json != nullptr) {
        if (StepResult result = check(r, *view.json); result.kind != StepResult::Kind::keep) return result;
      } else if (StepResult result = check_text(r, *view.text); result.kind != StepResult::Kind::keep) {
        return result;
      }
    }
    return StepResult::keep();
  }

 private:
  static StepResult check(const Rule& r, const Json& v) {
    if (v.is_null()) return StepResult::reject("required field '" + r.path.text() + "' is null");
    if (!has_type(v, r.type)) {
      return StepResult::reject("field '" + r.path.text() + "' must be " + type_article(r.type) + " (got " +
                                (v.is_number_float() && r.type == Type::integer ? "fractional number" : v.type_name()) +
                                ")");
    }
    if (!r.allowed.is_null()) {
      bool found = false;
      for (const Json& a : r.allowed) found = found || a == v;
      if (!found) return StepResult::reject("field '" + r.path.text() + "' is not one of: " + r.allowed_text);
    }
    if (r.regex) {
      if (!v.is_string()) {
        return StepResult::reject("field '" + r.path.text() + "' must be a string to match regex '" + r.regex->text() +
                                  "' (got " + v.type_name() + ")");
      }
      return check_regex(r, v.get_ref<const std::string&>());
    }
    return StepResult::keep();
  }

  /// Envelope fields are strings; `type` was restricted to string at config time.
  static StepResult check_text(const Rule& r, const std::string& text) {
    if (!r.allowed.is_null()) {
      bool found = false;
      for (const Json& a : r.allowed) found = found || (a.is_string() && a.get_ref<const std::string&>() == text);
      if (!found) return StepResult::reject("field '" + r.path.text() + "' is not one of: " + r.allowed_text);
    }
    return r.regex ? check_regex(r, text) : StepResult::keep();
  }

  static StepResult check_regex(const Rule& r, const std::string& text) {
    if (r.regex->too_large(text)) {
      return StepResult::too_large("field '" + r.path.text() + "' is longer than the " +
                                   std::to_string(r.regex->max_input()) + " bytes regex '" + r.regex->text() +
                                   "' can check");
    }
    if (r.regex->search(text)) return StepResult::keep();
    return StepResult::reject("field '" + r.path.text() + "' does not match regex '" + r.regex->text() + "'");
  }

  std::vector<Rule> rules_;
};

Rule make_rule(const YAML::Node& key, const YAML::Node& spec, const ConfigSource& source) {
  Rule r;
  r.path = parse_path(key, PathScope::data_or_envelope, "require", source);
  if (!spec.IsDefined() || spec.IsNull()) return r;
  Options o(spec, key, "require field '" + r.path.text() + "'", {"type", "regex", "enum"}, source);
  if (o.has("type")) {
    r.type = static_cast<Type>(1 + o.choice("type", {"string", "number", "integer", "boolean", "object", "array"}, 0));
  }
  if (r.path.is_envelope() && r.type != Type::any && r.type != Type::string) {
    o.fail("type", "envelope field '" + r.path.text() + "' is always a string");
  }
  if (o.has("regex")) {
    r.regex = Pattern::compile(o.get("regex"), source);
  }
  if (o.has("enum")) {
    YAML::Node list = o.get("enum");
    if (!list.IsSequence() || list.size() == 0) o.fail("enum", "'enum' for " + o.what() + " must be a non-empty list");
    r.allowed = Json::array();
    for (const YAML::Node& item : list) {
      if (!item.IsScalar() && !item.IsNull()) source.fail(item, "enum values must be scalars");
      r.allowed.push_back(yaml_to_json(item, source));
      if (!r.allowed_text.empty()) r.allowed_text += ", ";
      r.allowed_text += r.allowed.back().is_string() ? r.allowed.back().get<std::string>() : r.allowed.back().dump();
    }
  }
  return r;
}

}  // namespace

std::unique_ptr<Transform> make_require(const YAML::Node& options, const YAML::Node& anchor,
                                        const ConfigSource& source) {
  Options o(options, anchor, "require", {"fields"}, source);
  YAML::Node fields = o.required("fields");
  std::vector<Rule> rules;
  if (fields.IsSequence()) {
    for (const YAML::Node& item : fields) rules.push_back(make_rule(item, YAML::Node(), source));
  } else if (fields.IsMap()) {
    for (const auto& entry : fields) rules.push_back(make_rule(entry.first, entry.second, source));
  } else {
    o.fail("fields", "'fields' for require must be a map of field rules or a list of field paths");
  }
  if (rules.empty()) o.fail("fields", "empty field list for require 'fields'");
  return std::make_unique<RequireFields>(std::move(rules));
}

}  // namespace touchpoint::core::transform
