#include "json_template.hpp"

#include <algorithm>

namespace touchpoint::rest {

std::string dump_compact(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string text_of(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  return dump_compact(v);
}

Json lookup(const std::string& name, const TemplateContext& ctx) {
  if (!name.empty() && name[0] == '/') {
    if (ctx.subject == nullptr) return Json();
    const Json::json_pointer ptr(name);  // checked when the template was made
    return ctx.subject->contains(ptr) ? ctx.subject->at(ptr) : Json();
  }
  auto it = ctx.variables.find(name);
  return it == ctx.variables.end() ? Json() : it->second;
}

TextTemplate::TextTemplate(const std::string& text, const std::vector<std::string>& allowed) {
  size_t at = 0;
  while (at < text.size()) {
    const size_t open = text.find("{{", at);
    if (open == std::string::npos) {
      parts_.push_back({false, text.substr(at)});
      break;
    }
    if (open > at) parts_.push_back({false, text.substr(at, open - at)});
    const size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) throw TemplateError("'{{' without '}}' in \"" + text.substr(0, 80) + "\"");
    std::string name = text.substr(open + 2, close - open - 2);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (name.empty()) throw TemplateError("an empty placeholder in \"" + text.substr(0, 80) + "\"");
    if (name[0] == '/') {
      try {
        (void)Json::json_pointer(name);
      } catch (const Json::exception&) {
        throw TemplateError("'" + name.substr(0, 80) + "' is not a JSON pointer");
      }
    } else if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string names;
      for (const std::string& a : allowed) names += (names.empty() ? "" : ", ") + a;
      throw TemplateError("unknown placeholder {{" + name.substr(0, 80) + "}} (here: a /json/pointer or " + names +
                          ")");
    }
    parts_.push_back({true, std::move(name)});
    at = close + 2;
  }
}

bool TextTemplate::has_placeholders() const {
  return std::any_of(parts_.begin(), parts_.end(), [](const Part& p) { return p.placeholder; });
}

Json TextTemplate::value(const TemplateContext& ctx) const { return lookup(parts_.at(0).text, ctx); }

std::string TextTemplate::render(const TemplateContext& ctx,
                                 const std::function<std::string(const std::string&)>& escape, bool missing_ok) const {
  std::string out;
  for (const Part& p : parts_) {
    if (!p.placeholder) {
      out += p.text;
      continue;
    }
    const Json v = lookup(p.text, ctx);
    if (v.is_null() && !missing_ok) throw TemplateError("{{" + p.text.substr(0, 80) + "}} has no value");
    out += escape ? escape(text_of(v)) : text_of(v);
  }
  return out;
}

namespace {

// A child's JSON pointer (RFC 6901 escapes), so keys with '/' stay distinct.
std::string child(const std::string& path, const std::string& key) {
  std::string out = path + "/";
  for (char c : key) out += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
  return out;
}

// Every string's position in the shape, as the key of its compiled template.
void collect(const Json& node, const std::string& path, const std::vector<std::string>& allowed,
             std::map<std::string, TextTemplate>& out) {
  if (node.is_string()) {
    TextTemplate t(node.get<std::string>(), allowed);
    if (t.has_placeholders()) out.emplace(path, std::move(t));
  } else if (node.is_object()) {
    for (const auto& item : node.items()) collect(item.value(), child(path, item.key()), allowed, out);
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) collect(node[i], path + "/" + std::to_string(i), allowed, out);
  }
}

}  // namespace

JsonTemplate::JsonTemplate(Json shape, const std::vector<std::string>& allowed) : shape_(std::move(shape)) {
  collect(shape_, "", allowed, strings_);
}

Json JsonTemplate::render(const TemplateContext& ctx) const {
  bool omit = false;
  Json out = render_node(shape_, "", ctx, omit);
  return omit ? Json() : out;
}

Json JsonTemplate::render_node(const Json& node, const std::string& path, const TemplateContext& ctx,
                               bool& omit) const {
  omit = false;
  if (node.is_string()) {
    auto it = strings_.find(path);
    if (it == strings_.end()) return node;
    if (it->second.is_single_placeholder()) {
      Json v = it->second.value(ctx);
      omit = v.is_null();
      return v;
    }
    return it->second.render(ctx, {}, true);
  }
  if (node.is_object()) {
    Json out = Json::object();
    for (const auto& item : node.items()) {
      bool drop = false;
      Json v = render_node(item.value(), child(path, item.key()), ctx, drop);
      if (!drop) out[item.key()] = std::move(v);
    }
    return out;
  }
  if (node.is_array()) {
    Json out = Json::array();
    for (size_t i = 0; i < node.size(); ++i) {
      bool drop = false;
      Json v = render_node(node[i], path + "/" + std::to_string(i), ctx, drop);
      if (!drop) out.push_back(std::move(v));
    }
    return out;
  }
  return node;
}

}  // namespace touchpoint::rest
