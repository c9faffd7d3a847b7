#pragma once
// Pipeline files (pipelines/*.yaml): one source, an ordered list of
// transforms, and where records go (the central store and/or sink plugins).

#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/config_error.hpp"
#include "config/hub_config.hpp"
#include "record/record.hpp"
#include "transform/transform.hpp"

namespace touchpoint::core {

/// A plugin reference with its resolved config (secrets expanded).
struct PluginUse {
  std::string plugin;    ///< plugin name, e.g. "webhook"
  std::string instance;  ///< unique instance name: "<pipeline>" or "<pipeline>.<sink>"
  Json config = Json::object();
  std::set<std::string> secret_refs;  ///< top-level config keys given as ${env:..}/${file:..}
  std::string file;                   ///< for positioned errors
  int line = 0, col = 0;
  int64_t poll_interval_ms = 1000;
  /// Deadline of every call into the plugin (open, read, write, close, ...).
  int64_t call_timeout_ms = 30'000;
  /// `isolation: process`: the plugin runs in a touchpoint-plugin-host
  /// process of its own (docs/isolation.md); default from plugins.isolate.
  bool isolated = false;
  /// Isolated only: the process is killed and restarted above this resident size.
  int64_t memory_limit_mb = 1024;
};

struct SinkUse {
  std::string name;
  PluginUse plugin;
  RetryPolicy retry;
  size_t batch_size = 100;
  /// Set: a channel sink (docs/channels.md). It sends the contacts the
  /// rulebook allowed on this channel and receives no pipeline records.
  std::string channel;
  /// Set: a feedback sink (docs/channels.md, "Feedback to the CRM"). It gets
  /// one `feedback` record per response the loop applies (what the hub
  /// learnt, with the customer's identities) and no pipeline records.
  bool feedback = false;
  /// What happens to a contact found handed-over-but-unsettled after a
  /// crash: dead-lettered (at most once, the default) or sent again.
  enum class InDoubt { dead_letter, resend } in_doubt = InDoubt::dead_letter;
};

struct Pipeline {
  std::string name;
  std::filesystem::path file;
  std::string description;
  PluginUse source;
  std::vector<Step> steps;
  bool to_store = true;
  std::vector<SinkUse> sinks;
  bool has_record_sinks = false;  ///< a sink without `channel` or `feedback`: it gets the pipeline's records
  /// Time all steps together may spend on one record (apply.record_budget_ms).
  std::chrono::milliseconds record_budget{1000};
  /// Canonical text of the pipeline's definition: reload restarts a pipeline
  /// only when this changed.
  std::string fingerprint;
};

using PipelinePtr = std::shared_ptr<const Pipeline>;

/// Loads one pipeline file. Throws ConfigError.
PipelinePtr load_pipeline(const std::filesystem::path& file, const HubConfig& hub);

/// `*.test.yaml` next to the pipelines holds test cases (`touchpoint test`), not a pipeline.
bool is_pipeline_test_file(const std::filesystem::path& file);

/// Loads every *.yaml in the directory (sorted) but the test files, checking names are unique.
/// Collects all errors instead of stopping at the first: `errors` gets one
/// message per problem; pipelines that loaded are returned.
std::vector<PipelinePtr> load_pipelines(const std::filesystem::path& dir, const HubConfig& hub,
                                        std::vector<ConfigError>& errors);

}  // namespace touchpoint::core
