#include "json_input.hpp"

#include <simdjson.h>

namespace touchpoint::callcenter {

namespace {

namespace dom = simdjson::dom;

std::string describe(simdjson::error_code err) {
  switch (err) {
    case simdjson::DEPTH_ERROR:
      return "not valid JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    case simdjson::NUMBER_ERROR:
      return "not valid JSON: a number is malformed or out of range (revenue 1e309?)";
    case simdjson::UTF8_ERROR:
      return "not valid JSON: invalid UTF-8 (a Latin-1 file?)";
    default:
      return std::string("not valid JSON: ") + simdjson::error_message(err);
  }
}

Fields fields_of(dom::object obj) {
  Fields out;
  for (auto field : obj) {
    FieldValue v;
    switch (field.value.type()) {
      case dom::element_type::STRING:
        v.text = std::string(std::string_view(field.value));
        break;
      case dom::element_type::INT64:
      case dom::element_type::UINT64:
      case dom::element_type::DOUBLE:
        v.type = FieldValue::Type::number;
        v.text = simdjson::minify(field.value);
        break;
      case dom::element_type::NULL_VALUE:
        continue;  // null is absent
      default:
        v.type = FieldValue::Type::other;
    }
    out.insert_or_assign(std::string(field.key), std::move(v));
  }
  return out;
}

simdjson::error_code parse(dom::parser& parser, std::string_view json, dom::element& out) {
  if (auto err = parser.allocate(json.size() < 64 ? 64 : json.size(), kMaxJsonDepth); err) return err;
  return parser.parse(json.data(), json.size()).get(out);
}

}  // namespace

std::variant<Fields, JsonInputError> parse_json_object(std::string_view json) {
  dom::parser parser;
  dom::element root;
  if (auto err = parse(parser, json, root); err) return JsonInputError{describe(err)};
  dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) return JsonInputError{"not a JSON object"};
  return fields_of(obj);
}

std::variant<std::vector<Fields>, JsonInputError> parse_json_body(std::string_view body, size_t max_items) {
  dom::parser parser;
  dom::element root;
  if (auto err = parse(parser, body, root); err) return JsonInputError{describe(err)};
  dom::array list;
  if (root.type() == dom::element_type::OBJECT) {
    dom::object obj(root);
    dom::element inner;
    if (obj.at_key("dispositions").get(inner) != simdjson::SUCCESS) return std::vector<Fields>{fields_of(obj)};
    if (inner.get_array().get(list) != simdjson::SUCCESS)
      return JsonInputError{"'dispositions' must be an array of objects"};
  } else if (root.get_array().get(list) != simdjson::SUCCESS) {
    return JsonInputError{"the body must be a disposition object, an array of them or {\"dispositions\": [...]}"};
  }
  std::vector<Fields> out;
  long index = 0;
  for (dom::element e : list) {
    if (out.size() >= max_items)
      return JsonInputError{"more than " + std::to_string(max_items) + " dispositions in one request"};
    dom::object obj;
    if (e.get_object().get(obj) != simdjson::SUCCESS) return JsonInputError{"not a JSON object", index};
    out.push_back(fields_of(obj));
    ++index;
  }
  return out;
}

}  // namespace touchpoint::callcenter
