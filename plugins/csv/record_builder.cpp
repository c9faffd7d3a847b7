#include "record_builder.hpp"

#include <cstdint>
#include <cstdio>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "json_util.hpp"

namespace touchpoint::csv {

std::vector<std::string> normalize_header(std::vector<std::string> names) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i].empty()) names[i] = std::to_string(i + 1);
  std::unordered_set<std::string> taken(names.begin(), names.end());
  if (taken.size() == names.size()) return names;  // all distinct: the usual case
  // Per name seen so far, the next suffix to try: a header of 100,000 equal names stays
  // linear. A generated name is never one of the file's (those are all in `taken`).
  std::unordered_map<std::string, int> next_suffix;
  next_suffix.reserve(names.size());
  for (auto& name : names) {
    auto [it, first] = next_suffix.try_emplace(name, 2);
    if (first) continue;
    for (int& k = it->second;; ++k) {
      std::string candidate = name + "_" + std::to_string(k);
      if (taken.insert(candidate).second) {
        name = std::move(candidate);
        ++k;
        break;
      }
    }
  }
  return names;
}

uint64_t fnv1a64(std::string_view bytes, uint64_t h) {
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t row_hash(std::string_view header, std::string_view row) {
  return fnv1a64(row, fnv1a64("\n", fnv1a64(header)));
}

namespace {

std::string hex64(uint64_t h) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string(hex, 16);
}

}  // namespace

std::string deterministic_id(std::string_view file_name, uint64_t line, uint64_t row_hash) {
  return deterministic_id_prefix(file_name) + std::to_string(line) + ":" + hex64(row_hash);
}

std::string deterministic_id_prefix(std::string_view file_name) { return "csv:" + hex64(fnv1a64(file_name)) + ":"; }

RecordBuilder::RecordBuilder(const std::vector<std::string>& names, const Config& config,
                             std::vector<std::string>& warnings)
    : names_(names) {
  // Which column (if any) each name maps to, and the paths the present mapped columns occupy.
  std::vector<const ColumnMapping*> mapping(names_.size(), nullptr);
  std::set<std::string> mapped_roots;
  for (const ColumnMapping& m : config.columns) {
    bool found = false;
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == m.column) {
        mapping[i] = &m;
        mapped_roots.insert(m.path.front());
        found = true;
        break;
      }
    }
    if (!found) warnings.push_back("mapped column '" + m.column + "' is not in the header");
  }

  auto insert = [this](const std::vector<std::string>& path, int column) {
    Node* n = &root_;
    for (size_t s = 0; s + 1 < path.size(); ++s) {
      Node* next = nullptr;
      for (Node& child : n->children)
        if (child.column < 0 && child.key == path[s]) next = &child;
      if (next == nullptr) {
        n->children.push_back(Node{path[s], json_string(path[s]) + ":", -1, {}});
        next = &n->children.back();
      }
      n = next;
    }
    n->children.push_back(Node{path.back(), json_string(path.back()) + ":", column, {}});
  };

  root_.children.reserve(names_.size());
  for (size_t i = 0; i < names_.size(); ++i) {
    const int column = static_cast<int>(i);
    if (names_[i] == config.key_column) key_index_ = column;
    if (names_[i] == config.id_column) id_index_ = column;
    if (mapping[i] != nullptr) {
      insert(mapping[i]->path, column);
    } else if (!config.only_mapped) {
      // Unmapped columns keep their header name as one literal key (dots are not paths here).
      if (!mapped_roots.empty() && mapped_roots.count(names_[i]) != 0) {
        warnings.push_back("unmapped column '" + names_[i] + "' clashes with a mapped field path and is dropped");
        continue;
      }
      root_.children.push_back(Node{names_[i], json_string(names_[i]) + ":", column, {}});
    }
  }
}

bool RecordBuilder::write_object(const Node& node, const std::vector<std::string>& values, std::string& out,
                                 size_t limit, size_t depth, bool& over) const {
  out.push_back('{');
  bool any = false;
  for (const Node& child : node.children) {
    if (child.column >= 0 && values[static_cast<size_t>(child.column)].empty()) continue;
    const size_t mark = out.size();
    const size_t comma = any ? 1 : 0;
    if (child.column >= 0) {
      // A value is never taken back, and neither is anything before it: the object ends up
      // at least this long, plus one closing brace per open object. So this is exact.
      const std::string& value = values[static_cast<size_t>(child.column)];
      if (out.size() + comma + child.key_json.size() + json_string_size(value) + depth > limit) {
        over = true;
        return false;
      }
      if (any) out.push_back(',');
      out += child.key_json;
      append_json_string(out, value);
    } else {
      // Keys and braces of nested objects are bounded by the config; one that stays empty
      // is taken back, so it is not checked against the limit.
      if (any) out.push_back(',');
      out += child.key_json;
      if (!write_object(child, values, out, limit, depth + 1, over)) {
        if (over) return false;
        out.resize(mark);
        continue;
      }
    }
    any = true;
  }
  out.push_back('}');
  return any;
}

bool RecordBuilder::build(const std::vector<std::string>& values, std::string& out, size_t max_bytes) const {
  const size_t base = out.size();
  bool over = false;
  const size_t limit = max_bytes > SIZE_MAX - base ? SIZE_MAX : base + max_bytes;
  if (base + 2 > limit) return false;  // not even "{}"
  write_object(root_, values, out, limit, 1, over);
  return !over && out.size() <= limit;
}

}  // namespace touchpoint::csv
