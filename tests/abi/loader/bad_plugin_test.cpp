// Broken and untrusted plugins: for each, PluginLoader throws a PluginError
// whose message says what is wrong, the process survives, and a good plugin
// still loads afterwards.
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "plugin/plugin_instance.hpp"
#include "test_util.hpp"

namespace {
using namespace abi_test;
using touchpoint::core::PluginError;
using touchpoint::core::PluginInstance;
using touchpoint::core::PluginLoader;

void expect_good_plugin_loads(PluginLoader& loader, const fs::path& file = kFrozenPlugin) {
  try {
    auto p = loader.load_file(file);
    EXPECT_EQ(p->name, "frozen_v1_0");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "good plugin " << file << " did not load: " << e.what();
  }
}

class BadPlugin : public ::testing::Test {
 protected:
  PluginLoader loader{kBadDir, "", PluginInstance::host_api()};
  void TearDown() override { expect_good_plugin_loads(loader); }
};

TEST_F(BadPlugin, MissingEntrySymbol) {
  EXPECT_TRUE(refused_with(
      loader, kBadDir / "libtp_no_entry.so",
      {"not a Touchpoint plugin", "libtp_no_entry.so", "does not export tp_plugin_negotiate_v1", "extern \"C\""}));
}

TEST_F(BadPlugin, ChoosesAbiVersionOutsideTheHostRange) {
  EXPECT_TRUE(refused_with(loader, kBadDir / "libtp_wants_v2.so",
                           {"libtp_wants_v2.so", "chose ABI 2.0", "outside the host's range 1.0.."}));
}

TEST_F(BadPlugin, RefusesNegotiation) {
  EXPECT_TRUE(refused_with(
      loader, kBadDir / "libtp_refuses.so",
      {"libtp_refuses.so", "refused ABI negotiation", "host offers 1.0..", "this plugin needs ABI 2.0 or newer"}));
}

TEST_F(BadPlugin, EntryThrowsACxxException) {
  EXPECT_TRUE(refused_with(loader, kBadDir / "libtp_throws.so",
                           {"libtp_throws.so", "threw a C++ exception out of tp_plugin_negotiate_v1",
                            "boom from a plugin without trampolines"}));
}

TEST_F(BadPlugin, NoFunctionTable) {
  EXPECT_TRUE(
      refused_with(loader, kBadDir / "libtp_no_vtable.so", {"libtp_no_vtable.so", "returned no function table"}));
}

TEST_F(BadPlugin, UnresolvedSymbolAtLoadTime) {
  const fs::path f = kBadDir / "libtp_undefined_symbol.so";
  EXPECT_TRUE(refused_with(loader, f,
                           {"cannot load " + f.string() +
                            " as a shared library: undefined symbol: "
                            "tp_abi_test_function_nobody_defines"}));
  try {
    loader.load_file(f);
  } catch (const PluginError& e) {
    EXPECT_EQ(std::string(e.what()).find("Bad file descriptor"), std::string::npos) << "Boost.DLL noise: " << e.what();
  }
}

TEST_F(BadPlugin, TextFileNamedLikeAPlugin) {
  ScratchDir dir;
  auto f = write_file(dir / "libtp_x.so", "# not a plugin\nhello\n");
  EXPECT_TRUE(refused_with(loader, f, {"libtp_x.so", "is not a shared library", "no ELF header"}));
}

TEST_F(BadPlugin, EmptyFile) {
  ScratchDir dir;
  auto f = write_file(dir / "libtp_empty.so", "");
  EXPECT_TRUE(refused_with(loader, f, {"libtp_empty.so", "is empty (0 bytes)"}));
}

// ELF header: magic, class, data (LSB), version, padding to 16, e_type, e_machine.
std::string elf_header(unsigned char elf_class, uint16_t type, uint16_t machine) {
  std::string h = {'\x7f', 'E', 'L', 'F', static_cast<char>(elf_class), 1, 1, 0};
  h.resize(16, '\0');
  h += static_cast<char>(type & 0xFF);
  h += static_cast<char>(type >> 8);
  h += static_cast<char>(machine & 0xFF);
  h += static_cast<char>(machine >> 8);
  h.resize(64, '\0');
  return h;
}

TEST_F(BadPlugin, ThirtyTwoBitElf) {
  ScratchDir dir;
  auto f = write_file(dir / "libtp_elf32.so", elf_header(1, 3, 3));
  EXPECT_TRUE(refused_with(loader, f, {"libtp_elf32.so", "is a 32-bit ELF file; this hub is 64-bit"}));
}

TEST_F(BadPlugin, ObjectFileInsteadOfSharedLibrary) {
  ScratchDir dir;
  auto f = write_file(dir / "libtp_obj.so", elf_header(2, 1, 62));
  EXPECT_TRUE(refused_with(loader, f, {"libtp_obj.so", "object file (.o)", "not a shared library"}));
}

#if defined(__x86_64__)
TEST_F(BadPlugin, SharedLibraryForAnotherArchitecture) {
  ScratchDir dir;
  auto f = write_file(dir / "libtp_arm.so", elf_header(2, 3, 183));  // EM_AARCH64
  EXPECT_TRUE(refused_with(loader, f, {"libtp_arm.so", "another CPU architecture"}));
}
#endif

TEST_F(BadPlugin, DirectoryNamedLikeAPlugin) {
  ScratchDir dir;
  fs::create_directory(dir / "libtp_dir.so");
  EXPECT_TRUE(refused_with(loader, dir / "libtp_dir.so", {"libtp_dir.so", "is not a regular file"}));
}

TEST_F(BadPlugin, MissingFile) {
  EXPECT_TRUE(
      refused_with(loader, kBadDir / "libtp_does_not_exist.so", {"plugin file not found", "libtp_does_not_exist.so"}));
  try {
    loader.get("does_not_exist");
    ADD_FAILURE() << "get() of a missing plugin succeeded";
  } catch (const PluginError& e) {
    EXPECT_NE(std::string(e.what()).find("plugin 'does_not_exist' not found: expected"), std::string::npos) << e.what();
  }
}

TEST_F(BadPlugin, FileNameDisagreesWithPluginName) {
  ScratchDir dir;
  copy_to(kFrozenPlugin, dir / "libtp_other.so");
  PluginLoader l(dir.path(), "", PluginInstance::host_api());
  try {
    l.get("other");
    ADD_FAILURE() << "get(\"other\") loaded a plugin that calls itself frozen_v1_0";
  } catch (const PluginError& e) {
    EXPECT_NE(std::string(e.what()).find("calls itself 'frozen_v1_0', expected 'other'"), std::string::npos)
        << e.what();
  }
}

// `plugins inspect` and `list` load through load_file: they refuse what the hub refuses.
TEST_F(BadPlugin, InspectRefusesAFileTheHubWouldNotFindByName) {
  ScratchDir dir;
  const fs::path renamed = copy_to(kFrozenPlugin, dir / "libtp_other.so");
  EXPECT_TRUE(refused_with(loader, renamed,
                           {"calls itself 'frozen_v1_0', expected 'other'", "only from libtp_frozen_v1_0.so"}));
  const fs::path unprefixed = copy_to(kFrozenPlugin, dir / "frozen.so");
  EXPECT_TRUE(refused_with(loader, unprefixed, {"is not named libtp_<name>.so", "only from libtp_frozen_v1_0.so"}));
}

TEST_F(BadPlugin, APluginExportingMoreThanItsEntryPointLoadsWithAWarning) {
  auto p = loader.load_file(kBadDir / "libtp_leaky.so");
  ASSERT_EQ(p->warnings.size(), 1u);
  EXPECT_NE(p->warnings[0].find("plugin 'leaky' exports 2 dynamic symbols ("), std::string::npos) << p->warnings[0];
  EXPECT_NE(p->warnings[0].find("leaky_helper"), std::string::npos) << p->warnings[0];
  EXPECT_NE(p->warnings[0].find("touchpoint_add_plugin()"), std::string::npos) << p->warnings[0];
  // Built the SDK's way: no warning.
  EXPECT_TRUE(loader.load_file(kFrozenPlugin)->warnings.empty());
}

// ---- trust: who could have replaced the code the hub is about to run ----

TEST_F(BadPlugin, WorldWritableFile) {
  ScratchDir dir;
  auto f = copy_to(kFrozenPlugin, dir / "libtp_frozen_v1_0.so", fs::perms(0757));  // o+w
  EXPECT_TRUE(refused_with(loader, f, {"refusing plugin: file", "libtp_frozen_v1_0.so", "is world-writable"}));
  fs::permissions(f, fs::perms(0755));
  expect_good_plugin_loads(loader, f);  // nothing about the refusal was cached
}

TEST_F(BadPlugin, WorldWritableDirectory) {
  ScratchDir dir;
  auto f = copy_to(kFrozenPlugin, dir / "libtp_frozen_v1_0.so");
  fs::permissions(dir.path(), fs::perms(0777));
  EXPECT_TRUE(refused_with(loader, f, {"refusing plugin: directory", dir.path().string(), "is world-writable"}));
  fs::permissions(dir.path(), fs::perms(0755));
  expect_good_plugin_loads(loader, f);
}

TEST_F(BadPlugin, WorldWritableDirectoryHigherUp) {
  ScratchDir dir;
  fs::create_directory(dir / "plugins");
  auto f = copy_to(kFrozenPlugin, dir / "plugins" / "libtp_frozen_v1_0.so");
  fs::permissions(dir.path(), fs::perms(0777));
  EXPECT_TRUE(refused_with(
      loader, f,
      {"refusing plugin: directory " + dir.path().string() + " above", "world-writable without the sticky bit"}));
  // With the sticky bit (like /tmp) nobody else can rename the plugin dir.
  fs::permissions(dir.path(), fs::perms(01777));
  expect_good_plugin_loads(loader, f);
}

TEST_F(BadPlugin, SymlinkIntoAWorldWritableDirectory) {
  ScratchDir trusted, open_dir;
  auto real = copy_to(kFrozenPlugin, open_dir / "libtp_frozen_v1_0.so");
  fs::create_symlink(real, trusted / "libtp_frozen_v1_0.so");
  fs::permissions(open_dir.path(), fs::perms(0777));
  EXPECT_TRUE(refused_with(loader, trusted / "libtp_frozen_v1_0.so",
                           {"refusing plugin: directory " + open_dir.path().string(), "is world-writable"}));
}

TEST_F(BadPlugin, FileOwnedBySomeoneElse) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  const passwd* pw = ::getpwuid(65534);
  ScratchDir dir;
  auto f = copy_to(kFrozenPlugin, dir / "libtp_frozen_v1_0.so");
  ASSERT_EQ(::chown(f.c_str(), 65534, 65534), 0);
  EXPECT_TRUE(
      refused_with(loader, f, {"refusing plugin: file", "is owned by uid 65534", "not by root or the service user"}));
  if (pw == nullptr) GTEST_SKIP() << "no user with uid 65534 to test the trusted owner";
  PluginLoader trusting(dir.path(), pw->pw_name, PluginInstance::host_api());
  expect_good_plugin_loads(trusting, f);
}

