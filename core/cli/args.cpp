#include "cli/args.hpp"

#include <cstdlib>

namespace touchpoint::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& value_options,
           const std::set<std::string>& flags) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0 || a == "--") {
      positionals_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (flags.count(name)) {
      if (has_value) throw UsageError("option --" + name + " takes no value");
      flags_.insert(name);
    } else if (value_options.count(name)) {
      if (!has_value) {
        if (i + 1 >= argv.size()) throw UsageError("option --" + name + " needs a value");
        value = argv[++i];
      }
      values_[name] = value;
    } else {
      throw UsageError("unknown option --" + name);
    }
  }
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

int64_t parse_positive(const std::string& text, const std::string& what) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoll(text) == 0)
    throw UsageError("'" + text + "' is not a valid " + what + " (a positive integer)");
  return std::stoll(text);
}

int64_t positive_option(const Args& args, const std::string& name, int64_t fallback) {
  auto v = args.get(name);
  return v ? parse_positive(*v, "value for --" + name) : fallback;
}

std::string config_path(const Args& args) {
  if (auto c = args.get("config")) return *c;
  if (const char* env = std::getenv("TOUCHPOINT_CONFIG")) return env;
  return "/etc/touchpoint/touchpoint.yaml";
}

}  // namespace touchpoint::cli
