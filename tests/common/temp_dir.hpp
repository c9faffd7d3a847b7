#pragma once
// A real temporary directory for tests: mkdtemp() under TMPDIR (or /tmp),
// removed recursively on destruction. Shared by the unit test suites.

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace touchpoint::testing_support {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "tp_test") {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + ".XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace touchpoint::testing_support