TEST_F(BadPlugin, GroupWritableFileOrDirectory) {
  ScratchDir dir;
  auto f = copy_to(kFrozenPlugin, dir / "libtp_frozen_v1_0.so", fs::perms(0775));  // g+w
  EXPECT_TRUE(refused_with(loader, f, {"refusing plugin: file", "is group-writable", "chmod g-w"}));
  fs::permissions(f, fs::perms(0755));
  fs::permissions(dir.path(), fs::perms(0775));
  EXPECT_TRUE(refused_with(loader, f, {"refusing plugin: directory", dir.path().string(), "is group-writable"}));
  fs::permissions(dir.path(), fs::perms(0755));
  expect_good_plugin_loads(loader, f);
}

TEST(PluginPin, Sha256PinMustMatchBeforeAnyCodeRuns) {
  ScratchDir dir;
  auto f = copy_to(kFrozenPlugin, dir / "libtp_frozen_v1_0.so");
  PluginLoader::Options o;
  o.dir = dir.path();
  o.sha256["frozen_v1_0"] = std::string(64, '0');
  PluginLoader pinned(o, PluginInstance::host_api());
  try {
    pinned.get("frozen_v1_0");
    ADD_FAILURE() << "a plugin with the wrong SHA-256 loaded";
  } catch (const PluginError& e) {
    EXPECT_NE(std::string(e.what()).find("but plugins.sha256.frozen_v1_0 pins 0000"), std::string::npos) << e.what();
  }
  // The right digest (what sha256sum prints) loads it.
  std::string digest;
  {
    FILE* p = ::popen(("sha256sum " + f.string()).c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[128] = {};
    ASSERT_NE(std::fgets(buf, sizeof buf, p), nullptr);
    ::pclose(p);
    digest.assign(buf, 64);
  }
  o.sha256["frozen_v1_0"] = digest;
  PluginLoader right(o, PluginInstance::host_api());
  EXPECT_EQ(right.get("frozen_v1_0")->name, "frozen_v1_0");
}

TEST(PluginLoad, SeveralPluginsLoadedThroughDescriptorsStayApart) {
  // Loading goes through /proc/self/fd/N; each plugin must still be itself.
  PluginLoader in_tree(kPluginDir, "", PluginInstance::host_api());
  EXPECT_EQ(in_tree.get("csv")->name, "csv");
  EXPECT_EQ(in_tree.get("webhook")->name, "webhook");
  PluginLoader again(kPluginDir, "", PluginInstance::host_api());
  EXPECT_EQ(again.get("webhook")->name, "webhook");
  EXPECT_EQ(again.get("csv")->name, "csv");
}

// Everything at once through scan(): each bad file gets its own error, the
// good ones load, and the in-tree plugins load in the same process afterwards.
TEST(BadPluginScan, ReportsEachBadPluginAndLoadsTheGoodOnes) {
  ScratchDir dir;
  for (const char* n : {"no_entry", "wants_v2", "refuses", "throws", "no_vtable", "undefined_symbol"})
    copy_to(kBadDir / ("libtp_" + std::string(n) + ".so"), dir / ("libtp_" + std::string(n) + ".so"));
  write_file(dir / "libtp_text.so", "not a plugin");
  write_file(dir / "libtp_empty.so", "");
  copy_to(kFrozenPlugin, dir / "libtp_frozen_v1_0.so");
  copy_to(kFrozenPlugin, dir / "libtp_writable.so", fs::perms(0757));

  PluginLoader loader(dir.path(), "", PluginInstance::host_api());
  auto entries = loader.scan();
  ASSERT_EQ(entries.size(), 10u);
  for (const auto& e : entries) {
    const std::string file = e.path.filename().string();
    if (file == "libtp_frozen_v1_0.so") {
      ASSERT_NE(e.plugin, nullptr) << e.error;
      EXPECT_EQ(e.plugin->name, "frozen_v1_0");
    } else {
      EXPECT_EQ(e.plugin, nullptr) << file;
      EXPECT_NE(e.error.find(file), std::string::npos) << "error should name the file: " << e.error;
      std::cout << "  " << file << ": " << e.error << "\n";  // what an admin sees in `plugins list`
    }
  }

  PluginLoader in_tree(kPluginDir, "", PluginInstance::host_api());
  for (const char* name : {"webhook", "csv"}) {
    try {
      auto p = in_tree.get(name);
      EXPECT_EQ(p->abi_version, TP_ABI_VERSION) << name;
    } catch (const std::exception& e) {
      ADD_FAILURE() << name << ": " << e.what();
    }
  }
}

}  // namespace
