#pragma once
// Shared helpers for the core unit tests: a real temporary directory that is
// removed afterwards, and small file helpers.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "temp_dir.hpp"

namespace touchpoint::core::test {

/// A temp dir named tp_core_test.XXXXXX (tests/common/temp_dir.hpp).
struct TempDir : testing_support::TempDir {
  TempDir() : testing_support::TempDir("tp_core_test") {}
};

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace touchpoint::core::test
