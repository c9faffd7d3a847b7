#pragma once
// One function per top-level subcommand; each returns the exit code.

#include <string>
#include <vector>

namespace touchpoint::cli {

using Argv = std::vector<std::string>;

int cmd_run(const Argv& args);
int cmd_validate(const Argv& args);
int cmd_test(const Argv& args);
int cmd_docs(const Argv& args);
int cmd_tap(const Argv& args);
int cmd_plugins(const Argv& args);
int cmd_dlq(const Argv& args);
int cmd_profile(const Argv& args);
int cmd_rules(const Argv& args);
int cmd_suppress(const Argv& args);
int cmd_gdpr(const Argv& args);
int cmd_campaign(const Argv& args);
int cmd_contact(const Argv& args);
int cmd_report(const Argv& args);

}  // namespace touchpoint::cli
