#pragma once
// Checks a whole configuration without running it: the hub config, every
// pipeline file, that each referenced plugin loads and has the needed
// capability, and each plugin's own validate() of its config block. Used by
// `touchpoint validate` and before every reload.

#include <string>
#include <vector>

#include "config/hub_config.hpp"
#include "config/pipeline_config.hpp"
#include "plugin/plugin_loader.hpp"

namespace touchpoint::core {

struct ValidationResult {
  std::vector<PipelinePtr> pipelines;
  std::vector<std::string> errors;    ///< "file:line:col: message"
  std::vector<std::string> warnings;  ///< same format
  bool ok() const { return errors.empty(); }
};

ValidationResult validate_pipelines(const HubConfig& hub, PluginLoader& loader);

}  // namespace touchpoint::core
