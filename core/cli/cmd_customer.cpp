// touchpoint suppress add|remove|list, touchpoint gdpr erase|export
#include <iostream>

#include "cli/admin_client.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/local_store.hpp"
#include "config/hub_config.hpp"
#include "customer/record_fields.hpp"
#include "util/time_text.hpp"

namespace touchpoint::cli {
namespace {

constexpr const char* kSuppressHelp =
    "usage: touchpoint suppress add    <customer> --list L [--reason TEXT] [--channels email,phone] [--until TIME]\n"
    "       touchpoint suppress remove <customer> --list L\n"
    "       touchpoint suppress list   [--list L] [--limit N] [--json]\n"
    "       (each takes --config FILE)\n\n"
    "Suppression lists (blacklists): an entry keeps a customer from being contacted on the\n"
    "channels it names (all when none) until it expires. <customer> is an e-mail address,\n"
    "kind:value (phone:+49..., ext:crm:K-1) or a profile id; an identity is suppressed even\n"
    "before any profile has it. Which lists block which purposes is set in the rulebook.\n"
    "Every change is written to the audit log. Exit: 0 ok, 2 usage, 3 no such entry.\n";

constexpr const char* kGdprHelp =
    "usage: touchpoint gdpr erase  <customer> [--config FILE]\n"
    "       touchpoint gdpr export <customer> [--config FILE]\n\n"
    "erase (GDPR Art. 17): removes the profile, the profiles merged into it, its identities,\n"
    "records, timeline, consents, decisions, suppression entries, and the dead letters and\n"
    "outbox entries that mention it. It leaves tombstones (keyed hashes of the identities,\n"
    "never the values) so that a journal replay or a later record does not bring the person\n"
    "back. With the hub running, the erase goes through its admin API so that every connector\n"
    "gets the erase request too; the receipt lists each connector. Without a running hub the\n"
    "store is erased directly and the receipt says the connectors were not contacted.\n"
    "export (GDPR Art. 15): everything held about a person as one JSON document, with lineage.\n"
    "Both are written to the audit log. Exit: 0 ok, 2 usage, 3 no such customer.\n";

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    if (comma > pos) out.push_back(s.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int cmd_suppress(const Argv& argv) {
  Args args(argv, {"config", "list", "reason", "channels", "until", "limit"}, {"help", "json"});
  const auto& pos = args.positionals();
  if (args.flag("help") || pos.empty()) {
    std::cout << kSuppressHelp;
    return args.flag("help") ? kExitOk : kExitUsage;
  }
  core::HubConfig hub = core::load_hub_config(config_path(args));
  LocalStore local(hub);
  if (pos[0] == "list") {
    const size_t limit = static_cast<size_t>(positive_option(args, "limit", 1000));
    auto rows = local.store().reads().suppressions(args.get("list").value_or(""), limit);
    core::Json out = core::Json::array();
    for (const auto& s : rows) {
      core::Json e{{"list", s.list},
                   {"subject", s.subject},
                   {"reason", s.reason},
                   {"channels", s.channels},
                   {"added", core::format_rfc3339_ms(s.added_ms)},
                   {"source", s.source}};
      if (s.until_ms) e["until"] = core::format_rfc3339_ms(s.until_ms);
      out.push_back(std::move(e));
    }
    if (args.flag("json")) {
      std::cout << out.dump() << "\n";
    } else {
      if (rows.empty()) std::cout << "no entries\n";
      for (const auto& e : out)
        std::cout << e["list"].get<std::string>() << "\t" << e["subject"].get<std::string>() << "\t"
                  << e["reason"].get<std::string>() << "\t" << e["channels"].dump() << "\t"
                  << e.value("until", "no expiry") << "\n";
    }
    return kExitOk;
  }
  if (pos.size() != 2) throw UsageError(pos[0] + " needs exactly one customer");
  const std::string list = args.get("list").value_or("");
  if (list.empty()) throw UsageError(pos[0] + " needs --list");
  if (pos[0] == "add") {
    core::SuppressionRow entry;
    entry.list = list;
    entry.reason = args.get("reason").value_or("");
    if (auto c = args.get("channels")) {
      entry.channels = split_list(*c);
      for (const std::string& ch : entry.channels)
        if (!core::customer::known_channel(ch))
          throw UsageError("--channels: '" + ch + "' is not email, phone, sms or post");
    }
    if (auto u = args.get("until")) {
      std::optional<int64_t> t = core::parse_rfc3339_ms(*u);
      if (!t) throw UsageError("--until must be an RFC 3339 date-time");
      entry.until_ms = *t;
    }
    try {
      local.customers().suppress_add(pos[1], entry, local.actor());
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    std::cout << "added to " << list << "\n";
    return kExitOk;
  }
  if (pos[0] == "remove") {
    size_t n = 0;
    try {
      n = local.customers().suppress_remove(list, pos[1], local.actor());
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    if (n == 0) {
      std::cerr << "no such entry on " << list << "\n";
      return kExitNotFound;
    }
    std::cout << "removed from " << list << "\n";
    return kExitOk;
  }
  throw UsageError("unknown suppress subcommand '" + pos[0] + "'");
}

int cmd_gdpr(const Argv& argv) {
  Args args(argv, {"config"}, {"help"});
  const auto& pos = args.positionals();
  if (args.flag("help") || pos.size() != 2 || (pos[0] != "erase" && pos[0] != "export")) {
    std::cout << kGdprHelp;
    return args.flag("help") ? kExitOk : kExitUsage;
  }
  core::HubConfig hub = core::load_hub_config(config_path(args));
  if (pos[0] == "erase") {
    // With a running hub, go through it: its connectors get the erase request.
    if (std::optional<AdminClient> admin = AdminClient::for_running_hub(hub)) {
      AdminClient::Response r = admin->post("/v1/gdpr/erase", core::Json{{"customer", pos[1]}}.dump());
      std::cout << r.body << "\n";
      if (r.status == 404) return kExitNotFound;
      if (r.status == 400) return kExitUsage;
      return r.status == 200 ? kExitOk : kExitFailure;
    }
    LocalStore local(hub);
    try {
      core::customer::EraseResult e = local.customers().erase(pos[1], local.actor());
      core::Json receipt{{"profile", e.profile_id},
                         {"profiles", e.profiles},
                         {"identities", e.identities},
                         {"records", e.records},
                         {"events", e.events},
                         {"decisions", e.decisions},
                         {"contacts", e.contacts},
                         {"suppressions", e.suppressions},
                         {"dead_letters_and_outbox", e.dead_letters_and_outbox},
                         {"tombstones", e.tombstones.size()},
                         {"connectors", core::Json::array({{{"connector", "*"},
                                                            {"status", "not_contacted"},
                                                            {"detail",
                                                             "the hub is not running; erase the data "
                                                             "held by connectors with the hub running"}}})}};
      std::cout << receipt.dump() << "\n";
      return kExitOk;
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    } catch (const std::out_of_range& e) {
      std::cerr << e.what() << "\n";
      return kExitNotFound;
    }
  }
  LocalStore local(hub);
  try {
    std::cout << local.customers()
                     .export_person(pos[1], local.actor())
                     .dump(2, ' ', false, core::Json::error_handler_t::replace)
              << "\n";
    return kExitOk;
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  } catch (const std::out_of_range& e) {
    std::cerr << e.what() << "\n";
    return kExitNotFound;
  }
}

}  // namespace touchpoint::cli
