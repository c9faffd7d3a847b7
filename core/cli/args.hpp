#pragma once
// A tiny argument reader for the subcommands: "--name value", "--name=value",
// boolean "--flag", and positionals. Unknown options are usage errors.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace touchpoint::cli {

/// Exit codes (documented in docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   ///< runtime failure
inline constexpr int kExitUsage = 2;     ///< bad arguments or invalid configuration
inline constexpr int kExitNotFound = 3;  ///< the thing asked for does not exist

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  /// value_options take a value; flags do not. Throws UsageError.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& value_options,
       const std::set<std::string>& flags);

  std::optional<std::string> get(const std::string& name) const;
  bool flag(const std::string& name) const { return flags_.count(name) > 0; }
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positionals_;
};

/// A positive decimal integer; `what` names it in the UsageError otherwise.
int64_t parse_positive(const std::string& text, const std::string& what);

/// The value of --name as a positive integer, or `fallback` when absent. Throws UsageError.
int64_t positive_option(const Args& args, const std::string& name, int64_t fallback);

/// --config, else $TOUCHPOINT_CONFIG, else /etc/touchpoint/touchpoint.yaml.
std::string config_path(const Args& args);

}  // namespace touchpoint::cli
