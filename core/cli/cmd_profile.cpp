#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/local_store.hpp"
#include "config/hub_config.hpp"
#include "util/time_text.hpp"

namespace touchpoint::cli {
namespace {

int show(core::customer::CustomerStore& customers, const std::string& reference, size_t recent, bool json) {
  std::string error;
  std::optional<int64_t> id = customers.resolve(reference, &error);
  if (!error.empty()) throw UsageError(error);
  std::optional<core::customer::ProfileView> v = id ? customers.view(*id, recent) : std::nullopt;
  if (!v) {
    std::cerr << "no profile matches '" << reference << "'\n";
    return kExitNotFound;
  }
  core::Json out = core::customer::view_json(*v);
  if (json) {
    std::cout << out.dump(-1, ' ', false, core::Json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  std::cout << "profile " << v->row.id;
  if (!v->merged_profiles.empty()) {
    std::cout << " (merged from";
    for (int64_t m : v->merged_profiles) std::cout << " " << m;
    std::cout << ")";
  }
  std::cout << "\n\nattributes (value, from source / record, rule):\n";
  for (const auto& [name, a] : out["attributes"].items()) {
    std::cout << "  " << name << " = " << a["value"].dump();
    if (a.contains("from")) {
      const core::Json& f = a["from"];
      if (f.contains("source"))
        std::cout << "   <- " << f["source"].get<std::string>() << " / " << f.value("record_id", "") << " at "
                  << f.value("at", "") << " (" << f.value("rule", "") << ")";
      else if (f.contains("sources"))
        std::cout << "   <- " << f["sources"].dump() << " (union)";
    }
    std::cout << "\n";
  }
  std::cout << "\nidentities:\n";
  for (const auto& i : v->identities) std::cout << "  " << i.kind << "\t" << i.value << "\t(from " << i.source << ")\n";
  std::cout << "\nconsents:\n";
  if (out["consents"].empty()) std::cout << "  (none)\n";
  for (const auto& c : out["consents"])
    std::cout << "  " << c["channel"].get<std::string>() << "/" << c["purpose"].get<std::string>() << "\t"
              << c["status"].get<std::string>() << "\tat " << c["at"].get<std::string>() << "\t(from "
              << c["source"].get<std::string>() << ")\n";
  std::cout << "\nchannels:\n";
  for (const auto& [name, c] : out["channels"].items())
    std::cout << "  " << name << "\t" << (c["has_address"].get<bool>() ? "address known" : "no address") << ", "
              << (c["valid"].get<bool>() ? "valid" : "INVALID " + c.value("invalid_reason", std::string())) << "\n";
  std::cout << "\nsuppressions:\n";
  if (v->suppressions.empty()) std::cout << "  (none)\n";
  for (const auto& s : out["suppressions"])
    std::cout << "  " << s["list"].get<std::string>() << "\t" << s.value("reason", "") << "\t" << s["channels"].dump()
              << "\n";
  std::cout << "\ntimeline (" << v->timeline.size() << "):\n";
  for (const auto& e : out["timeline"]) std::cout << "  " << e["at"].get<std::string>() << "\t" << e.dump() << "\n";
  std::cout << "\nlast decisions (" << v->decisions.size() << "):\n";
  for (const auto& d : out["decisions"])
    std::cout << "  " << d["at"].get<std::string>() << "\t" << d["decision"].get<std::string>() << "\t"
              << d["channel"].get<std::string>() << "\t" << d["reasons"].dump() << "\n";
  if (!v->merges.empty() || !v->conflicts.empty()) {
    std::cout << "\nmerges and conflicts:\n";
    for (const auto& m : out["merges"]) std::cout << "  merge " << m.dump() << "\n";
    for (const auto& c : out["conflicts"]) std::cout << "  conflict " << c.dump() << "\n";
  }
  std::cout << "\nrecent records (" << v->records.size() << "):\n";
  for (const auto& r : v->records)
    std::cout << "  " << core::format_rfc3339_ms(r.ts_ms) << "\t" << r.type << "\t" << r.source << "\t" << r.id << "\t"
              << r.data << "\n";
  return kExitOk;
}

}  // namespace

int cmd_profile(const Argv& argv) {
  Args args(argv, {"config", "events", "merge"}, {"help", "json"});
  const auto& pos = args.positionals();
  const bool usage_ok = (pos.size() == 2 && pos[0] == "show") || (pos.size() >= 1 && pos[0] == "unmerge");
  if (args.flag("help") || !usage_ok) {
    std::cout << "usage: touchpoint profile show <id|email|kind:value> [--events N] [--json] [--config FILE]\n"
                 "       touchpoint profile unmerge --merge ID [--config FILE]\n\n"
                 "show: one profile of the central store: every attribute with the source, record and\n"
                 "survivorship rule it came from, identities, consents, channel validity, suppressions,\n"
                 "the recent timeline, the last decisions, merges and identity conflicts.\n"
                 "unmerge: splits the profiles joined by merge ID (see show's merges) along the record\n"
                 "that joined them, recomputes both from their records, and keeps them apart.\n"
                 "Examples: profile show 42 | profile show jane@example.com | profile show ext:crm:K-1\n"
                 "Exit: 0 found, 2 usage, 3 not found.\n";
    return args.flag("help") ? kExitOk : kExitUsage;
  }
  core::HubConfig hub = core::load_hub_config(config_path(args));
  LocalStore local(hub);
  if (pos[0] == "show")
    return show(local.customers(), pos[1], static_cast<size_t>(positive_option(args, "events", 10)), args.flag("json"));
  const int64_t merge = positive_option(args, "merge", 0);
  if (merge <= 0) throw UsageError("unmerge needs --merge ID");
  try {
    auto [survivor, restored] = local.customers().unmerge(merge, local.actor());
    std::cout << "unmerged: profile " << restored << " is separate from profile " << survivor << " again\n";
  } catch (const std::invalid_argument& e) {
    std::cerr << e.what() << "\n";
    return kExitNotFound;
  }
  return kExitOk;
}

}  // namespace touchpoint::cli
