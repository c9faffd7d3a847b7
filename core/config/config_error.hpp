#pragma once
// Configuration errors carry the position they refer to, so every message an
// admin sees reads "file:line:col: message".

#include <yaml-cpp/yaml.h>

#include <stdexcept>
#include <string>

namespace touchpoint::core {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& file, int line, int col, const std::string& message)
      : std::runtime_error(file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + message),
        file_(file),
        line_(line),
        col_(col),
        message_(message) {}

  const std::string& file() const noexcept { return file_; }
  int line() const noexcept { return line_; }
  int col() const noexcept { return col_; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string file_;
  int line_, col_;
  std::string message_;
};

/// The file a YAML tree came from; turns nodes into positioned errors.
class ConfigSource {
 public:
  explicit ConfigSource(std::string file) : file_(std::move(file)) {}
  const std::string& file() const noexcept { return file_; }

  /// Throws ConfigError at the node's position (1-based line and column).
  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    YAML::Mark m = node.Mark();
    throw ConfigError(file_, m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1, message);
  }
  [[noreturn]] void fail(const YAML::Mark& m, const std::string& message) const {
    throw ConfigError(file_, m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1, message);
  }

 private:
  std::string file_;
};

}  // namespace touchpoint::core
