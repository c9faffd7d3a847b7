// touchpoint docs: the installation's interface documentation, generated from
// its configuration (core/catalog/).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <vector>

#include "catalog/interface_doc.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "plugin/isolation/isolated_plugin.hpp"
#include "plugin/plugin_instance.hpp"
#include "runtime/validation.hpp"

namespace touchpoint::cli {
namespace {

// Draws dataflow.svg with Graphviz when `dot` is installed; the .dot file is
// the documentation either way.
void draw_svg(const std::filesystem::path& dot_file, const std::filesystem::path& svg_file) {
  const std::string dot = dot_file.string(), svg = svg_file.string();
  std::vector<char*> argv{const_cast<char*>("dot"), const_cast<char*>("-Tsvg"),     const_cast<char*>(dot.c_str()),
                          const_cast<char*>("-o"),  const_cast<char*>(svg.c_str()), nullptr};
  pid_t pid = 0;
  if (::posix_spawnp(&pid, "dot", nullptr, nullptr, argv.data(), environ) != 0) {
    std::cout << "dot (Graphviz) not found: draw the diagram with  dot -Tsvg " << dot << " -o " << svg << "\n";
    return;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    std::cout << "wrote " << svg << "\n";
  } else {
    std::cerr << "dot failed on " << dot << "\n";
  }
}

void write_out(const std::filesystem::path& file, const std::string& content) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + file.string());
  std::cout << "wrote " << file.string() << "\n";
}

}  // namespace

int cmd_docs(const Argv& argv) {
  Args args(argv, {"config", "format", "out"}, {"help", "discover"});
  if (args.flag("help")) {
    std::cout << "usage: touchpoint docs [--config FILE] [--format markdown|html|dot] [--out DIR] [--discover]\n\n"
                 "The interface documentation of this installation, from its configuration: every pipeline\n"
                 "with its source, settings (secrets hidden), steps and the fields they read and write, its\n"
                 "sinks; the channels with the rules that guard them; where store attributes come from\n"
                 "(survivorship) and the identity rules. Printed to stdout in one format (default markdown),\n"
                 "or with --out DIR written as interfaces.md, interfaces.html and dataflow.dot.\n"
                 "--discover opens each source (emits refused) to list the fields it offers, as validate\n"
                 "--discover does. Exit: 0 written, 2 invalid configuration or usage.\n";
    return kExitOk;
  }
  if (!args.positionals().empty()) throw UsageError("unexpected argument '" + args.positionals()[0] + "'");
  const std::string format = args.get("format").value_or("markdown");
  if (format != "markdown" && format != "html" && format != "dot")
    throw UsageError("--format must be markdown, html or dot, not '" + format + "'");

  core::HubConfig hub = core::load_hub_config(config_path(args));
  core::PluginLoader loader(hub.plugin_dir, hub.plugin_owner, core::PluginInstance::host_api());
  core::ValidationResult v = core::validate_pipelines(hub, loader);
  if (!v.ok()) {
    for (const std::string& e : v.errors) std::cerr << e << "\n";
    std::cerr << v.errors.size() << " error(s); fix them (touchpoint validate) before generating docs\n";
    return kExitUsage;
  }
  std::optional<core::rules::Rulebook> rulebook;
  if (!hub.customer.rulebook.empty()) rulebook = core::rules::Rulebook::load(hub.customer.rulebook);

  core::catalog::Installation in{&hub, v.pipelines, rulebook ? &*rulebook : nullptr, {}};
  if (args.flag("discover"))
    for (const core::PipelinePtr& p : v.pipelines) {
      const core::BoundPlugin b = core::bind_plugin(loader, p->source, hub.plugin_host);
      in.discovered.emplace(p->name, core::discover(b.plugin, b.use, hub));
    }

  const std::string md = core::catalog::markdown(in);
  const std::string title = "Touchpoint interfaces: " + hub.file.filename().string();
  if (auto dir = args.get("out")) {
    std::filesystem::create_directories(*dir);
    write_out(std::filesystem::path(*dir) / "interfaces.md", md);
    write_out(std::filesystem::path(*dir) / "interfaces.html", core::catalog::html_page(md, title));
    write_out(std::filesystem::path(*dir) / "dataflow.dot", core::catalog::dataflow_dot(in));
    draw_svg(std::filesystem::path(*dir) / "dataflow.dot", std::filesystem::path(*dir) / "dataflow.svg");
    return kExitOk;
  }
  if (format == "markdown") std::cout << md;
  if (format == "html") std::cout << core::catalog::html_page(md, title);
  if (format == "dot") std::cout << core::catalog::dataflow_dot(in);
  return kExitOk;
}

}  // namespace touchpoint::cli
