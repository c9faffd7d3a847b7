#include <iostream>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "config/hub_config.hpp"
#include "store/store_factory.hpp"

namespace touchpoint::cli {
namespace {

constexpr const char* kHelp =
    "usage: touchpoint dlq list   [--pipeline P] [--limit N] [--json]\n"
    "       touchpoint dlq show   <id>\n"
    "       touchpoint dlq replay (<id> | --pipeline P | --all)\n"
    "       touchpoint dlq purge  (<id> | --pipeline P | --all)\n"
    "       (each takes --config FILE)\n\n"
    "The dead-letter store keeps every record that a source, a transform step or a sink\n"
    "rejected, with pipeline, step, error class, reason, attempts and first/last time.\n"
    "replay marks entries for replay: the running hub (or the next start) runs them through\n"
    "their pipeline again (sink failures go back to that sink's outbox). Raw source rejects\n"
    "(e.g. a malformed CSV row) are not replayable: fix the input and deliver it again.\n"
    "Exit: 0 ok, 2 usage, 3 no such entry.\n";

std::string iso_time(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

core::DlqFilter selection(const Args& args, const std::string& verb) {
  core::DlqFilter f;
  f.limit = 1'000'000;
  const auto& pos = args.positionals();
  if (pos.size() == 2) {
    f.id = parse_positive(pos[1], "dead-letter id");
  } else if (auto p = args.get("pipeline")) {
    f.pipeline = *p;
  } else if (!args.flag("all")) {
    throw UsageError(verb + " needs an id, --pipeline P or --all");
  }
  return f;
}

}  // namespace

int cmd_dlq(const Argv& argv) {
  Args args(argv, {"config", "pipeline", "limit"}, {"help", "json", "all"});
  const auto& pos = args.positionals();
  if (args.flag("help") || pos.empty()) {
    std::cout << kHelp;
    return pos.empty() && !args.flag("help") ? kExitUsage : kExitOk;
  }
  const std::string verb = pos[0];
  if (verb != "list" && verb != "show" && verb != "replay" && verb != "purge")
    throw UsageError("unknown dlq subcommand '" + verb + "'");
  core::HubConfig hub = core::load_hub_config(config_path(args));
  std::unique_ptr<core::Store> store_ptr = core::open_store(hub);
  core::Store& store = *store_ptr;

  if (verb == "list") {
    core::DlqFilter f;
    if (auto p = args.get("pipeline")) f.pipeline = *p;
    f.limit = static_cast<size_t>(positive_option(args, "limit", 100));
    auto rows = store.dlq_list(f);
    if (args.flag("json")) {
      core::Json out = core::Json::array();
      for (const auto& d : rows) out.push_back(core::dead_letter_json(d));
      std::cout << out.dump(2) << "\n";
      return kExitOk;
    }
    std::cout << "ID\tPIPELINE\tSTEP\tCLASS\tATTEMPTS\tLAST\tSTATE\tREASON\n";
    for (const auto& d : rows)
      std::cout << d.id << "\t" << d.pipeline << "\t" << d.step << "\t" << d.error_class << "\t" << d.attempts << "\t"
                << iso_time(d.last_ms) << "\t" << d.state << "\t" << d.reason
                << (d.location.empty() ? "" : " @ " + d.location) << "\n";
    std::cout << rows.size() << " entr" << (rows.size() == 1 ? "y" : "ies") << "\n";
    return kExitOk;
  }
  if (verb == "show") {
    if (pos.size() != 2) throw UsageError("show needs exactly one id");
    core::DlqFilter f = selection(args, verb);
    auto rows = store.dlq_list(f);
    if (rows.empty()) {
      std::cerr << "no dead letter with id " << pos[1] << "\n";
      return kExitNotFound;
    }
    const auto& d = rows[0];
    std::cout << "id:          " << d.id << "\nrecord id:   " << d.record_id << "\npipeline:    " << d.pipeline
              << "\nstep:        " << d.step << "\nerror class: " << d.error_class << "\nreason:      " << d.reason
              << "\nlocation:    " << d.location << "\nattempts:    " << d.attempts
              << "\nfirst:       " << iso_time(d.first_ms) << "\nlast:        " << iso_time(d.last_ms)
              << "\nstate:       " << d.state << "\npayload:\n"
              << d.payload << "\n";
    return kExitOk;
  }
  core::DlqFilter f = selection(args, verb);
  if (verb == "replay") {
    size_t n = store.dlq_request_replay(f);
    if (f.id && n == 0) {
      std::cerr << "no replayable dead letter with id " << *f.id << " (raw source rejects cannot be replayed)\n";
      return kExitNotFound;
    }
    std::cout << n << " entr" << (n == 1 ? "y" : "ies")
              << " marked for replay; the running hub picks them up within a second (or at its next start)\n";
    return kExitOk;
  }
  size_t n = store.dlq_purge(f);
  if (f.id && n == 0) {
    std::cerr << "no dead letter with id " << *f.id << "\n";
    return kExitNotFound;
  }
  std::cout << n << " entr" << (n == 1 ? "y" : "ies") << " purged\n";
  return kExitOk;
}

}  // namespace touchpoint::cli
