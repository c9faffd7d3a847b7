// mask: { fields: [phone], keep_first: 0, keep_last: 4, char: "*" }
//
// Replaces characters (UTF-8 code points, not bytes) with `char`, keeping
// the first keep_first and last keep_last of them; the length stays the same.
// A value no longer than keep_first + keep_last is masked completely, so a
// short value is never revealed whole. Numbers are masked in their JSON
// text form ("4711"); missing and null fields are skipped; other types are
// rejected. Linear in the value; the result has at most 4 bytes (one mask
// code point) per code point of the value.

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "transform/builtin.hpp"
#include "transform/options.hpp"
#include "transform/text_form.hpp"

namespace touchpoint::core::transform {
namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::size_t count_code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += is_continuation(c) ? 0 : 1;
  return n;
}

/// Byte offset of the `count`-th code point from the end (or 0).
std::size_t offset_from_end(std::string_view s, std::size_t count) {
  std::size_t i = s.size();
  for (std::size_t seen = 0; seen < count && i > 0;) {
    --i;
    if (!is_continuation(s[i])) ++seen;
  }
  return i;
}

/// Byte offset of the code point with index `index` (or s.size()).
std::size_t offset_of(std::string_view s, std::size_t index) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!is_continuation(s[i])) {
      if (seen == index) return i;
      ++seen;
    }
  }
  return s.size();
}

class MaskFields final : public Transform {
 public:
  std::optional<std::vector<FieldUse>> fields() const override { return uses(fields_, true, true); }
  MaskFields(std::vector<FieldPath> fields, std::size_t keep_first, std::size_t keep_last, std::string mask)
      : fields_(std::move(fields)), keep_first_(keep_first), keep_last_(keep_last), mask_(std::move(mask)) {}

  StepResult apply(Record& record) const override {
    std::string scratch;
    for (const FieldPath& f : fields_) {
      Json* value = f.find(record.data);
      if (value == nullptr || value->is_null()) continue;
      const std::string* text = text_form(*value, scratch);
      if (text == nullptr) {
        return StepResult::reject("cannot mask field '" + f.text() + "': " + value->type_name() +
                                  " is not a string or number");
      }
      *value = mask(*text);
    }
    return StepResult::keep();
  }

 private:
  std::string mask(std::string_view text) const {
    std::size_t n = count_code_points(text);
    std::size_t first = keep_first_;
    std::size_t last = keep_last_;
    if (n <= first + last) first = last = 0;
    std::size_t head_end = offset_of(text, first);
    std::size_t tail_begin = offset_from_end(text, last);
    std::string out;
    out.reserve(head_end + (n - first - last) * mask_.size() + (text.size() - tail_begin));
    out.append(text.substr(0, head_end));
    const std::size_t masked = (n - first - last) * mask_.size();
    if (mask_.size() == 1) {
      out.append(masked, mask_[0]);
    } else if (masked > 0) {
      // Doubling: a few large copies instead of one append per code point.
      const std::size_t begin = out.size();
      out.append(mask_);
      while (out.size() - begin < masked) {
        const std::size_t have = out.size() - begin;
        out.append(out, begin, std::min(have, masked - have));
      }
    }
    out.append(text.substr(tail_begin));
    return out;
  }

  std::vector<FieldPath> fields_;
  std::size_t keep_first_;
  std::size_t keep_last_;
  std::string mask_;  ///< one code point, possibly several bytes
};

}  // namespace

std::unique_ptr<Transform> make_mask(const YAML::Node& options, const YAML::Node& anchor, const ConfigSource& source) {
  Options o(options, anchor, "mask", {"fields", "keep_first", "keep_last", "char"}, source);
  std::vector<FieldPath> fields = o.paths("fields", PathScope::data_only);
  std::size_t keep_first = o.count("keep_first", 0);
  std::size_t keep_last = o.count("keep_last", 0);
  std::string mask = o.string("char", "*");
  if (count_code_points(mask) != 1) o.fail("char", "'char' for mask must be a single character");
  return std::make_unique<MaskFields>(std::move(fields), keep_first, keep_last, std::move(mask));
}

}  // namespace touchpoint::core::transform
