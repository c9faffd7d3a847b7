// Message templates: DIR/{name}.subject, DIR/{name}.txt and the optional
// DIR/{name}.html, rendered with kainjow mustache. Only the HTML part escapes
// variables (HTML escaping); the subject and text part take them verbatim,
// and the subject is flattened to one line so a variable cannot add headers.
#ifndef TP_EMAIL_TEMPLATES_HPP
#define TP_EMAIL_TEMPLATES_HPP

#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <stdexcept>
#include <string>

namespace tp_email {

/// A template that cannot be used (missing, unreadable, invalid); permanent for the message.
struct TemplateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Rendered {
  std::string subject;  ///< one line, UTF-8
  std::string text;
  std::string html;  ///< empty when the template has no .html
  bool has_html = false;
};

/// A template name is a file stem: [A-Za-z0-9][A-Za-z0-9._-]*, at most 128 bytes, no "..".
bool valid_template_name(std::string_view name);

class TemplateStore {
 public:
  static constexpr std::size_t kMaxTemplateBytes = 1024 * 1024;

  explicit TemplateStore(std::string dir);
  ~TemplateStore();
  TemplateStore(const TemplateStore&) = delete;
  TemplateStore& operator=(const TemplateStore&) = delete;

  /// Renders `name` with `context` (a JSON object). Throws TemplateError.
  Rendered render(const std::string& name, const nlohmann::json& context);
  /// Forgets the parsed templates, so edits on disk apply to the next render.
  void reload();

 private:
  struct Parsed;
  const Parsed& load(const std::string& name);

  std::string dir_;
  std::map<std::string, std::unique_ptr<Parsed>> cache_;
};

}  // namespace tp_email

#endif  // TP_EMAIL_TEMPLATES_HPP
