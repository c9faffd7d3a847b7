#pragma once
// Helpers shared by the loader tests: a scratch directory under the build
// tree (dlopen needs an exec-mounted filesystem), file copies with a given
// mode, and an assertion on PluginError messages.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>

#include "plugin/plugin_loader.hpp"

namespace abi_test {
namespace fs = std::filesystem;

inline const fs::path kFrozenPlugin = fs::path(ABI_FROZEN_PLUGIN_DIR) / "libtp_frozen_v1_0.so";
inline const fs::path kBadDir = ABI_BAD_PLUGIN_DIR;
inline const fs::path kPluginDir = TOUCHPOINT_PLUGIN_DIR;

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = std::string(ABI_WORK_DIR) + "/scratch.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed in " ABI_WORK_DIR);
    path_ = tmpl;
    fs::permissions(path_, fs::perms(0755));
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms(0755), ec);
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(std::string_view name) const { return path_ / name; }

 private:
  fs::path path_;
};

inline fs::path copy_to(const fs::path& from, const fs::path& to, fs::perms mode = fs::perms(0755)) {
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  fs::permissions(to, mode);
  return to;
}

inline fs::path write_file(const fs::path& to, std::string_view content) {
  std::ofstream(to, std::ios::binary).write(content.data(), static_cast<std::streamsize>(content.size()));
  fs::permissions(to, fs::perms(0755));
  return to;
}

// Loads `file` and expects a PluginError whose message contains every needle.
inline ::testing::AssertionResult refused_with(touchpoint::core::PluginLoader& loader, const fs::path& file,
                                               std::initializer_list<std::string_view> needles) {
  try {
    auto p = loader.load_file(file);
    return ::testing::AssertionFailure() << file << " loaded as plugin '" << p->name << "', expected a PluginError";
  } catch (const touchpoint::core::PluginError& e) {
    std::string msg = e.what();
    for (std::string_view n : needles)
      if (msg.find(n) == std::string::npos)
        return ::testing::AssertionFailure() << "message lacks \"" << n << "\":\n  " << msg;
    return ::testing::AssertionSuccess() << msg;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "expected PluginError, got another exception: " << e.what();
  }
}

}  // namespace abi_test
