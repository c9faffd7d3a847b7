#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "config/hub_config.hpp"
#include "plugin/plugin_instance.hpp"
#include "plugin/plugin_loader.hpp"
#include "runtime/discovery.hpp"

namespace touchpoint::cli {
namespace {

std::string caps(const core::LoadedPlugin& p) {
  std::string s;
  if (p.is_source()) s += "source ";
  if (p.is_sink()) s += "sink ";
  if (p.capabilities & TP_CAP_CONCURRENT_SAFE) s += "concurrent-safe ";
  if (!s.empty()) s.pop_back();
  return s;
}

void describe(const core::LoadedPlugin& p) {
  std::cout << "name:         " << p.name << "\n"
            << "version:      " << p.version << "\n"
            << "description:  " << p.description << "\n"
            << "abi:          " << TP_VERSION_MAJOR(p.abi_version) << "." << TP_VERSION_MINOR(p.abi_version) << "\n"
            << "capabilities: " << caps(p) << "\n"
            << "file:         " << p.path.string() << "\n"
            << "verbs:        " << (p.vtable->validate ? "validate " : "") << "open "
            << (p.vtable->check ? "check " : "") << (p.vtable->discover ? "discover " : "")
            << (p.is_source() && p.vtable->read ? "read " : "") << (p.is_sink() && p.vtable->write ? "write " : "")
            << (p.is_source() && p.vtable->commit ? "commit " : "")
            << (TP_HAS_FIELD(p.vtable, tp_plugin_vtable, erase) && p.vtable->erase ? "erase " : "") << "close\n";
}

// Opens the plugin on the given config and prints its discover() document.
int inspect_discover(std::shared_ptr<const core::LoadedPlugin> plugin, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw UsageError("cannot read " + file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  core::PluginUse use;
  use.plugin = plugin->name;
  use.instance = "inspect";
  use.file = file;
  use.config = core::Json::parse(text, nullptr, false);
  if (use.config.is_discarded() || !use.config.is_object())
    throw UsageError(file + " is not a JSON object (the plugin's config block)");
  core::HubConfig hub;
  core::Discovered d = core::discover(std::move(plugin), use, hub);
  if (!d.error.empty()) {
    std::cerr << "discover: " << d.error << "\n";
    return kExitFailure;
  }
  std::cout << "discover:     " << d.document << "\n";
  if (d.fields) {
    std::cout << "fields:      ";
    for (const std::string& f : *d.fields) std::cout << " " << f;
    std::cout << "\n";
  }
  return kExitOk;
}

}  // namespace

int cmd_plugins(const Argv& argv) {
  Args args(argv, {"config", "plugin-dir", "discover"}, {"help"});
  const auto& pos = args.positionals();
  if (args.flag("help") || pos.empty()) {
    std::cout << "usage: touchpoint plugins list [--config FILE | --plugin-dir DIR]\n"
                 "       touchpoint plugins inspect <file.so> [--discover CONFIG.json]\n\n"
                 "list: every libtp_*.so in the plugin directory, loaded and negotiated (errors shown).\n"
                 "inspect: loads one file with the same trust and ABI checks the hub applies. With\n"
                 "--discover, opens an instance with the JSON config block in CONFIG.json (emits are\n"
                 "refused) and prints what its discover() reports: streams and fields.\n"
                 "Exit: 0 ok, 1 a plugin failed to load, 2 usage.\n";
    return pos.empty() && !args.flag("help") ? kExitUsage : kExitOk;
  }
  if (pos[0] == "inspect") {
    if (pos.size() != 2) throw UsageError("inspect needs exactly one plugin file");
    core::PluginLoader loader(".", "", core::PluginInstance::host_api());
    try {
      auto p = loader.load_file(pos[1]);
      describe(*p);
      for (const std::string& w : p->warnings) std::cerr << "warning: " << w << "\n";
      if (auto file = args.get("discover")) return inspect_discover(p, *file);
    } catch (const core::PluginError& e) {
      std::cerr << e.what() << "\n";
      return kExitFailure;
    }
    return kExitOk;
  }
  if (pos[0] == "list") {
    std::filesystem::path dir;
    std::string owner;
    if (auto d = args.get("plugin-dir")) {
      dir = *d;
    } else {
      core::HubConfig hub = core::load_hub_config(config_path(args));
      dir = hub.plugin_dir;
      owner = hub.plugin_owner;
    }
    core::PluginLoader loader(dir, owner, core::PluginInstance::host_api());
    int rc = kExitOk;
    auto entries = loader.scan();
    if (entries.empty()) std::cout << "no plugins in " << dir.string() << "\n";
    for (const auto& e : entries) {
      if (e.plugin) {
        std::cout << e.plugin->name << "\t" << e.plugin->version << "\t" << caps(*e.plugin) << "\t" << e.path.string()
                  << "\n";
        for (const std::string& w : e.plugin->warnings)
          std::cout << "WARNING\t" << e.path.string() << "\t" << w << "\n";
      } else {
        std::cout << "ERROR\t" << e.path.string() << "\t" << e.error << "\n";
        rc = kExitFailure;
      }
    }
    return rc;
  }
  throw UsageError("unknown plugins subcommand '" + pos[0] + "'");
}

}  // namespace touchpoint::cli
