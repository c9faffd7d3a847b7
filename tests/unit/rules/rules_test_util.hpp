#pragma once
// Shared helpers for the rulebook tests: a temporary directory, writing a
// rulebook file, and the ConfigError text of a failing load.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "config/config_error.hpp"
#include "rules/rulebook.hpp"
#include "rules/time_util.hpp"
#include "temp_dir.hpp"

namespace touchpoint::core::rules::test {

/// A temp dir named tp_rules_test.XXXXXX (tests/common/temp_dir.hpp).
struct TempDir : testing_support::TempDir {
  TempDir() : testing_support::TempDir("tp_rules_test") {}
};

inline std::filesystem::path write_file(const TempDir& dir, const std::string& name, const std::string& text) {
  std::filesystem::path p = dir.path() / name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
  return p;
}

/// A rulebook from YAML text (written to rulebook.yaml in a fresh temp dir).
inline Rulebook load_text(const std::string& yaml) {
  TempDir dir;
  return Rulebook::load(write_file(dir, "rulebook.yaml", yaml));
}

/// "line:col: message" of the ConfigError the text raises, or "<no error>".
inline std::string load_error(const std::string& yaml) {
  TempDir dir;
  const auto p = write_file(dir, "rulebook.yaml", yaml);
  try {
    Rulebook::load(p);
  } catch (const ConfigError& e) {
    return std::to_string(e.line()) + ":" + std::to_string(e.col()) + ": " + e.message();
  }
  return "<no error>";
}

inline TimeMs at(const char* rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  if (!t) throw std::runtime_error(std::string("bad time in test: ") + rfc3339);
  return *t;
}

/// The reason codes of a decision, in order.
inline std::vector<std::string> codes_of(const Decision& d) {
  std::vector<std::string> out;
  for (const Reason& r : d.reasons) out.push_back(r.code);
  return out;
}
inline std::vector<std::string> note_codes_of(const Decision& d) {
  std::vector<std::string> out;
  for (const Reason& r : d.notes) out.push_back(r.code);
  return out;
}

}  // namespace touchpoint::core::rules::test
