#include "plugin/plugin_loader.hpp"

#include <elf.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/dll/shared_library.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>

#include "plugin/elf_exports.hpp"

namespace touchpoint::core {
namespace fs = std::filesystem;
namespace {

std::string version_string(uint32_t v) {
  return std::to_string(TP_VERSION_MAJOR(v)) + "." + std::to_string(TP_VERSION_MINOR(v));
}

std::string view(tp_str s) { return s.len && s.data ? std::string(s.data, s.len) : std::string(); }

#if defined(__x86_64__)
constexpr uint16_t kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = EM_AARCH64;
#elif defined(__i386__)
constexpr uint16_t kHostMachine = EM_386;
#elif defined(__arm__)
constexpr uint16_t kHostMachine = EM_ARM;
#else
constexpr uint16_t kHostMachine = EM_NONE;  // unknown: let dlopen decide
#endif

// Looks at the ELF header before dlopen, so an empty file, a text file or a
// plugin built for another platform gets a message that says so instead of
// whatever dlerror() makes of it.
void check_elf(const fs::path& path, int fd) {
  unsigned char h[EI_NIDENT + 4] = {};
  const ssize_t n = ::pread(fd, h, sizeof h, 0);
  if (n < 0) throw PluginError("cannot read plugin file " + path.string() + ": " + std::strerror(errno));
  const auto got = static_cast<size_t>(n);
  if (got == 0) throw PluginError("plugin file " + path.string() + " is empty (0 bytes): not a shared library");
  if (got < sizeof h || std::memcmp(h, ELFMAG, SELFMAG) != 0)
    throw PluginError("plugin file " + path.string() + " is not a shared library (no ELF header; a text file, an " +
                      "archive or a broken download?)");
  const unsigned char want_class = sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32;
  if (h[EI_CLASS] != want_class)
    throw PluginError("plugin file " + path.string() + " is " +
                      (h[EI_CLASS] == ELFCLASS32   ? "a 32-bit ELF file"
                       : h[EI_CLASS] == ELFCLASS64 ? "a 64-bit ELF file"
                                                   : "an ELF file of unknown class") +
                      "; this hub is " + std::to_string(sizeof(void*) * 8) + "-bit");
  if (h[EI_DATA] == ELFDATA2LSB) {  // e_type and e_machine follow e_ident (little-endian hosts only)
    const auto type = static_cast<uint16_t>(h[EI_NIDENT] | (h[EI_NIDENT + 1] << 8));
    const auto machine = static_cast<uint16_t>(h[EI_NIDENT + 2] | (h[EI_NIDENT + 3] << 8));
    if (type != ET_DYN)
      throw PluginError("plugin file " + path.string() + " is an ELF " +
                        (type == ET_REL    ? std::string("object file (.o)")
                         : type == ET_EXEC ? "executable"
                                           : "file of type " + std::to_string(type)) +
                        ", not a shared library: build it with touchpoint_add_plugin()");
    if (kHostMachine != EM_NONE && machine != kHostMachine)
      throw PluginError("plugin file " + path.string() + " was built for another CPU architecture (ELF machine " +
                        std::to_string(machine) + ", this hub: " + std::to_string(kHostMachine) + ")");
  }
}

/// Closes a descriptor on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

std::string sha256_hex(int fd) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    throw PluginError("cannot compute SHA-256 (OpenSSL)");
  }
  std::vector<char> buf(1 << 16);
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      EVP_MD_CTX_free(ctx);
      throw PluginError(std::string("cannot read plugin file for its SHA-256: ") + std::strerror(errno));
    }
    if (n == 0) break;
    EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(n));
    off += n;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0xF];
  }
  return out;
}

// Boost.DLL reports "boost::dll::shared_library::load() failed (dlerror
// system message: <path>: <reason>): Bad file descriptor"; the admin only
// needs <reason> (e.g. "undefined symbol: foo", "libbar.so.2: cannot open
// shared object file").
std::string dl_reason(const std::string& what, const fs::path& path) {
  static constexpr std::string_view kMarker = "dlerror system message: ";
  const size_t start = what.find(kMarker);
  const size_t end = what.rfind("): ");
  if (start == std::string::npos || end == std::string::npos || end < start) return what;
  std::string reason = what.substr(start + kMarker.size(), end - start - kMarker.size());
  const std::string prefix = path.string() + ": ";
  if (reason.rfind(prefix, 0) == 0) reason.erase(0, prefix.size());
  return reason;
}

// Libraries live for the whole process, on purpose (see header).
std::vector<boost::dll::shared_library>& keep_alive() {
  static auto* libs = new std::vector<boost::dll::shared_library>();
  return *libs;
}

}  // namespace

PluginLoader::PluginLoader(Options options, const tp_host_api* host_api)
    : options_(std::move(options)), host_api_(host_api) {}

