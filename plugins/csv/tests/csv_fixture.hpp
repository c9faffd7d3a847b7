// Shared fixture of the plugin-level tests: the real libtp_csv.so in a temporary inbox,
// loaded through the SDK's test harness.
#ifndef TOUCHPOINT_CSV_TESTS_CSV_FIXTURE_HPP
#define TOUCHPOINT_CSV_TESTS_CSV_FIXTURE_HPP

#include <gtest/gtest.h>
#include <simdjson.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"  // abi.h macros, see sdk.hpp
#include <touchpoint/testing.hpp>
#pragma GCC diagnostic pop

#include "cursor.hpp"
#include "inbox.hpp"

namespace touchpoint::csv::test {

namespace fs = std::filesystem;
using touchpoint::testing::Harness;
using touchpoint::testing::Instance;

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline Cursor cursor_of(const std::string& json) {
  auto c = parse_cursor(json);
  EXPECT_TRUE(c.has_value()) << json;
  return c.value_or(Cursor{});
}

inline bool valid_json(const std::string& s) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  return p.parse(s).get(e) == simdjson::SUCCESS && e.is_object();
}

inline std::string rows_file(size_t rows) {
  std::string s = "id,name,email\n";
  for (size_t i = 1; i <= rows; ++i)
    s += std::to_string(i) + ",Name " + std::to_string(i) + ",user" + std::to_string(i) + "@example.com\n";
  return s;
}

class CsvPlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "tp_csv_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    inbox_ = dir_ / "inbox";
    fs::create_directories(inbox_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string config(const std::string& extra = "") const {
    std::string c = R"({"inbox":")" + inbox_.string() + R"(","settle_ms":0)";
    if (!extra.empty()) c += "," + extra;
    return c + "}";
  }
  void write(const std::string& name, const std::string& content) const {
    std::ofstream out(inbox_ / name, std::ios::binary);
    out << content;
  }
  void copy_data(const std::string& name) const { fs::copy_file(fs::path(TP_CSV_TESTDATA) / name, inbox_ / name); }
  FileInfo info(const std::string& name) const { return stat_file(inbox_ / name).value(); }

  // Calls read() until a call emits nothing; returns the number of units emitted.
  static size_t drain(Instance& inst, Harness& h) {
    size_t units = 0;
    for (int i = 0; i < 100000; ++i) {
      size_t before = h.cursors().size();
      EXPECT_EQ(inst.read(), TP_OK);
      if (h.cursors().size() == before) break;
      ++units;
    }
    return units;
  }
  static void commit_all(Instance& inst, Harness& h) {
    for (const std::string& c : h.cursors()) EXPECT_EQ(inst.commit(c), TP_OK);
  }

  fs::path dir_;
  fs::path inbox_;
};

}  // namespace touchpoint::csv::test

#endif  // TOUCHPOINT_CSV_TESTS_CSV_FIXTURE_HPP
