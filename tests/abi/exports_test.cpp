// Every plugin module in the hub's plugin directory (and the frozen v1.0
// plugin) exports exactly one defined dynamic symbol: the ABI entry point.
// Anything else leaking (C++ template instantiations, helper functions) could
// interpose on another plugin's or the hub's symbols at load time.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct NmResult {
  int exit_code = -1;
  std::string output;
};

NmResult nm_dynamic_defined(const fs::path& module) {
  NmResult r;
  std::string cmd = std::string("'") + ABI_NM + "' -D --defined-only '" + module.string() + "' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

struct Symbol {
  std::string type, name;
};

// Lines look like "0000000000001139 T tp_plugin_negotiate_v1". A versioned
// symbol would read "name@@NODE"; version-node definitions appear as type
// "A". Nothing is filtered out: whatever nm lists counts.
std::vector<Symbol> parse(const std::string& output) {
  std::vector<Symbol> out;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string addr, type, name;
    if (!(fields >> addr >> type >> name)) {
      out.push_back({"?", line});  // unexpected format: report it
      continue;
    }
    out.push_back({type, name});
  }
  return out;
}

void expect_only_entry_point(const fs::path& module) {
  SCOPED_TRACE(module.string());
  NmResult r = nm_dynamic_defined(module);
  ASSERT_EQ(r.exit_code, 0) << "nm failed:\n" << r.output;
  std::vector<Symbol> syms = parse(r.output);
  ASSERT_EQ(syms.size(), 1u) << "expected exactly one defined dynamic symbol, nm -D --defined-only says:\n" << r.output;
  EXPECT_EQ(syms[0].name, "tp_plugin_negotiate_v1") << r.output;
  EXPECT_EQ(syms[0].type, "T") << "the entry point must be a function in .text:\n" << r.output;
}

std::vector<fs::path> modules_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".so") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Exports, PluginDirHoldsTheInTreePlugins) {
  const fs::path dir = TOUCHPOINT_PLUGIN_DIR;
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  EXPECT_TRUE(fs::exists(dir / "libtp_webhook.so"));
  EXPECT_TRUE(fs::exists(dir / "libtp_csv.so"));
}

TEST(Exports, EveryPluginInThePluginDirExportsOnlyTheEntryPoint) {
  std::vector<fs::path> modules = modules_in(TOUCHPOINT_PLUGIN_DIR);
  ASSERT_GE(modules.size(), 2u);
  for (const fs::path& m : modules) expect_only_entry_point(m);
}

TEST(Exports, FrozenV1_0PluginExportsOnlyTheEntryPoint) {
  expect_only_entry_point(fs::path(ABI_FROZEN_PLUGIN_DIR) / "libtp_frozen_v1_0.so");
}

// The check itself can fail: bad/no_entry.cpp (C++, default visibility, no
// version script, entry point without extern "C") exports only a mangled name.
TEST(Exports, CheckDetectsALeakyModule) {
  NmResult r = nm_dynamic_defined(fs::path(ABI_BAD_PLUGIN_DIR) / "libtp_no_entry.so");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<Symbol> syms = parse(r.output);
  bool has_entry =
      std::any_of(syms.begin(), syms.end(), [](const Symbol& s) { return s.name == "tp_plugin_negotiate_v1"; });
  EXPECT_FALSE(has_entry) << r.output;
  EXPECT_GE(syms.size(), 1u) << "expected the mangled C++ name to be exported:\n" << r.output;
}

}  // namespace