void PluginLoader::check_trusted(const fs::path& path, int dir_fd, int file_fd) const {
  uid_t allowed = static_cast<uid_t>(-1);
  if (!options_.trusted_owner.empty()) {
    if (const passwd* pw = ::getpwnam(options_.trusted_owner.c_str())) allowed = pw->pw_uid;
  }
  auto check_one = [&](int fd, const fs::path& p, const char* what) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
      throw PluginError(std::string("cannot stat ") + what + " " + p.string() + ": " + std::strerror(errno));
    if (st.st_mode & S_IWOTH)
      throw PluginError(std::string("refusing plugin: ") + what + " " + p.string() +
                        " is world-writable (anyone could replace the code the hub runs)");
    if (st.st_mode & S_IWGRP)
      throw PluginError(std::string("refusing plugin: ") + what + " " + p.string() +
                        " is group-writable (every member of its group could replace the code the hub runs; "
                        "chmod g-w)");
    if (st.st_uid != 0 && st.st_uid != ::geteuid() && st.st_uid != allowed)
      throw PluginError(std::string("refusing plugin: ") + what + " " + p.string() + " is owned by uid " +
                        std::to_string(st.st_uid) + ", not by root or the service user");
    return st;
  };
  const struct stat fst = check_one(file_fd, path, "file");
  if (!S_ISREG(fst.st_mode)) throw PluginError("plugin " + path.string() + " is not a regular file");
  const fs::path dir = path.parent_path();
  check_one(dir_fd, dir, "directory");
  // Every directory above: whoever can rename one of them can swap the whole
  // subtree. World-writable is fine only with the sticky bit (like /tmp),
  // where nobody but the owner can rename an entry. (Group-writable parents
  // such as Debian's /usr/local, group staff, are accepted: that group is
  // trusted to install software.)
  for (fs::path p = dir.parent_path(); !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && (st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
      throw PluginError("refusing plugin: directory " + p.string() + " above " + path.string() +
                        " is world-writable without the sticky bit (anyone could replace the plugin directory)");
    if (p == p.root_path()) break;
  }
}

void PluginLoader::check_pin(const fs::path& path, int file_fd) const {
  // The pin is by file name (libtp_<name>.so), checked before any of the
  // file's code runs (negotiation is code too).
  std::string name = path.stem().string();
  if (name.rfind("libtp_", 0) == 0) name.erase(0, 6);
  auto it = options_.sha256.find(name);
  if (it == options_.sha256.end()) return;
  const std::string actual = sha256_hex(file_fd);
  if (actual != it->second)
    throw PluginError("refusing plugin " + path.string() + ": its SHA-256 is " + actual + ", but plugins.sha256." +
                      name + " pins " + it->second);
}

