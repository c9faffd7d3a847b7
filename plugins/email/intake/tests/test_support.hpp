// Shared helpers of the intake tests: sample files, temporary directories,
// and the record JSON as an object.
#ifndef TP_EMAIL_INTAKE_TEST_SUPPORT_HPP
#define TP_EMAIL_INTAKE_TEST_SUPPORT_HPP

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

#include "intake.hpp"

namespace tp_email::intake::test {

inline std::string sample(const std::string& name) {
  std::ifstream in(std::string(TP_EMAIL_INTAKE_DATA) + "/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("missing sample " + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline nlohmann::json data_of(const touchpoint::Record& r) { return nlohmann::json::parse(r.data); }

/// A fresh directory under the system temp dir, removed again by the destructor.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("tp-email-intake-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

}  // namespace tp_email::intake::test

#endif
