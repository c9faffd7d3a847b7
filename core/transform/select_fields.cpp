// remove: [paths] deletes fields; keep: [paths] deletes everything else.
// keep works on nested paths too ("consent.email" keeps only that key of
// `consent`); objects that end up empty because of it are removed as well.

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "transform/builtin.hpp"
#include "transform/options.hpp"

namespace touchpoint::core::transform {
namespace {

class RemoveFields final : public Transform {
 public:
  std::optional<std::vector<FieldUse>> fields() const override {
    std::vector<FieldUse> out = uses(paths_, false, false);
    for (FieldUse& u : out) u.removes = true;
    return out;
  }
  explicit RemoveFields(std::vector<FieldPath> paths) : paths_(std::move(paths)) {}

  StepResult apply(Record& record) const override {
    for (const FieldPath& p : paths_) p.erase(record.data);
    return StepResult::keep();
  }

 private:
  std::vector<FieldPath> paths_;
};

/// The kept paths as a tree; `whole` marks a path kept with everything below it.
struct KeepNode {
  bool whole = false;
  std::vector<std::pair<std::string, KeepNode>> children{};  // sorted by name ({}: clang 14 + libstdc++ 12)

  const KeepNode* find(std::string_view name) const {
    auto it = std::lower_bound(children.begin(), children.end(), name,
                               [](const auto& child, std::string_view n) { return child.first < n; });
    return it != children.end() && it->first == name ? &it->second : nullptr;
  }

  KeepNode& child(const std::string& name) {
    auto it = std::lower_bound(children.begin(), children.end(), name,
                               [](const auto& c, const std::string& n) { return c.first < n; });
    if (it == children.end() || it->first != name) it = children.insert(it, {name, KeepNode{}});
    return it->second;
  }

  void add(const std::vector<std::string>& segments) {
    KeepNode* node = this;
    for (const std::string& segment : segments) {
      if (node->whole) return;  // an ancestor is already kept entirely
      node = &node->child(segment);
    }
    node->whole = true;
    node->children.clear();
  }
};

class KeepFields final : public Transform {
 public:
  KeepFields(KeepNode root, std::vector<FieldPath> kept) : root_(std::move(root)), kept_(std::move(kept)) {}
  std::optional<std::vector<FieldUse>> fields() const override { return uses(kept_, true, false); }

  StepResult apply(Record& record) const override {
    prune(record.data, root_);
    return StepResult::keep();
  }

 private:
  static void prune(Json& object, const KeepNode& node) {
    for (auto it = object.begin(); it != object.end();) {
      const KeepNode* child = node.find(it.key());
      if (child != nullptr && child->whole) {
        ++it;
      } else if (child != nullptr && it->is_object()) {
        prune(*it, *child);
        it = it->empty() ? object.erase(it) : std::next(it);
      } else {
        it = object.erase(it);
      }
    }
  }

  KeepNode root_;
  std::vector<FieldPath> kept_;
};

}  // namespace

std::unique_ptr<Transform> make_remove(const YAML::Node& options, const YAML::Node& anchor,
                                       const ConfigSource& source) {
  return std::make_unique<RemoveFields>(
      parse_path_list(options, anchor, PathScope::data_only, "remove", "remove", source));
}

std::unique_ptr<Transform> make_keep(const YAML::Node& options, const YAML::Node& anchor, const ConfigSource& source) {
  KeepNode root;
  std::vector<FieldPath> kept = parse_path_list(options, anchor, PathScope::data_only, "keep", "keep", source);
  for (const FieldPath& p : kept) root.add(p.segments());
  return std::make_unique<KeepFields>(std::move(root), std::move(kept));
}

}  // namespace touchpoint::core::transform
