#include "plugin/plugin_loader.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/dll/shared_library.hpp>
#include <cstring>

namespace touchpoint::core {
namespace fs = std::filesystem;
namespace {

std::string version_string(uint32_t v) {
  return std::to_string(TP_VERSION_MAJOR(v)) + "." + std::to_string(TP_VERSION_MINOR(v));
}

std::string view(tp_str s) { return s.len && s.data ? std::string(s.data, s.len) : std::string(); }

// Libraries live for the whole process, on purpose (see header).
std::vector<boost::dll::shared_library>& keep_alive() {
  static auto* libs = new std::vector<boost::dll::shared_library>();
  return *libs;
}

}  // namespace

PluginLoader::PluginLoader(fs::path dir, std::string trusted_owner, const tp_host_api* host_api)
    : dir_(std::move(dir)), trusted_owner_(std::move(trusted_owner)), host_api_(host_api) {}

void PluginLoader::check_trusted(const fs::path& path) const {
  uid_t allowed = static_cast<uid_t>(-1);
  if (!trusted_owner_.empty()) {
    if (const passwd* pw = ::getpwnam(trusted_owner_.c_str())) allowed = pw->pw_uid;
  }
  auto check_one = [&](const fs::path& p, const char* what) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0)
      throw PluginError(std::string("cannot stat ") + what + " " + p.string() + ": " + std::strerror(errno));
    if (st.st_mode & S_IWOTH)
      throw PluginError(std::string("refusing plugin: ") + what + " " + p.string() +
                        " is world-writable (anyone could replace the code the hub runs)");
    if (st.st_uid != 0 && st.st_uid != ::geteuid() && st.st_uid != allowed)
      throw PluginError(std::string("refusing plugin: ") + what + " " + p.string() + " is owned by uid " +
                        std::to_string(st.st_uid) + ", not by root or the service user");
  };
  check_one(path, "file");
  check_one(fs::absolute(path).parent_path(), "directory");
}

std::shared_ptr<const LoadedPlugin> PluginLoader::load_file(const fs::path& file) {
  const fs::path path = fs::absolute(file).lexically_normal();
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (auto it = cache_.find(path); it != cache_.end()) return it->second;
  }
  if (!fs::exists(path)) throw PluginError("plugin file not found: " + path.string());
  check_trusted(path);

  boost::dll::shared_library lib;
  try {
    lib.load(path.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw PluginError("cannot load " + path.string() + " as a shared library: " + e.what());
  }
  if (!lib.has(TP_PLUGIN_ENTRY_SYMBOL))
    throw PluginError("not a Touchpoint plugin: " + path.string() + " does not export " TP_PLUGIN_ENTRY_SYMBOL);
  auto negotiate = lib.get<tp_status(const tp_negotiation*, tp_plugin_info*, tp_error*)>(TP_PLUGIN_ENTRY_SYMBOL);

  tp_negotiation in{sizeof(tp_negotiation), kHostMinAbi, kHostMaxAbi, host_api_};
  tp_plugin_info info{};
  info.size = sizeof(tp_plugin_info);
  char msg[1024];
  tp_error err{sizeof(tp_error), msg, sizeof(msg), 0};
  tp_status st = TP_STATUS_INTERNAL;
  try {
    st = negotiate(&in, &info, &err);
  } catch (...) {
    throw PluginError("plugin " + path.string() + " threw an exception from " TP_PLUGIN_ENTRY_SYMBOL);
  }
  std::string why(msg, std::min(err.len, sizeof(msg)));
  if (st == TP_STATUS_REFUSED)
    throw PluginError("plugin " + path.string() + " refused ABI negotiation (host offers " + version_string(kHostMinAbi) +
                      ".." + version_string(kHostMaxAbi) + ")" + (why.empty() ? "" : ": " + why));
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
  p->path = path;
  p->name = view(info.name);
  p->version = view(info.version);
  p->description = view(info.description);
  p->abi_version = info.abi_version;
  p->capabilities = info.capabilities & (TP_CAP_SOURCE | TP_CAP_SINK | TP_CAP_CONCURRENT_SAFE);  // unknown bits ignored
  p->vtable = vt;
  if (p->name.empty()) throw PluginError("plugin " + path.string() + " reports an empty name");
  if (p->is_source() && vt->read == nullptr) throw PluginError("plugin " + p->name + " claims to be a source but has no read()");
  if (p->is_sink() && vt->write == nullptr) throw PluginError("plugin " + p->name + " claims to be a sink but has no write()");

  std::lock_guard<std::mutex> lk(mu_);
  keep_alive().push_back(std::move(lib));
  cache_[path] = p;
  return p;
}

std::shared_ptr<const LoadedPlugin> PluginLoader::get(const std::string& name) {
  fs::path file = dir_ / ("libtp_" + name + ".so");
  if (!fs::exists(file))
    throw PluginError("plugin '" + name + "' not found: expected " + file.string());
  auto p = load_file(file);
  if (p->name != name)
    throw PluginError("plugin file " + file.string() + " calls itself '" + p->name + "', expected '" + name + "'");
  return p;
}

std::vector<PluginLoader::ScanEntry> PluginLoader::scan() {
  std::vector<ScanEntry> out;
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir_)) {
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
