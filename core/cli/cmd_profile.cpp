#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "config/hub_config.hpp"
#include "store/store_factory.hpp"

namespace touchpoint::cli {

int cmd_profile(const Argv& argv) {
  Args args(argv, {"config", "events"}, {"help", "json"});
  const auto& pos = args.positionals();
  if (args.flag("help") || pos.size() != 2 || pos[0] != "show") {
    std::cout << "usage: touchpoint profile show <id|email|kind:value> [--events N] [--json] [--config FILE]\n\n"
                 "Prints one profile of the central store: attributes, identities (e-mail, phone,\n"
                 "external ids per source system) and its most recent records (default 10).\n"
                 "Examples: profile show 42 | profile show jane@example.com | profile show +4917012345678\n"
                 "Exit: 0 found, 2 usage, 3 not found.\n";
    return args.flag("help") ? kExitOk : kExitUsage;
  }
  core::HubConfig hub = core::load_hub_config(config_path(args));
  std::unique_ptr<core::Store> store_ptr = core::open_store(hub);
  core::Store& store = *store_ptr;
  const size_t events = static_cast<size_t>(positive_option(args, "events", 10));
  auto p = store.profile_find(pos[1], events);
  if (!p) {
    std::cerr << "no profile matches '" << pos[1] << "'\n";
    return kExitNotFound;
  }
  core::Json ids = core::Json::array();
  for (const auto& i : p->identities) ids.push_back({{"kind", i.kind}, {"value", i.value}, {"source", i.source}});
  core::Json recent = core::Json::array();
  for (const auto& r : p->recent) recent.push_back(core::to_json(r));
  core::Json out{{"id", p->id},
                 {"created_ms", p->created_ms},
                 {"updated_ms", p->updated_ms},
                 {"attributes", p->attributes},
                 {"identities", ids},
                 {"recent", recent}};
  if (args.flag("json")) {
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  std::cout << "profile " << p->id << "\n\nattributes:\n" << p->attributes.dump(2) << "\n\nidentities:\n";
  for (const auto& i : p->identities) std::cout << "  " << i.kind << "\t" << i.value << "\t(from " << i.source << ")\n";
  std::cout << "\nrecent records (" << p->recent.size() << "):\n";
  for (const auto& r : p->recent)
    std::cout << "  " << r.ts_ms << "\t" << r.type << "\t" << r.source << "\t" << r.id << "\t" << r.data.dump() << "\n";
  return kExitOk;
}

}  // namespace touchpoint::cli
