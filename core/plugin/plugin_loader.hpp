#pragma once
// Finds, checks and loads connector plugins (Boost.DLL), negotiating ABI v1.
// A plugin is refused with a specific PluginError message when its file
// (symlinks resolved) or directory is world-writable or owned by someone
// other than root / the service user, when a directory above it is
// world-writable without the sticky bit, when it is empty, not ELF, built
// for another word size or CPU, not a shared library, cannot be linked
// (dlopen), has no entry point, refuses negotiation, picks a version outside
// our range, throws, or returns no usable function table. Loaded libraries
// are never unloaded while the process runs: plugin threads or callbacks
// could still point into their code. tests/abi/loader covers every case.

#include <touchpoint/abi.h>

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace touchpoint::core {

class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoadedPlugin {
  std::filesystem::path path;
  std::string name, version, description;
  uint32_t abi_version = 0;
  uint64_t capabilities = 0;
  const tp_plugin_vtable* vtable = nullptr;

  bool is_source() const { return (capabilities & TP_CAP_SOURCE) != 0; }
  bool is_sink() const { return (capabilities & TP_CAP_SINK) != 0; }
};

/// The oldest ABI version this hub still accepts and the one it implements.
inline constexpr uint32_t kHostMinAbi = TP_MAKE_VERSION(1, 0);
inline constexpr uint32_t kHostMaxAbi = TP_ABI_VERSION;

class PluginLoader {
 public:
  /// trusted_owner: user name allowed besides root (empty: only root and the current user).
  PluginLoader(std::filesystem::path dir, std::string trusted_owner, const tp_host_api* host_api);

  /// Loads a plugin by name: <dir>/libtp_<name>.so. Cached. Throws PluginError.
  std::shared_ptr<const LoadedPlugin> get(const std::string& name);

  /// Loads an explicit file (for `plugins inspect`). Throws PluginError.
  std::shared_ptr<const LoadedPlugin> load_file(const std::filesystem::path& file);

  /// Every libtp_*.so in the directory with its load result.
  struct ScanEntry {
    std::filesystem::path path;
    std::shared_ptr<const LoadedPlugin> plugin;  // null on error
    std::string error;
  };
  std::vector<ScanEntry> scan();

  const std::filesystem::path& dir() const noexcept { return dir_; }

 private:
  void check_trusted(const std::filesystem::path& path) const;

  std::filesystem::path dir_;
  std::string trusted_owner_;
  const tp_host_api* host_api_;
  std::mutex mu_;
  std::map<std::filesystem::path, std::shared_ptr<const LoadedPlugin>> cache_;
};

}  // namespace touchpoint::core
