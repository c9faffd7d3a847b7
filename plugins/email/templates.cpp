#include "templates.hpp"

#include <fstream>
#include <kainjow/mustache.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

namespace tp_email {

namespace {

namespace mu = kainjow::mustache;

constexpr int kMaxDepth = 32;
constexpr size_t kMaxSubjectBytes = 500;  // a subject is a line a person reads; a huge variable is cut  // deeper
                                          // customer data is not reachable from a template anyway

mu::data to_data(const nlohmann::json& v, int depth) {
  if (depth > kMaxDepth) return mu::data(mu::data::type::bool_false);
  switch (v.type()) {
    case nlohmann::json::value_t::object: {
      mu::data d(mu::data::type::object);
      for (const auto& [k, x] : v.items()) d.set(k, to_data(x, depth + 1));
      return d;
    }
    case nlohmann::json::value_t::array: {
      mu::data d(mu::data::type::list);
      for (const auto& x : v) d.push_back(to_data(x, depth + 1));
      return d;
    }
    case nlohmann::json::value_t::string:
      return mu::data(v.get_ref<const std::string&>());
    case nlohmann::json::value_t::boolean:
      return mu::data(v.get<bool>() ? mu::data::type::bool_true : mu::data::type::bool_false);
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return mu::data(mu::data::type::bool_false);
    default:
      return mu::data(v.dump());
  }
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string out;
  char buf[65536];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    out.append(buf, static_cast<std::size_t>(in.gcount()));
    if (out.size() > TemplateStore::kMaxTemplateBytes)
      throw TemplateError("template file " + path + " is larger than 1 MiB");
  }
  if (in.bad()) throw TemplateError("template file " + path + " cannot be read");
  return out;
}

std::unique_ptr<mu::mustache> compile(const std::string& path, const std::string& text, bool html) {
  auto t = std::make_unique<mu::mustache>(text);
  if (!t->is_valid()) throw TemplateError("template file " + path + " is invalid: " + t->error_message());
  if (!html) t->set_custom_escape([](const std::string& s) { return s; });
  return t;
}

std::string render_one(mu::mustache& t, const mu::data& data, const std::string& path) {
  std::string out = t.render(data);
  if (!t.is_valid()) throw TemplateError("template file " + path + " failed to render: " + t.error_message());
  return out;
}

// Controls (CR, LF, NUL, TAB...) become spaces, runs of spaces one space.
std::string one_line(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const char x = (c < 0x20 || c == 0x7f) ? ' ' : ch;
    if (x == ' ' && (out.empty() || out.back() == ' ')) continue;
    out.push_back(x);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > kMaxSubjectBytes) {
    size_t cut = kMaxSubjectBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 sequence
    out.resize(cut);
  }
  return out;
}

}  // namespace

struct TemplateStore::Parsed {
  std::string subject_path, text_path, html_path;
  std::unique_ptr<mu::mustache> subject, text, html;
};

bool valid_template_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.find("..") != std::string_view::npos) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

TemplateStore::TemplateStore(std::string dir) : dir_(std::move(dir)) {}
TemplateStore::~TemplateStore() = default;

void TemplateStore::reload() { cache_.clear(); }

const TemplateStore::Parsed& TemplateStore::load(const std::string& name) {
  if (auto it = cache_.find(name); it != cache_.end()) return *it->second;
  if (!valid_template_name(name))
    throw TemplateError("template name '" + name.substr(0, 128) + "' is not a plain file name ([A-Za-z0-9._-])");
  auto p = std::make_unique<Parsed>();
  const std::string base = dir_ + "/" + name;
  p->subject_path = base + ".subject";
  p->text_path = base + ".txt";
  p->html_path = base + ".html";
  const auto subject = read_file(p->subject_path);
  if (!subject) throw TemplateError("template '" + name + "': " + p->subject_path + " not found");
  const auto text = read_file(p->text_path);
  if (!text) throw TemplateError("template '" + name + "': " + p->text_path + " not found");
  p->subject = compile(p->subject_path, *subject, false);
  p->text = compile(p->text_path, *text, false);
  if (const auto html = read_file(p->html_path)) p->html = compile(p->html_path, *html, true);
  return *cache_.emplace(name, std::move(p)).first->second;
}

Rendered TemplateStore::render(const std::string& name, const nlohmann::json& context) {
  const Parsed& p = load(name);
  const mu::data data = to_data(context, 0);
  Rendered r;
  r.subject = one_line(render_one(*p.subject, data, p.subject_path));
  r.text = render_one(*p.text, data, p.text_path);
  if (p.html) {
    r.html = render_one(*p.html, data, p.html_path);
    r.has_html = true;
  }
  return r;
}

}  // namespace tp_email
