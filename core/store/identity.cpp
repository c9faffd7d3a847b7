#include "store/identity.hpp"

#include <algorithm>
#include <cctype>

namespace touchpoint::core {
namespace {

std::string trimmed(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

void add_string(std::vector<IdentityKey>& out, std::string kind, const Json& v, bool lower) {
  if (!v.is_string()) return;
  std::string s = trimmed(v.get<std::string>());
  if (s.empty()) return;
  if (lower) std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  out.push_back({std::move(kind), std::move(s)});
}

}  // namespace

std::vector<IdentityKey> extract_identities(const Record& r) {
  std::vector<IdentityKey> out;
  if (!r.key.empty()) out.push_back({"ext:" + r.source, r.key});
  if (auto it = r.data.find("external_ids"); it != r.data.end() && it->is_object()) {
    for (const auto& [system, id] : it->items()) add_string(out, "ext:" + system, id, false);
  }
  if (auto it = r.data.find("email"); it != r.data.end()) add_string(out, "email", *it, true);
  if (auto it = r.data.find("phone"); it != r.data.end()) add_string(out, "phone", *it, false);
  return out;
}

}  // namespace touchpoint::core
