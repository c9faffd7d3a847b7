// make_step and transform_kinds: the table of built-in transform kinds.

#include <array>
#include <string_view>
#include <utility>

#include "transform/builtin.hpp"

namespace touchpoint::core {
namespace {

struct Kind {
  std::string_view name;
  transform::Factory factory;
};

// Sorted by name; the order shows up in "known: ..." messages and docs.
constexpr std::array kKinds{
    Kind{"default", &transform::make_default},
    Kind{"filter", &transform::make_filter},
    Kind{"hash", &transform::make_hash},
    Kind{"keep", &transform::make_keep},
    Kind{"lua", &transform::make_lua},
    Kind{"mask", &transform::make_mask},
    Kind{"normalize_email", &transform::make_normalize_email},
    Kind{"normalize_phone", &transform::make_normalize_phone},
    Kind{"remove", &transform::make_remove},
    Kind{"rename", &transform::make_rename},
    Kind{"require", &transform::make_require},
    Kind{"set", &transform::make_set},
};

std::string known_kinds() {
  std::string out;
  for (const Kind& k : kKinds) {
    if (!out.empty()) out += ", ";
    out += k.name;
  }
  return out;
}

}  // namespace

Step make_step(const YAML::Node& item, size_t index, const ConfigSource& source) {
  if (!item.IsMap() || item.size() != 1) {
    source.fail(item, "a transform step must be a single-key map such as '- rename: { from: to }'");
  }
  auto entry = *item.begin();
  const YAML::Node& key = entry.first;
  if (!key.IsScalar()) source.fail(key, "a transform step must be a single-key map such as '- rename: { from: to }'");
  const std::string& name = key.Scalar();
  for (const Kind& k : kKinds) {
    if (k.name == name) {
      return Step{name, std::to_string(index + 1) + ":" + name, k.factory(entry.second, key, source)};
    }
  }
  source.fail(key, "unknown transform '" + name + "' (known: " + known_kinds() + ")");
}

std::vector<std::string> transform_kinds() {
  std::vector<std::string> out;
  out.reserve(kKinds.size());
  for (const Kind& k : kKinds) out.emplace_back(k.name);
  return out;
}

}  // namespace touchpoint::core
