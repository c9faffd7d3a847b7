#include "record_builder.hpp"

#include <cstdio>
#include <set>

#include "json_util.hpp"

namespace touchpoint::csv {

std::vector<std::string> normalize_header(std::vector<std::string> names) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i].empty()) names[i] = std::to_string(i + 1);
  std::set<std::string> taken(names.begin(), names.end());
  std::set<std::string> seen;
  for (auto& name : names) {
    if (seen.insert(name).second) continue;
    for (int k = 2;; ++k) {
      std::string candidate = name + "_" + std::to_string(k);
      if (taken.count(candidate) == 0) {
        taken.insert(candidate);
        seen.insert(candidate);
        name = std::move(candidate);
        break;
      }
    }
  }
  return names;
}

std::string deterministic_id(std::string_view file_name, uint64_t file_size, uint64_t line) {
  return deterministic_id_prefix(file_name, file_size) + std::to_string(line);
}

std::string deterministic_id_prefix(std::string_view file_name, uint64_t file_size) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : file_name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return "csv:" + std::string(hex, 16) + ":" + std::to_string(file_size) + ":";
}

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

  for (size_t i = 0; i < names_.size(); ++i) {
    const int column = static_cast<int>(i);
    if (names_[i] == config.key_column) key_index_ = column;
    if (names_[i] == config.id_column) id_index_ = column;
    if (mapping[i] != nullptr) {
      insert(mapping[i]->path, column);
    } else if (!config.only_mapped) {
      // Unmapped columns keep their header name as one literal key (dots are not paths here).
      if (mapped_roots.count(names_[i]) != 0) {
        warnings.push_back("unmapped column '" + names_[i] + "' clashes with a mapped field path and is dropped");
        continue;
      }
      insert({names_[i]}, column);
    }
  }
}

bool RecordBuilder::write_object(const Node& node, const std::vector<std::string>& values, std::string& out) const {
  out.push_back('{');
  bool any = false;
  for (const Node& child : node.children) {
    if (child.column >= 0 && values[static_cast<size_t>(child.column)].empty()) continue;
    const size_t mark = out.size();
    if (any) out.push_back(',');
    out += child.key_json;
    if (child.column >= 0) {
      append_json_string(out, values[static_cast<size_t>(child.column)]);
    } else if (!write_object(child, values, out)) {
      out.resize(mark);
      continue;
    }
    any = true;
  }
  out.push_back('}');
  return any;
}

void RecordBuilder::build(const std::vector<std::string>& values, std::string& out) const {
  write_object(root_, values, out);
}

}  // namespace touchpoint::csv
