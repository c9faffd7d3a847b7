#pragma once
// Asks a plugin what it offers. A throw-away instance is opened with the
// pipeline's config, with emits refused so that nothing can reach a journal,
// discover() is called and the instance is closed again. Used by
// `touchpoint validate --discover`, `touchpoint plugins inspect --config` and
// `touchpoint docs --discover`; never by the running hub's reload, because
// opening a listener binds its port.

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/pipeline_config.hpp"
#include "plugin/plugin_loader.hpp"

namespace touchpoint::core {

struct Discovered {
  std::string document;  ///< the plugin's JSON as written; empty on error
  std::string error;     ///< why there is no document (open failed, no verb, not JSON)
  /// The data fields the streams list (`streams[].fields`, strings or
  /// objects with "name"); std::nullopt when the plugin names none.
  std::optional<std::set<std::string>> fields;
};

Discovered discover(std::shared_ptr<const LoadedPlugin> plugin, const PluginUse& use, const HubConfig& hub);

/// Reads the fields out of a discover document; sets *error when it is not
/// the documented shape.
std::optional<std::set<std::string>> discovered_fields(const std::string& document, std::string* error);

/// One warning per step option that reads a data field the source does not
/// offer and no earlier step writes, or that an earlier step removed or
/// renamed away ("3:normalize_email reads 'mail', which
/// the source does not offer (it offers: email, name)"). Checking stops at a
/// step that may write fields it does not name (a Lua script).
std::vector<std::string> unoffered_fields(const Pipeline& pipeline, const std::set<std::string>& offered);

}  // namespace touchpoint::core
