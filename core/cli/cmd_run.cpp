#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "config/hub_config.hpp"
#include "runtime/runtime.hpp"
#include "runtime/validation.hpp"

namespace touchpoint::cli {

int cmd_run(const Argv& argv) {
  Args args(argv, {"config"}, {"help"});
  if (args.flag("help")) {
    std::cout << "usage: touchpoint run [--config FILE]\n\n"
                 "Starts the hub in the foreground: replays the journal into the store, starts every\n"
                 "pipeline in pipelines_dir, serves the admin endpoint. SIGHUP reloads pipelines\n"
                 "(validated first; an invalid config keeps the running one), SIGTERM/SIGINT drain\n"
                 "in-flight batches and stop. Exit: 0 clean stop, 1 start-up failure, 2 invalid config.\n";
    return kExitOk;
  }
  if (!args.positionals().empty()) throw UsageError("unexpected argument '" + args.positionals()[0] + "'");
  core::Runtime runtime(core::load_hub_config(config_path(args)));
  return runtime.run();
}

int cmd_validate(const Argv& argv) {
  Args args(argv, {"config"}, {"help", "quiet"});
  if (args.flag("help")) {
    std::cout << "usage: touchpoint validate [--config FILE] [--quiet]\n\n"
                 "Checks the hub config, every pipeline file, that each referenced plugin loads with the\n"
                 "right capability, and each plugin's own check of its config block. Errors and warnings\n"
                 "are printed as file:line:col: message. Exit: 0 valid, 2 invalid.\n";
    return kExitOk;
  }
  core::HubConfig hub = core::load_hub_config(config_path(args));
  core::PluginLoader loader(hub.plugin_dir, hub.plugin_owner, core::PluginInstance::host_api());
  core::ValidationResult v = core::validate_pipelines(hub, loader);
  for (const std::string& w : v.warnings) std::cerr << w << " [warning]\n";
  for (const std::string& e : v.errors) std::cerr << e << "\n";
  if (!v.ok()) {
    std::cerr << v.errors.size() << " error(s)\n";
    return kExitUsage;
  }
  if (!args.flag("quiet"))
    std::cout << "configuration valid: " << hub.file.string() << ", " << v.pipelines.size() << " pipeline(s) in "
              << hub.pipelines_dir.string() << "\n";
  return kExitOk;
}

}  // namespace touchpoint::cli
