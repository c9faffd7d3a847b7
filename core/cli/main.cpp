// touchpoint: the hub's single binary (run the service, validate config,
// inspect plugins, the dead-letter store and profiles).
#include <touchpoint/abi.h>

#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "config/config_error.hpp"

namespace {

constexpr const char* kUsage = R"(usage: touchpoint <command> [options]

commands:
  run                         start the hub (foreground; systemd Type=notify)
  validate                    check hub config, pipelines and plugin configs (--discover: source fields)
  test [FILE|DIR ...]         run the pipelines' test cases (tests: / *.test.yaml), --junit FILE
  docs [--out DIR]            interface documentation of this installation (Markdown, HTML, Graphviz)
  tap <pipeline> [--step N]   live records at one point of a running pipeline (PII masked)
  plugins list                list plugins in the plugin directory
  plugins inspect <file.so>   load one plugin file and show what it declares (--discover CONFIG.json)
  dlq list|show|replay|purge  inspect and replay the dead-letter store
  profile show <id|email|kind:value>   the 360-degree view of one customer, with lineage
  profile unmerge --merge ID  split two merged profiles
  rules test|decide|simulate  the contact rulebook: its test cases, one decision, a dry run
  suppress add|remove|list    suppression lists (blacklists)
  gdpr erase|export <customer>   erase a person (Art. 17) or export what is held (Art. 15)
  campaign run FILE           contact requests for a campaign's audience, decided and sent
  contact show <contact_id>   one contact's life: request, decision, sending, responses
  report <kind>               campaign funnels, attribution, control groups, data quality (--json, --csv)
  version                     print the version

common options:
  --config <file>   hub config (default: $TOUCHPOINT_CONFIG or /etc/touchpoint/touchpoint.yaml)
  --help            help for a command

exit codes: 0 ok, 1 failure, 2 usage error or invalid configuration, 3 not found
)";

}  // namespace

int main(int argc, char** argv) {
  using namespace touchpoint::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string cmd = args[0];
  Argv rest(args.begin() + 1, args.end());
  try {
    if (cmd == "run") return cmd_run(rest);
    if (cmd == "validate") return cmd_validate(rest);
    if (cmd == "test") return cmd_test(rest);
    if (cmd == "docs") return cmd_docs(rest);
    if (cmd == "tap") return cmd_tap(rest);
    if (cmd == "plugins") return cmd_plugins(rest);
    if (cmd == "dlq") return cmd_dlq(rest);
    if (cmd == "profile") return cmd_profile(rest);
    if (cmd == "rules") return cmd_rules(rest);
    if (cmd == "suppress") return cmd_suppress(rest);
    if (cmd == "gdpr") return cmd_gdpr(rest);
    if (cmd == "campaign") return cmd_campaign(rest);
    if (cmd == "contact") return cmd_contact(rest);
    if (cmd == "report") return cmd_report(rest);
    if (cmd == "version" || cmd == "--version") {
      std::cout << "touchpoint " << TOUCHPOINT_VERSION << " (plugin ABI " << TP_ABI_VERSION_MAJOR << "."
                << TP_ABI_VERSION_MINOR << ")\n";
      return kExitOk;
    }
    std::cerr << "touchpoint: unknown command '" << cmd << "'\n\n" << kUsage;
    return kExitUsage;
  } catch (const UsageError& e) {
    std::cerr << "touchpoint " << cmd << ": " << e.what() << " (see touchpoint " << cmd << " --help)\n";
    return kExitUsage;
  } catch (const touchpoint::core::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "touchpoint " << cmd << ": " << e.what() << "\n";
    return kExitFailure;
  }
}
