// touchpoint campaign run FILE: one contact request per customer in the
// audience, decided and queued by the contact loop exactly as requests from
// any other source. The requests' ids derive from (campaign, profile), so a
// second run of the same campaign sends nobody twice.
#include <chrono>
#include <iostream>
#include <map>

#include "cli/args.hpp"
#include "cli/campaign_file.hpp"
#include "cli/commands.hpp"
#include "cli/local_store.hpp"
#include "config/hub_config.hpp"
#include "config/pipeline_config.hpp"
#include "contact/contact_loop.hpp"
#include "contact/decider.hpp"
#include "util/clock.hpp"

namespace touchpoint::cli {
namespace {

constexpr const char* kHelp =
    "usage: touchpoint campaign run FILE [--config FILE] [--json]\n\n"
    "Submits one contact request per customer in the campaign's audience (docs/cli.md#campaign).\n"
    "Each is decided by the rulebook; allowed ones are queued for the channel's sink and sent by the\n"
    "running hub, a deterministic holdout share is decided but not sent. Running it again sends\n"
    "nobody twice. Exit: 0 ok, 2 usage or invalid campaign/configuration.\n";

constexpr size_t kBatch = 500;

/// channel -> sink instance, from the configured pipelines.
std::map<std::string, std::string> channel_sinks(const core::HubConfig& hub) {
  std::vector<core::ConfigError> errors;
  std::map<std::string, std::string> out;
  for (const core::PipelinePtr& p : core::load_pipelines(hub.pipelines_dir, hub, errors))
    for (const core::SinkUse& s : p->sinks)
      if (!s.channel.empty()) out[s.channel] = s.plugin.instance;
  if (!errors.empty()) throw core::ConfigError(errors.front());
  return out;
}

int run(const Args& args, const std::string& file) {
  core::HubConfig hub = core::load_hub_config(config_path(args));
  Campaign c = read_campaign_file(file);
  if (c.name.empty()) throw UsageError("a campaign to run needs a name (its contacts are keyed by it)");
  if (hub.customer.rulebook.empty()) throw UsageError("no rulebook: set customer.rulebook in the hub config");
  auto rb = std::make_shared<const core::rules::Rulebook>(core::rules::Rulebook::load(hub.customer.rulebook));
  const std::optional<core::rules::Condition> audience = checked_audience(*rb, c);
  LocalStore local(hub);
  core::contact::Decider decider(local.customers(), rb);
  core::contact::ContactLoop loop(decider, hub.customer.contacts);
  loop.set_channel_sinks(channel_sinks(hub));
  local.customers().set_loop_handler(&loop);

  const auto start = std::chrono::steady_clock::now();
  const std::string source = "campaign";
  const std::string pipeline = "campaign:" + c.name;
  size_t customers = 0, requested = 0, held_out = 0;
  core::ApplyBatch batch;
  auto flush = [&] {
    if (batch.records.empty()) return;
    local.customers().apply(batch);
    batch.records.clear();
  };
  // Profiles are read on their own connection while batches are applied on the writer.
  std::vector<int64_t> members;
  local.store().reads().each_profile([&](const core::ProfileRow& row) {
    ++customers;
    if (audience) {
      core::rules::CustomerSnapshot s = local.customers().snapshot_from(row, 0);
      if (!audience->eval(s.attributes, c.proposal)) return true;
    }
    members.push_back(row.id);
    return true;
  });
  for (int64_t profile : members) {
    core::Record r;
    r.id = c.name + ":" + std::to_string(profile);
    r.type = "contact_request";
    r.source = source;
    r.key = std::to_string(profile);
    r.ts_ms = core::now_ms();
    const bool holdout = in_holdout(c.name, profile, c.holdout);
    held_out += holdout;
    r.data = core::Json{{"customer", profile},
                        {"channel", c.proposal.channel},
                        {"campaign", c.proposal.campaign},
                        {"purpose", c.proposal.purpose},
                        {"transactional", c.proposal.transactional},
                        {"holdout", holdout},
                        {"vars", c.vars}};
    if (!c.proposal.offer.empty()) r.data["offer"] = c.proposal.offer;
    if (!c.proposal.offer_category.empty()) r.data["offer_category"] = c.proposal.offer_category;
    if (!c.template_name.empty()) r.data["template"] = c.template_name;
    if (c.proposal.at > core::now_ms()) r.data["not_before"] = c.proposal.at;
    batch.records.push_back({std::move(r), pipeline});
    ++requested;
    if (batch.records.size() >= kBatch) flush();
  }
  flush();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // The outcome, from the ledger: this run and any earlier run of the campaign.
  std::map<std::string, size_t> states, reasons;
  for (int64_t profile : members)
    for (const core::ContactRow& row : local.store().reads().contacts_of(profile, 1000)) {
      if (row.campaign != c.proposal.campaign || row.request_source != source) continue;
      ++states[row.state];
      for (const core::Json& reason : core::Json::parse(row.reasons)) ++reasons[reason.value("code", "")];
    }
  core::Json out{
      {"campaign", c.name},  {"customers", customers},      {"audience", members.size()},      {"requested", requested},
      {"holdout", held_out}, {"contacts_by_state", states}, {"suppressed_by_reason", reasons}, {"seconds", seconds}};
  if (args.flag("json")) {
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  std::cout << "campaign " << c.name << ": " << members.size() << " of " << customers << " customers in the audience ("
            << held_out << " held out)\n  contacts by state:\n";
  for (const auto& [state, n] : states) std::cout << "    " << state << "\t" << n << "\n";
  if (!reasons.empty()) std::cout << "  suppressed, by reason (a contact can have several):\n";
  for (const auto& [code, n] : reasons) std::cout << "    " << code << "\t" << n << "\n";
  std::cout << "  (" << seconds << " s; queued contacts are sent by the running hub)\n";
  return kExitOk;
}

}  // namespace

int cmd_campaign(const Argv& argv) {
  Args args(argv, {"config"}, {"help", "json"});
  const auto& pos = args.positionals();
  if (args.flag("help") || pos.size() != 2 || pos[0] != "run") {
    std::cout << kHelp;
    return args.flag("help") ? kExitOk : kExitUsage;
  }
  return run(args, pos[1]);
}

}  // namespace touchpoint::cli