std::shared_ptr<const LoadedPlugin> PluginLoader::load_file(const fs::path& file) {
  const fs::path given = fs::absolute(file).lexically_normal();
  std::error_code ec;
  if (!fs::exists(given, ec)) throw PluginError("plugin file not found: " + given.string());
  // Trust is checked on the real file: a symlink in a trusted directory may
  // point into one that is not.
  fs::path path = fs::canonical(given, ec);
  if (ec) throw PluginError("cannot resolve plugin path " + given.string() + ": " + ec.message());
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (auto it = cache_.find(path); it != cache_.end()) return it->second;
  }
  Fd dir(::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd < 0)
    throw PluginError("cannot open plugin directory " + path.parent_path().string() + ": " + std::strerror(errno));
  Fd f(::openat(dir.fd, path.filename().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (f.fd < 0)
    throw PluginError("cannot open plugin file " + path.string() + ": " + std::strerror(errno) +
                      (errno == ELOOP ? " (it was replaced by a symbolic link)" : ""));
  check_trusted(path, dir.fd, f.fd);
  check_elf(path, f.fd);
  check_pin(path, f.fd);
  // Load exactly the file that was checked, through its descriptor. The
  // descriptor stays open for the life of the process (like the library):
  // the dynamic loader knows libraries by name first, so a later plugin
  // opened under the same, reused fd number would be taken for this one.
  const std::string by_fd = "/proc/self/fd/" + std::to_string(f.fd);

  boost::dll::shared_library lib;
  try {
    lib.load(by_fd, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw PluginError("cannot load " + path.string() + " as a shared library: " + dl_reason(e.what(), by_fd));
  }
  if (!lib.has(TP_PLUGIN_ENTRY_SYMBOL))
    throw PluginError("not a Touchpoint plugin: " + path.string() + " does not export " TP_PLUGIN_ENTRY_SYMBOL +
                      " (declare it extern \"C\" with default visibility, or use TOUCHPOINT_PLUGIN())");
  auto negotiate = lib.get<tp_status(const tp_negotiation*, tp_plugin_info*, tp_error*)>(TP_PLUGIN_ENTRY_SYMBOL);

  tp_negotiation in{sizeof(tp_negotiation), kHostMinAbi, kHostMaxAbi, host_api_};
  tp_plugin_info info{};
  info.size = sizeof(tp_plugin_info);
  char msg[1024];
  tp_error err{sizeof(tp_error), msg, sizeof(msg), 0};
  tp_status st = TP_STATUS_INTERNAL;
  // Exceptions must not cross the C ABI (the SDK's trampolines catch them);
  // a plugin built without them still must not take the hub down.
  std::string thrown;
  try {
    st = negotiate(&in, &info, &err);
  } catch (const std::exception& e) {
    thrown = std::string(": ") + e.what();
  } catch (...) {
    thrown = " (not a std::exception)";
  }
  if (!thrown.empty())
    throw PluginError("plugin " + path.string() + " threw a C++ exception out of " TP_PLUGIN_ENTRY_SYMBOL + thrown +
                      "; exceptions must not cross the plugin ABI");
  std::string why(msg, std::min(err.len, sizeof(msg)));
  if (st == TP_STATUS_REFUSED)
    throw PluginError("plugin " + path.string() + " refused ABI negotiation (host offers " +
                      version_string(kHostMinAbi) + ".." + version_string(kHostMaxAbi) + ")" +
                      (why.empty() ? "" : ": " + why));
  if (st != TP_OK)
    throw PluginError("plugin " + path.string() + " failed negotiation with status " + std::to_string(st) +
                      (why.empty() ? "" : ": " + why));
  if (info.abi_version < kHostMinAbi || info.abi_version > kHostMaxAbi)
    throw PluginError("plugin " + path.string() + " chose ABI " + version_string(info.abi_version) +
                      ", outside the host's range " + version_string(kHostMinAbi) + ".." + version_string(kHostMaxAbi));
  if (info.size < offsetof(tp_plugin_info, vtable) + sizeof(info.vtable) || info.vtable == nullptr)
    throw PluginError("plugin " + path.string() + " returned no function table");
  const tp_plugin_vtable* vt = info.vtable;
  if (!TP_HAS_FIELD(vt, tp_plugin_vtable, close) || vt->open == nullptr || vt->close == nullptr)
    throw PluginError("plugin " + path.string() + " has an incomplete function table (open/close missing)");

  auto p = std::make_shared<LoadedPlugin>();
  p->path = given;
  p->name = view(info.name);
  p->version = view(info.version);
  p->description = view(info.description);
  p->abi_version = info.abi_version;
  p->capabilities = info.capabilities & (TP_CAP_SOURCE | TP_CAP_SINK | TP_CAP_CONCURRENT_SAFE);  // unknown bits ignored
  p->vtable = vt;
  if (p->name.empty()) throw PluginError("plugin " + path.string() + " reports an empty name");
  // The hub finds a plugin by name as libtp_<name>.so: a file that holds
  // another name would pass inspect and list and then never be found.
  const std::string stem = given.stem().string();
  if (stem.rfind("libtp_", 0) != 0)
    throw PluginError("plugin file " + given.string() + " is not named libtp_<name>.so; the hub loads plugin '" +
                      p->name + "' only from libtp_" + p->name + ".so");
  if (stem.substr(6) != p->name)
    throw PluginError("plugin file " + given.string() + " calls itself '" + p->name + "', expected '" + stem.substr(6) +
                      "': the hub loads plugin '" + p->name + "' only from libtp_" + p->name + ".so");
  try {
    const std::vector<std::string> exports = exported_symbols(f.fd);
    if (exports.size() != 1) {
      std::string some;
      for (size_t i = 0; i < exports.size() && i < 3; ++i) some += (i ? ", " : "") + exports[i];
      p->warnings.push_back("plugin '" + p->name + "' exports " + std::to_string(exports.size()) +
                            " dynamic symbols (" + some + (exports.size() > 3 ? ", ..." : "") +
                            "), not only " TP_PLUGIN_ENTRY_SYMBOL
                            ": two plugins bundling different versions of a library can bind to each other's "
                            "symbols. Build it with touchpoint_add_plugin() (docs/abi.md, Symbol export rule)");
    }
  } catch (const std::exception& e) {
    p->warnings.push_back("plugin '" + p->name + "': its exported symbols could not be read: " + e.what());
  }
  if (p->is_source() && vt->read == nullptr)
    throw PluginError("plugin " + p->name + " claims to be a source but has no read()");
  if (p->is_sink() && vt->write == nullptr)
    throw PluginError("plugin " + p->name + " claims to be a sink but has no write()");

  std::lock_guard<std::mutex> lk(mu_);
  keep_alive().push_back(std::move(lib));
  f.fd = -1;  // kept open on purpose (see above)
  cache_[path] = p;
  return p;
}

std::shared_ptr<const LoadedPlugin> PluginLoader::get(const std::string& name) {
  fs::path file = options_.dir / ("libtp_" + name + ".so");
  if (!fs::exists(file)) throw PluginError("plugin '" + name + "' not found: expected " + file.string());
  return load_file(file);  // which checks that the file holds plugin `name`
}

std::vector<PluginLoader::ScanEntry> PluginLoader::scan() {
  std::vector<ScanEntry> out;
  std::error_code ec;
  if (!fs::is_directory(options_.dir, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(options_.dir)) {
    std::string n = e.path().filename().string();
    if (n.rfind("libtp_", 0) == 0 && e.path().extension() == ".so") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    ScanEntry s{f, nullptr, {}};
    try {
      s.plugin = load_file(f);
    } catch (const std::exception& e) {
      s.error = e.what();
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace touchpoint::core
