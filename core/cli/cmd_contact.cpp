// touchpoint contact show <contact_id>: one contact's whole life.
#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/local_store.hpp"
#include "config/hub_config.hpp"
#include "contact/contact_view.hpp"

namespace touchpoint::cli {
namespace {

constexpr const char* kHelp =
    "usage: touchpoint contact show CONTACT_ID [--config FILE] [--json]\n\n"
    "Shows one contact: the request, the decision with its reasons, the sink and the provider's id,\n"
    "and every response in order (docs/channels.md). Exit: 0 ok, 2 usage, 3 no such contact.\n";

int show(const Args& args, const std::string& id) {
  core::HubConfig hub = core::load_hub_config(config_path(args));
  LocalStore local(hub);
  std::optional<core::Json> life = core::contact::contact_life(local.store().reads(), id);
  if (!life) {
    std::cerr << "no contact '" << id << "'\n";
    return kExitNotFound;
  }
  if (args.flag("json")) {
    std::cout << life->dump(-1, ' ', false, core::Json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  const core::Json& c = *life;
  std::cout << "contact " << c["contact_id"].get<std::string>() << "  profile " << c["profile_id"] << "  "
            << c["channel"].get<std::string>() << "  campaign " << c["campaign"].get<std::string>() << "\n"
            << "  decision " << c["decision"].get<std::string>() << ", state " << c["state"].get<std::string>();
  if (!c["provider_id"].get<std::string>().empty())
    std::cout << ", provider id " << c["provider_id"].get<std::string>();
  std::cout << "\n";
  for (const core::Json& r : c["reasons"])
    std::cout << "  reason " << r.value("code", "") << "\t" << r.value("rule", "") << "\n";
  std::cout << "  history:\n";
  for (const core::Json& h : c["history"])
    std::cout << "    " << h["at"].get<std::string>() << "  " << h["what"].get<std::string>() << "  "
              << h["detail"].dump(-1, ' ', false, core::Json::error_handler_t::replace) << "\n";
  return kExitOk;
}

}  // namespace

int cmd_contact(const Argv& argv) {
  Args args(argv, {"config"}, {"help", "json"});
  const auto& pos = args.positionals();
  if (args.flag("help") || pos.size() != 2 || pos[0] != "show") {
    std::cout << kHelp;
    return args.flag("help") ? kExitOk : kExitUsage;
  }
  return show(args, pos[1]);
}

}  // namespace touchpoint::cli
