#pragma once
// Plugins with `isolation: process` (docs/isolation.md). Such a plugin is
// never loaded into the hub: touchpoint-plugin-host loads it in a process of
// its own, and the hub talks to that process through a proxy that is itself
// an ABI plugin. PluginInstance, the sink workers and the source loop drive
// the proxy exactly as they drive a library, so deadlines, outcomes,
// checkpoints and commits work the same either way.
//
// The proxy supervises its process: a crash, a call past its deadline (the
// process is killed) or a resident set over memory_limit_mb (killed) fails
// the call in flight as retryable, so the sink retries it and a source
// resumes from its last durable cursor; the next call starts a new process
// with exponential backoff (100 ms doubling to 30 s, reset after 60 s of
// uptime). Every exit and restart is logged, counted in /metrics
// (touchpoint_plugin_process_exits_total{reason}, ..._restarts_total,
// ..._up, ..._rss_bytes) and listed in /status (isolated_plugins).

#include <filesystem>
#include <memory>

#include "config/pipeline_config.hpp"
#include "plugin/plugin_loader.hpp"
#include "record/record.hpp"

namespace touchpoint::core {

/// The plugin as the hub calls it for one use: the loaded library, or for
/// an isolated use the process proxy, with `use.config` wrapped into what
/// the proxy's open() and validate() expect.
struct BoundPlugin {
  std::shared_ptr<const LoadedPlugin> plugin;
  PluginUse use;
};

/// Throws PluginError (also when the plugin process cannot load the plugin).
BoundPlugin bind_plugin(PluginLoader& loader, const PluginUse& use, const std::filesystem::path& plugin_host);

/// touchpoint-plugin-host next to the running executable.
std::filesystem::path default_plugin_host();

/// One entry per isolated instance of this process, for /status.
Json isolated_plugins_status();

}  // namespace touchpoint::core
