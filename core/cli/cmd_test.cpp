// touchpoint test [FILES|DIRS] [--junit FILE]: the test cases of pipelines.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "config/hub_config.hpp"
#include "pipeline/pipeline_tests.hpp"

namespace touchpoint::cli {
namespace fs = std::filesystem;
namespace {

constexpr const char* kHelp =
    "usage: touchpoint test [FILE|DIR ...] [--junit FILE] [--config FILE]\n\n"
    "Runs the test cases of pipelines: `tests:` in a pipeline file, or a <name>.test.yaml beside it\n"
    "(docs/pipeline-tests.md). Each case's input records go through the pipeline's real transform\n"
    "chain, without plugins or store, and every record that comes out (kept, dead-lettered, dropped)\n"
    "must be the one the case expects; a failing case prints the difference.\n"
    "Without FILE or DIR: every test in the hub config's pipelines_dir.\n"
    "--junit FILE  also write the results as JUnit XML (for CI).\n"
    "Exit: 0 all cases pass, 1 a case failed, 2 usage error or a file that does not load.\n";

std::vector<fs::path> files_to_test(const Args& args) {
  std::vector<fs::path> files;
  if (args.positionals().empty()) {
    const core::HubConfig hub = core::load_hub_config(config_path(args));
    return core::find_pipeline_test_files(hub.pipelines_dir);
  }
  for (const fs::path p : args.positionals()) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (fs::path& f : core::find_pipeline_test_files(p)) files.push_back(std::move(f));
    } else if (fs::exists(p, ec)) {
      files.push_back(p);
    } else {
      throw UsageError("no such file or directory: " + p.string());
    }
  }
  return files;
}

}  // namespace

int cmd_test(const Argv& argv) {
  Args args(argv, {"config", "junit"}, {"help"});
  if (args.flag("help")) {
    std::cout << kHelp;
    return kExitOk;
  }
  const std::vector<fs::path> files = files_to_test(args);
  std::vector<core::PipelineTestFile> results;
  size_t cases = 0, failed = 0, broken = 0;
  for (const fs::path& f : files) {
    core::PipelineTestFile r = core::run_pipeline_tests(f);
    std::cout << f.string() << (r.pipeline.empty() ? "" : " (pipeline " + r.pipeline + ")") << "\n";
    if (!r.error.empty()) {
      std::cout << "  ERROR " << r.error << "\n";
      ++broken;
    }
    for (const core::PipelineCaseResult& c : r.cases) {
      ++cases;
      if (c.passed) {
        std::cout << "  ok    " << c.name << "\n";
        continue;
      }
      ++failed;
      std::cout << "  FAIL  " << c.name << "\n";
      std::istringstream lines(c.failure);
      for (std::string line; std::getline(lines, line);) std::cout << "        " << line << "\n";
    }
    results.push_back(std::move(r));
  }
  std::cout << cases << " case(s) in " << files.size() << " file(s): " << cases - failed << " passed, " << failed
            << " failed" << (broken ? ", " + std::to_string(broken) + " file(s) did not load" : "") << "\n";
  if (const auto junit = args.get("junit")) {
    std::ofstream out(*junit, std::ios::binary | std::ios::trunc);
    out << core::junit_xml(results);
    if (!out) throw std::runtime_error("cannot write " + *junit);
  }
  if (files.empty()) throw UsageError("no test cases found");
  if (broken) return kExitUsage;
  return failed ? kExitFailure : kExitOk;
}

}  // namespace touchpoint::cli
