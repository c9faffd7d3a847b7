// normalize_email: { field: email, on_invalid: reject|keep|remove }
//
// Trims surrounding whitespace and lowercases the whole address. RFC 5321
// says the local part is case-sensitive, but no real mailbox provider treats
// it so, and "Max@X.de" vs "max@x.de" duplicates are a well-known pain for
// customer data platforms; lowercasing makes the address usable as a key.
// Only ASCII letters are lowercased; UTF-8 bytes are left alone.
//
// Validation is deliberately rough (no full RFC 5322 grammar): exactly one
// '@', non-empty local part and domain, a dot in the domain, no whitespace.
// A missing field is left alone (use `require`).
//
// An address longer than 254 bytes (RFC 5321's limit on a forward path)
// once surrounding whitespace is trimmed is refused as too_large before
// anything else looks at it. Every step is one pass over the value.

#include <string>
#include <string_view>

#include "transform/builtin.hpp"
#include "transform/options.hpp"

namespace touchpoint::core::transform {
namespace {

constexpr std::size_t kMaxBytes = 254;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

/// Why a trimmed address is not acceptable, or nullptr. None of the checks
/// depend on letter case, so this runs before anything is changed.
const char* problem_with(std::string_view s) {
  if (s.empty()) return "empty";
  std::size_t at = std::string_view::npos;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (is_space(s[i])) return "contains whitespace";
    if (s[i] == '@') {
      if (at != std::string_view::npos) return "more than one '@'";
      at = i;
    }
  }
  if (at == std::string_view::npos) return "missing '@'";
  if (at == 0) return "empty local part";
  std::string_view domain = s.substr(at + 1);
  if (domain.empty()) return "empty domain";
  if (domain.find('.') == std::string_view::npos) return "domain has no dot";
  if (domain.front() == '.' || domain.back() == '.') return "domain starts or ends with a dot";
  return nullptr;
}

/// Trims and lowercases in place, without allocating.
void normalize(std::string& s, std::string_view trimmed) {
  std::size_t begin = static_cast<std::size_t>(trimmed.data() - s.data());
  s.erase(begin + trimmed.size());
  s.erase(0, begin);
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

class NormalizeEmail final : public Transform {
 public:
  std::optional<std::vector<FieldUse>> fields() const override { return uses({field_}, true, true); }
  NormalizeEmail(FieldPath field, OnInvalid on_invalid)
      : field_(std::move(field)), on_invalid_(on_invalid), prefix_("invalid email in '" + field_.text() + "': ") {}

  StepResult apply(Record& record) const override {
    Json* value = field_.find(record.data);
    if (value == nullptr) return StepResult::keep();
    if (!value->is_string()) return invalid(record, std::string("not a string but ") + value->type_name());
    // Invalid values stay as they were, so the dead-letter store shows the original.
    std::string& text = value->get_ref<std::string&>();
    std::string_view trimmed = trim(text);
    if (trimmed.size() > kMaxBytes) {
      return on_invalid_result(on_invalid_, field_, record, StepResult::too_large(prefix_ + too_long_));
    }
    if (const char* problem = problem_with(trimmed)) return invalid(record, problem);
    normalize(text, trimmed);
    return StepResult::keep();
  }

 private:
  StepResult invalid(Record& record, const std::string& problem) const {
    return on_invalid_result(on_invalid_, field_, record, StepResult::reject(prefix_ + problem));
  }

  FieldPath field_;
  OnInvalid on_invalid_;
  std::string prefix_;
  std::string too_long_ = "longer than " + std::to_string(kMaxBytes) + " bytes";
};

}  // namespace

std::unique_ptr<Transform> make_normalize_email(const YAML::Node& options, const YAML::Node& anchor,
                                                const ConfigSource& source) {
  Options o(options, anchor, "normalize_email", {"field", "on_invalid"}, source);
  FieldPath field = o.path("field", PathScope::data_only);
  auto on_invalid = static_cast<OnInvalid>(o.choice("on_invalid", {"reject", "keep", "remove"}, 0));
  return std::make_unique<NormalizeEmail>(std::move(field), on_invalid);
}

}  // namespace touchpoint::core::transform
