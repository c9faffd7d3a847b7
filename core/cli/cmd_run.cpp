#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "config/hub_config.hpp"
#include "plugin/isolation/isolated_plugin.hpp"
#include "runtime/discovery.hpp"
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
  Args args(argv, {"config"}, {"help", "quiet", "discover"});
  if (args.flag("help")) {
    std::cout << "usage: touchpoint validate [--config FILE] [--quiet] [--discover]\n\n"
                 "Checks the hub config, every pipeline file, that each referenced plugin loads with the\n"
                 "right capability, and each plugin's own check of its config block. Errors and warnings\n"
                 "are printed as file:line:col: message. Exit: 0 valid, 2 invalid.\n\n"
                 "--discover also opens each pipeline's source (emits refused), asks it which fields it\n"
                 "offers, and warns about steps that read a field it does not offer. Opening binds a\n"
                 "listener's port: run it where the hub is not running, or expect 'could not discover'.\n";
    return kExitOk;
  }
  core::HubConfig hub = core::load_hub_config(config_path(args));
  core::PluginLoader loader(hub.plugin_dir, hub.plugin_owner, core::PluginInstance::host_api());
  core::ValidationResult v = core::validate_pipelines(hub, loader);
  if (v.ok() && args.flag("discover")) {
    for (const core::PipelinePtr& p : v.pipelines) {
      const core::BoundPlugin b = core::bind_plugin(loader, p->source, hub.plugin_host);
      core::Discovered d = core::discover(b.plugin, b.use, hub);
      if (!d.error.empty()) {
        v.warnings.push_back(p->file.string() + ": could not discover the fields of source '" + p->source.plugin +
                             "': " + d.error);
      } else if (!d.fields) {
        if (!args.flag("quiet"))
          std::cout << p->name << ": source '" << p->source.plugin << "' lists no fields; steps not checked\n";
      } else {
        for (std::string& w : core::unoffered_fields(*p, *d.fields)) v.warnings.push_back(std::move(w));
      }
    }
  }
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
