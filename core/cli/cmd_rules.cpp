// touchpoint rules test | decide | simulate
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>

#include "cli/args.hpp"
#include "cli/campaign_file.hpp"
#include "cli/commands.hpp"
#include "cli/local_store.hpp"
#include "config/hub_config.hpp"
#include "config/yaml_util.hpp"
#include "contact/decider.hpp"
#include "rules/rulebook_tests.hpp"
#include "util/clock.hpp"
#include "util/time_text.hpp"

namespace touchpoint::cli {
namespace {

constexpr const char* kHelp =
    "usage: touchpoint rules test     [--rulebook FILE] [--config FILE]\n"
    "       touchpoint rules decide   --customer REF --channel C [--purpose P] [--campaign X] [--offer O]\n"
    "                                 [--offer-category K] [--transactional] [--at TIME] [--record] [--json]\n"
    "       touchpoint rules simulate (--campaign FILE | --where CONDITION | --all) [--channel C] [--purpose P]\n"
    "                                 [--offer O] [--offer-category K] [--at TIME] [--json]\n\n"
    "test: runs the test cases in the rulebook file (customer.rulebook, or --rulebook); a failing case\n"
    "      prints its name and the difference. Exit 1 when a case fails.\n"
    "decide: the decision for one proposed contact against the store (send or suppress, with reasons).\n"
    "      REF is an e-mail, kind:value (ext:crm:K-1, phone:+49...) or a profile id. TIME is RFC 3339\n"
    "      (default now). --record stores the decision in the decision log.\n"
    "simulate: decides one proposal for every customer (--all), those matching a condition of the\n"
    "      rulebook's language over profile attributes (--where \"profile.credit_score < 500\"), or a\n"
    "      campaign file (YAML: name, channel, purpose, offer, offer_category, audience, at), and prints\n"
    "      counts per decision, channel and reason. Nothing is stored.\n"
    "Exit: 0 ok, 1 a test case failed, 2 usage or invalid rulebook, 3 unknown customer (decide).\n";

std::shared_ptr<const core::rules::Rulebook> load_rulebook(const Args& args, const core::HubConfig& hub) {
  std::filesystem::path file = hub.customer.rulebook;
  if (auto r = args.get("rulebook")) file = *r;
  if (file.empty()) throw UsageError("no rulebook: set customer.rulebook in the hub config or give --rulebook");
  return std::make_shared<const core::rules::Rulebook>(core::rules::Rulebook::load(file));
}

int64_t time_option(const Args& args) {
  auto a = args.get("at");
  if (!a) return core::now_ms();
  std::optional<int64_t> t = core::parse_rfc3339_ms(*a);
  if (!t) throw UsageError("--at must be an RFC 3339 date-time such as 2026-12-01T09:30:00Z");
  return *t;
}

int test(const Args& args) {
  core::HubConfig hub = core::load_hub_config(config_path(args));
  auto rb = load_rulebook(args, hub);
  core::rules::RulebookTests results = core::rules::run_tests(*rb);
  std::cout << core::rules::format_report(results);
  return results.ok() ? kExitOk : kExitFailure;
}

int decide(const Args& args) {
  core::HubConfig hub = core::load_hub_config(config_path(args));
  auto rb = load_rulebook(args, hub);
  core::rules::Proposal p;
  p.customer = args.get("customer").value_or("");
  p.channel = args.get("channel").value_or("");
  if (p.customer.empty() || p.channel.empty()) throw UsageError("decide needs --customer and --channel");
  p.purpose = args.get("purpose").value_or("marketing");
  p.campaign = args.get("campaign").value_or("");
  p.offer = args.get("offer").value_or("");
  p.offer_category = args.get("offer-category").value_or("");
  p.transactional = args.flag("transactional");
  p.at = time_option(args);
  if (const std::string problem = rb->check_proposal(p); !problem.empty()) throw UsageError(problem);
  LocalStore local(hub);
  core::contact::Decider decider(local.customers(), rb);
  core::rules::Decision d = decider.decide(p, args.flag("record"));
  if (args.flag("json")) {
    std::cout << core::rules::decision_json(d).dump() << "\n";
  } else {
    std::cout << (d.send ? "send" : "suppress") << (d.channel.empty() ? "" : " via " + d.channel) << "  (rulebook "
              << d.rulebook << ")\n";
    for (const auto& r : d.reasons)
      std::cout << "  " << r.code << "\t" << r.rule << (r.channel.empty() ? "" : " [" + r.channel + "]") << ": "
                << r.detail << "\n";
    for (const auto& r : d.notes) std::cout << "  note " << r.code << "\t" << r.rule << ": " << r.detail << "\n";
  }
  for (const auto& r : d.reasons)
    if (r.code == "unknown_customer") return kExitNotFound;
  return kExitOk;
}

Campaign campaign_from_args(const Args& args) {
  Campaign c;
  if (auto file = args.get("campaign")) {
    c = read_campaign_file(*file);
  } else {
    if (!args.get("where") && !args.flag("all")) throw UsageError("simulate needs --campaign FILE, --where or --all");
    c.audience = args.get("where").value_or("");
    c.proposal.channel = "best";
  }
  if (auto v = args.get("channel")) c.proposal.channel = *v;
  if (auto v = args.get("purpose")) c.proposal.purpose = *v;
  if (auto v = args.get("offer")) c.proposal.offer = *v;
  if (auto v = args.get("offer-category")) c.proposal.offer_category = *v;
  if (args.get("at") || c.proposal.at == 0) c.proposal.at = time_option(args);
  return c;
}

int simulate(const Args& args) {
  core::HubConfig hub = core::load_hub_config(config_path(args));
  auto rb = load_rulebook(args, hub);
  Campaign c = campaign_from_args(args);
  const std::optional<core::rules::Condition> audience = checked_audience(*rb, c);
  LocalStore local(hub);
  const auto start = std::chrono::steady_clock::now();
  const int64_t since = c.proposal.at - rb->lookback_ms();
  size_t customers = 0, in_audience = 0, send = 0, suppress = 0;
  std::map<std::string, size_t> by_channel, by_reason, by_rule;
  local.store().reads().each_profile([&](const core::ProfileRow& row) {
    ++customers;
    core::rules::CustomerSnapshot s = local.customers().snapshot_from(row, since);
    if (audience && !audience->eval(s.attributes, c.proposal)) return true;
    ++in_audience;
    core::rules::Decision d = rb->decide(&s, c.proposal);
    if (d.send) {
      ++send;
      ++by_channel[d.channel];
    } else {
      ++suppress;
    }
    for (const auto& r : d.reasons) {
      ++by_reason[r.code];
      ++by_rule[r.rule];
    }
    return true;
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  core::Json out{{"campaign", c.name},
                 {"rulebook", rb->version()},
                 {"at", core::format_rfc3339_ms(c.proposal.at)},
                 {"customers", customers},
                 {"audience", in_audience},
                 {"send", send},
                 {"suppress", suppress},
                 {"send_by_channel", by_channel},
                 {"reasons", by_reason},
                 {"rules", by_rule},
                 {"seconds", seconds}};
  if (args.flag("json")) {
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  std::cout << "campaign " << (c.name.empty() ? "(ad hoc)" : c.name) << " at " << out["at"].get<std::string>()
            << ", rulebook " << rb->version() << "\n"
            << "  customers " << customers << ", in the audience " << in_audience << "\n"
            << "  send      " << send << "\n";
  for (const auto& [ch, n] : by_channel) std::cout << "    via " << ch << "\t" << n << "\n";
  std::cout << "  suppress  " << suppress << "\n  reasons (a suppressed contact can have several):\n";
  for (const auto& [code, n] : by_reason) std::cout << "    " << code << "\t" << n << "\n";
  std::cout << "  by rule:\n";
  for (const auto& [rule, n] : by_rule) std::cout << "    " << rule << "\t" << n << "\n";
  std::cout << "  (" << seconds << " s)\n";
  return kExitOk;
}

}  // namespace

int cmd_rules(const Argv& argv) {
  Args args(
      argv,
      {"config", "rulebook", "customer", "channel", "purpose", "campaign", "offer", "offer-category", "at", "where"},
      {"help", "json", "transactional", "record", "all"});
  const auto& pos = args.positionals();
  if (args.flag("help") || pos.size() != 1) {
    std::cout << kHelp;
    return args.flag("help") ? kExitOk : kExitUsage;
  }
  if (pos[0] == "test") return test(args);
  if (pos[0] == "decide") return decide(args);
  if (pos[0] == "simulate") return simulate(args);
  throw UsageError("unknown rules subcommand '" + pos[0] + "'");
}

}  // namespace touchpoint::cli
