// Templates for requests and records (README.md "Templates"): any JSON
// value whose strings may hold placeholders. `{{/a/b}}` is a JSON pointer
// into the subject (a response item, a record's data); `{{name}}` a
// variable (cursor, next, record.id, ...). A string that is exactly one
// placeholder takes the value with its type, and is left out of its object
// or array when the value is missing; placeholders inside longer text are
// replaced by the value's text. Values are inserted as data, never parsed
// again, so a hostile value cannot change the shape of a request.
#ifndef TOUCHPOINT_REST_JSON_TEMPLATE_HPP
#define TOUCHPOINT_REST_JSON_TEMPLATE_HPP

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace touchpoint::rest {

using Json = nlohmann::json;

/// What a template's placeholders can name.
struct TemplateContext {
  const Json* subject = nullptr;          ///< target of `{{/pointer}}`
  std::map<std::string, Json> variables;  ///< `{{name}}`; a null value counts as missing
};

/// A placeholder in running text named a missing value, or a template is malformed.
class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One string of a template, split into literal text and placeholders.
class TextTemplate {
 public:
  TextTemplate() = default;
  /// Throws TemplateError for an unclosed `{{`, an empty name, or a name not in `allowed` (empty: any).
  explicit TextTemplate(const std::string& text, const std::vector<std::string>& allowed = {});

  bool is_single_placeholder() const { return parts_.size() == 1 && parts_[0].placeholder; }
  bool has_placeholders() const;
  /// The value of a single placeholder, or null when it is missing.
  Json value(const TemplateContext& ctx) const;
  /// The text, each value through `escape` (URL encoding for paths and
  /// queries); `missing_ok` renders a missing value as "" instead of throwing.
  std::string render(const TemplateContext& ctx, const std::function<std::string(const std::string&)>& escape = {},
                     bool missing_ok = false) const;

 private:
  struct Part {
    bool placeholder = false;
    std::string text;  // literal text, or the placeholder's name
  };
  std::vector<Part> parts_;
};

/// A JSON value with templated strings (request bodies, record mappings).
class JsonTemplate {
 public:
  JsonTemplate() = default;
  explicit JsonTemplate(Json shape, const std::vector<std::string>& allowed = {});
  bool empty() const { return shape_.is_null(); }
  /// The value with every placeholder filled in (missing ones left out, see above).
  Json render(const TemplateContext& ctx) const;

 private:
  Json render_node(const Json& node, const std::string& path, const TemplateContext& ctx, bool& omit) const;
  Json shape_;
  std::map<std::string, TextTemplate> strings_;  // by the string's JSON pointer in shape_
};

/// The text form of a value inside running text: strings as they are,
/// null as "", anything else as compact JSON.
std::string text_of(const Json& v);

/// Compact JSON text; invalid UTF-8 in strings is replaced, never thrown on.
std::string dump_compact(const Json& v);

/// Looks up `name` (a pointer starting with '/', or a variable) in `ctx`; null when missing.
Json lookup(const std::string& name, const TemplateContext& ctx);

}  // namespace touchpoint::rest

#endif  // TOUCHPOINT_REST_JSON_TEMPLATE_HPP
