#pragma once
// The interface documentation of one installation, generated from its
// configuration (`touchpoint docs`): every pipeline with its source, steps
// and sinks, the fields each step reads and writes (and, when discovered, the
// fields each source offers), which rules guard which channel, and where each
// store attribute comes from (survivorship). Governance asks for exactly this
// picture: which systems feed which data, and which rules stand in between.

#include <map>
#include <string>
#include <vector>

#include "config/hub_config.hpp"
#include "config/pipeline_config.hpp"
#include "rules/rulebook.hpp"
#include "runtime/discovery.hpp"

namespace touchpoint::core::catalog {

struct Installation {
  const HubConfig* hub = nullptr;
  std::vector<PipelinePtr> pipelines;
  const rules::Rulebook* rulebook = nullptr;  ///< null: none configured
  /// By pipeline name; absent when not asked for (--discover).
  std::map<std::string, Discovered> discovered;
};

/// The whole document as GitHub-flavoured Markdown. It depends on the
/// configuration only (no timestamps), so a committed copy diffs cleanly.
std::string markdown(const Installation& in);

/// The data flow as a Graphviz digraph: sources, pipelines, the store, the
/// rulebook and the sinks (`dot -Tsvg dataflow.dot > dataflow.svg`).
std::string dataflow_dot(const Installation& in);

/// A standalone HTML page of `markdown` (rendered with cmark-gfm, tables
/// included; raw HTML in the input is escaped, never passed through).
std::string html_page(const std::string& markdown, const std::string& title);

/// A config value as the documentation shows it: secrets (top-level keys
/// given as ${env:..}/${file:..}, and any key that names a credential) are
/// replaced by "(secret)".
Json redacted_config(const PluginUse& use);

}  // namespace touchpoint::core::catalog
