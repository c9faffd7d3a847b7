#include "catalog/interface_doc.hpp"

#include <set>
#include <sstream>

#include "catalog/markdown_text.hpp"
#include "config/customer_config.hpp"

namespace touchpoint::core::catalog {
namespace {

std::string joined_codes(const std::vector<std::string>& items, const char* none = "—") {
  if (items.empty()) return none;
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + code(s);
  return out;
}

std::string config_value(const Json& v) { return code(v.is_string() ? v.get<std::string>() : v.dump()); }

std::string record_type(const Pipeline& p) {
  auto it = p.source.config.find("type");
  return it != p.source.config.end() && it->is_string() ? it->get<std::string>() : "";
}

void settings_table(std::ostringstream& out, const PluginUse& use) {
  Json config = redacted_config(use);
  if (!config.is_object() || config.empty()) {
    out << "No settings.\n\n";
    return;
  }
  out << "| setting | value |\n|---|---|\n";
  for (const auto& [key, value] : config.items()) out << "| " << code(key) << " | " << config_value(value) << " |\n";
  out << "\n";
}

void step_table(std::ostringstream& out, const Pipeline& p) {
  if (p.steps.empty()) {
    out << "No transforms: records go on as the source emits them.\n\n";
    return;
  }
  out << "| step | reads | writes | removes |\n|---|---|---|---|\n";
  for (const Step& step : p.steps) {
    std::optional<std::vector<FieldUse>> uses = step.transform->fields();
    if (!uses) {
      out << "| " << code(step.name) << " | any field (a script) | any field | any field |\n";
      continue;
    }
    std::vector<std::string> reads, writes, removes;
    for (const FieldUse& u : *uses) {
      if (u.reads) reads.push_back(u.path);
      if (u.writes) writes.push_back(u.path);
      if (u.removes) removes.push_back(u.path);
    }
    out << "| " << code(step.name) << " | " << joined_codes(reads) << " | " << joined_codes(writes) << " | "
        << joined_codes(removes) << " |\n";
  }
  out << "\n";
}

void offered_fields(std::ostringstream& out, const Installation& in, const Pipeline& p) {
  auto it = in.discovered.find(p.name);
  if (it == in.discovered.end()) {
    out << "**Fields offered:** not asked (run `touchpoint docs --discover`).\n\n";
  } else if (!it->second.error.empty()) {
    out << "**Fields offered:** could not discover: " << text(it->second.error) << "\n\n";
  } else if (!it->second.fields) {
    out << "**Fields offered:** the source lists none (it describes itself as " << code(it->second.document)
        << ").\n\n";
  } else {
    out << "**Fields offered** (discover): "
        << joined_codes(std::vector<std::string>(it->second.fields->begin(), it->second.fields->end()), "none")
        << "\n\n";
    for (const std::string& w : unoffered_fields(p, *it->second.fields)) out << "> ⚠ " << text(w) << "\n\n";
  }
}

void sink_table(std::ostringstream& out, const Pipeline& p) {
  if (p.sinks.empty()) return;
  out << "**Sinks:**\n\n| sink | plugin | receives | batch | retries |\n|---|---|---|---|---|\n";
  for (const SinkUse& s : p.sinks) {
    out << "| " << code(s.name) << " | " << code(s.plugin.plugin) << " | "
        << (s.channel.empty() ? std::string("the pipeline's records") : "contacts on channel " + code(s.channel))
        << " | " << s.batch_size << " | " << s.retry.max_attempts << " attempts |\n";
  }
  out << "\n";
  for (const SinkUse& s : p.sinks) {
    out << "Settings of sink " << code(s.name) << ":\n\n";
    settings_table(out, s.plugin);
  }
}

void pipeline_section(std::ostringstream& out, const Installation& in, const Pipeline& p) {
  out << "### " << text(p.name) << "\n\n";
  if (!p.description.empty()) out << text(p.description) << "\n\n";
  out << "- **File:** " << code(p.file.string()) << "\n"
      << "- **Source:** plugin " << code(p.source.plugin);
  if (const std::string type = record_type(p); !type.empty()) out << ", records of type " << code(type);
  out << "\n- **Into the central store:** " << (p.to_store ? "yes" : "no") << "\n\n";
  out << "Source settings:\n\n";
  settings_table(out, p.source);
  offered_fields(out, in, p);
  out << "**Steps** (in order):\n\n";
  step_table(out, p);
  sink_table(out, p);
}

void overview(std::ostringstream& out, const Installation& in) {
  out << "## Data flow\n\n"
      << "| pipeline | source | steps | into the store | sinks |\n|---|---|---|---|---|\n";
  for (const PipelinePtr& p : in.pipelines) {
    std::vector<std::string> sinks;
    for (const SinkUse& s : p->sinks)
      sinks.push_back(s.name + (!s.channel.empty() ? " (" + s.channel + ")" : s.feedback ? " (feedback)" : ""));
    out << "| " << text(p->name) << " | " << code(p->source.plugin) << " | " << p->steps.size() << " | "
        << (p->to_store ? "yes" : "no") << " | " << joined_codes(sinks) << " |\n";
  }
  out << "\nThe diagram of this flow is `dataflow.dot` (`touchpoint docs --out DIR` draws `dataflow.svg` from it "
         "when Graphviz is installed).\n\n";
}

void channels_section(std::ostringstream& out, const Installation& in) {
  out << "## Channels and the rules that guard them\n\n";
  if (in.rulebook == nullptr) {
    out << "No rulebook is configured (`customer.rulebook`): every proposed contact is suppressed.\n\n";
    return;
  }
  out << "Rulebook " << code(in.rulebook->file()) << ", version " << code(in.rulebook->version())
      << ". Every outbound contact is decided by these rules, in this order, before a channel sink sees it.\n\n";
  const auto scopes = in.rulebook->scopes();
  for (const std::string& channel : in.rulebook->channels()) {
    out << "### Channel " << text(channel) << "\n\n";
    std::vector<std::string> sinks;
    for (const PipelinePtr& p : in.pipelines)
      for (const SinkUse& s : p->sinks)
        if (s.channel == channel) sinks.push_back(p->name + "." + s.name + " (" + s.plugin.plugin + ")");
    out << "**Sent by:** "
        << joined_codes(sinks, "no sink is configured for this channel; allowed contacts wait in the store") << "\n\n";
    out << "| rule | line | effect | reason code | purposes |\n|---|---|---|---|---|\n";
    for (const auto& r : scopes) {
      bool applies = false;
      for (const std::string& c : r.channels) applies = applies || c == channel;
      if (!applies) continue;
      out << "| " << text(r.name) << " | " << r.line << " | " << (r.flag ? "flag" : "suppress") << " | " << code(r.code)
          << " | " << joined_codes(r.purposes, "all") << " |\n";
    }
    out << "\n";
  }
}

void attributes_section(std::ostringstream& out, const Installation& in) {
  const CustomerConfig& c = in.hub->customer;
  std::set<std::string> store_pipelines;
  for (const PipelinePtr& p : in.pipelines)
    if (p->to_store) store_pipelines.insert(p->name);
  out << "## Where store attributes come from\n\n"
      << "Pipelines writing into the store: " << joined_codes({store_pipelines.begin(), store_pipelines.end()}, "none")
      << ". When several sources give an attribute, the first matching rule below decides which value the "
         "profile shows (survivorship); every candidate is kept with its source.\n\n"
      << "| attributes | rule | sources, first wins |\n|---|---|---|\n";
  for (const SurvivorshipSpec& s : c.survivorship) {
    std::string sources;
    for (const std::string& src : s.sources)
      sources +=
          (sources.empty() ? "" : ", ") + code(src) + (store_pipelines.count(src) ? "" : " (no such pipeline here)");
    out << "| " << joined_codes(s.attributes) << " | " << code(to_string(s.rule)) << " | "
        << (sources.empty() ? "—" : sources) << " |\n";
  }
  out << "| every other attribute | " << code(to_string(c.default_rule)) << " | — |\n\n";
  if (!c.identities.empty()) {
    out << "### Identities\n\n| kind | at most per profile | blocked values | blocked patterns |\n|---|---|---|---|\n";
    for (const auto& [kind, spec] : c.identities)
      out << "| " << code(kind) << " | " << (spec.max_per_profile > 0 ? std::to_string(spec.max_per_profile) : "—")
          << " | " << joined_codes(spec.blocked) << " | " << joined_codes(spec.blocked_patterns) << " |\n";
    out << "\n";
  }
}

}  // namespace

std::string markdown(const Installation& in) {
  std::ostringstream out;
  out << "# Interfaces of this Touchpoint installation\n\n"
      << "Generated by `touchpoint docs` from " << code(in.hub->file.string())
      << ". Store: " << code(in.hub->store_type) << "; " << in.pipelines.size() << " pipeline(s) in "
      << code(in.hub->pipelines_dir.string()) << ". Secrets are never shown.\n\n";
  overview(out, in);
  out << "## Pipelines\n\n";
  for (const PipelinePtr& p : in.pipelines) pipeline_section(out, in, *p);
  channels_section(out, in);
  attributes_section(out, in);
  return out.str();
}

}  // namespace touchpoint::core::catalog
