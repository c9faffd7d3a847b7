#pragma once
// Finds, checks and loads connector plugins (Boost.DLL), negotiating ABI v1.
// A plugin is refused with a specific PluginError message when its file
// (symlinks resolved) or directory is group- or world-writable or owned by
// someone other than root / the service user, when its SHA-256 differs from
// a configured pin (plugins.sha256), when a directory above it is
// world-writable without the sticky bit, when it is empty, not ELF, built
// for another word size or CPU, not a shared library, cannot be linked
// (dlopen), has no entry point, refuses negotiation, picks a version outside
// our range, throws, or returns no usable function table. Loaded libraries
// are never unloaded while the process runs: plugin threads or callbacks
// could still point into their code. tests/abi/loader covers every case.
//
// The file is opened once (relative to the opened directory, without
// following links), its descriptor is checked, hashed and finally loaded
// through /proc/self/fd/N: nothing can be swapped between check and load.

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
  /// What loads but breaks a rule the hub does not enforce (extra exported
  /// symbols): shown by `plugins inspect`/`list`, `validate`, and logged by `run`.
  std::vector<std::string> warnings;

  bool is_source() const { return (capabilities & TP_CAP_SOURCE) != 0; }
  bool is_sink() const { return (capabilities & TP_CAP_SINK) != 0; }
};

/// The oldest ABI version this hub still accepts and the one it implements.
inline constexpr uint32_t kHostMinAbi = TP_MAKE_VERSION(1, 0);
inline constexpr uint32_t kHostMaxAbi = TP_ABI_VERSION;

class PluginLoader {
 public:
  struct Options {
    std::filesystem::path dir;
    /// User name allowed to own plugin files besides root (empty: only root and the current user).
    std::string trusted_owner;
    /// Optional pins: plugin name -> SHA-256 (lower-case hex) its file must have.
    std::map<std::string, std::string> sha256;
  };
  PluginLoader(Options options, const tp_host_api* host_api);
  PluginLoader(std::filesystem::path dir, std::string trusted_owner, const tp_host_api* host_api)
      : PluginLoader(Options{std::move(dir), std::move(trusted_owner), {}}, host_api) {}

  /// Loads a plugin by name: <dir>/libtp_<name>.so. Cached. Throws PluginError.
  std::shared_ptr<const LoadedPlugin> get(const std::string& name);

  /// Loads an explicit file (for `plugins inspect`), with every check get()
  /// applies: a file named libtp_<name>.so must hold the plugin <name>.
  /// Throws PluginError.
  std::shared_ptr<const LoadedPlugin> load_file(const std::filesystem::path& file);

  /// Every libtp_*.so in the directory with its load result.
  struct ScanEntry {
    std::filesystem::path path;
    std::shared_ptr<const LoadedPlugin> plugin;  // null on error
    std::string error;
  };
  std::vector<ScanEntry> scan();

  const std::filesystem::path& dir() const noexcept { return options_.dir; }
  const Options& options() const noexcept { return options_; }

 private:
  /// Checks ownership and modes of the open file and its directory (by
  /// descriptor, so what is checked is what gets loaded).
  void check_trusted(const std::filesystem::path& path, int dir_fd, int file_fd) const;
  void check_pin(const std::filesystem::path& path, int file_fd) const;

  Options options_;
  const tp_host_api* host_api_;
  std::mutex mu_;
  std::map<std::filesystem::path, std::shared_ptr<const LoadedPlugin>> cache_;
};

}  // namespace touchpoint::core
