#include "config/pipeline_config.hpp"

#include <algorithm>
#include <regex>
#include <set>

#include "config/yaml_util.hpp"

namespace touchpoint::core {
namespace fs = std::filesystem;
namespace {

bool valid_name(const std::string& n) {
  static const std::regex re("[a-z0-9][a-z0-9_-]{0,62}");
  return std::regex_match(n, re);
}

PluginUse read_plugin(const YAML::Node& node, const std::string& instance, const ConfigSource& src,
                      const fs::path& base_dir, const HubConfig& hub) {
  PluginUse p;
  p.instance = instance;
  p.file = src.file();
  p.line = node.Mark().line + 1;
  p.col = node.Mark().column + 1;
  p.poll_interval_ms = hub.poll_interval_ms;
  p.call_timeout_ms = hub.plugin_call_timeout_ms;
  if (!node["plugin"]) src.fail(node, "missing key 'plugin'");
  p.plugin = get_string(node["plugin"], src, "plugin");
  if (!valid_name(p.plugin)) src.fail(node["plugin"], "invalid plugin name '" + p.plugin + "'");
  if (const YAML::Node c = node["config"]) {
    require_map(c, src, "config");
    p.config = yaml_to_json(c, src, base_dir, hub.data_dir);
    for (const auto& kv : c)
      if (kv.second.IsScalar() && (kv.second.Scalar().find("${env:") != std::string::npos ||
                                   kv.second.Scalar().find("${file:") != std::string::npos))
        p.secret_refs.insert(kv.first.Scalar());
  }
  if (node["poll_interval_ms"])
    p.poll_interval_ms = get_int(node["poll_interval_ms"], src, "poll_interval_ms", 1, 3'600'000);
  if (node["call_timeout_ms"])
    p.call_timeout_ms = get_int(node["call_timeout_ms"], src, "call_timeout_ms", 100, 3'600'000);
  p.isolated = hub.plugin_isolate.count(p.plugin) > 0;
  if (const YAML::Node iso = node["isolation"]) {
    const std::string v = get_string(iso, src, "isolation");
    if (v != "process" && v != "in_process") src.fail(iso, "isolation must be process or in_process");
    p.isolated = v == "process";
  }
  if (node["memory_limit_mb"]) {
    if (!p.isolated) src.fail(node["memory_limit_mb"], "memory_limit_mb needs isolation: process");
    p.memory_limit_mb = get_int(node["memory_limit_mb"], src, "memory_limit_mb", 16, 1'048'576);
  }
  return p;
}

}  // namespace

PipelinePtr load_pipeline(const fs::path& file, const HubConfig& hub) {
  ConfigSource src(file.string());
  YAML::Node root = load_yaml_file(file);
  if (!root.IsMap()) src.fail(root, "a pipeline file must be a mapping");
  require_keys_known(root, {"name", "description", "source", "transforms", "store", "sinks", "tests"}, src, "pipeline");
  auto p = std::make_shared<Pipeline>();
  p->file = file;
  p->name = root["name"] ? get_string(root["name"], src, "name") : file.stem().string();
  if (!valid_name(p->name))
    src.fail(root["name"] ? root["name"] : root,
             "invalid pipeline name '" + p->name + "' (lower-case letters, digits, '-' and '_', at most 63)");
  if (root["description"]) p->description = get_string(root["description"], src, "description");
  const fs::path base_dir = fs::absolute(file).parent_path();

  const YAML::Node source = root["source"];
  if (!source) src.fail(root, "missing key 'source'");
  require_keys_known(source,
                     {"plugin", "config", "poll_interval_ms", "call_timeout_ms", "isolation", "memory_limit_mb"}, src,
                     "source");
  p->source = read_plugin(source, p->name, src, base_dir, hub);

  if (const YAML::Node t = root["transforms"]) {
    if (!t.IsSequence()) src.fail(t, "transforms must be a list");
    for (size_t i = 0; i < t.size(); ++i) p->steps.push_back(make_step(t[i], i, src));
  }
  if (root["store"]) p->to_store = get_bool(root["store"], src, "store");
  p->record_budget = std::chrono::milliseconds(hub.record_budget_ms);
  if (const YAML::Node sinks = root["sinks"]) {
    if (!sinks.IsSequence()) src.fail(sinks, "sinks must be a list");
    std::set<std::string> names;
    for (const YAML::Node& s : sinks) {
      require_keys_known(s,
                         {"name", "plugin", "config", "retry", "batch_size", "call_timeout_ms", "channel", "feedback",
                          "in_doubt", "isolation", "memory_limit_mb"},
                         src, "sink");
      SinkUse sink;
      if (!s["name"]) src.fail(s, "missing key 'name'");
      sink.name = get_string(s["name"], src, "name");
      if (!valid_name(sink.name)) src.fail(s["name"], "invalid sink name '" + sink.name + "'");
      if (!names.insert(sink.name).second) src.fail(s["name"], "duplicate sink name '" + sink.name + "'");
      sink.plugin = read_plugin(s, p->name + "." + sink.name, src, base_dir, hub);
      sink.retry = hub.sink_retry;
      if (s["retry"]) read_retry(s["retry"], src, sink.retry);
      if (s["batch_size"]) sink.batch_size = static_cast<size_t>(get_int(s["batch_size"], src, "batch_size", 1, 10000));
      if (s["channel"]) {
        sink.channel = get_string(s["channel"], src, "channel");
        if (sink.channel != "email" && sink.channel != "phone" && sink.channel != "sms" && sink.channel != "post")
          src.fail(s["channel"], "channel must be email, phone, sms or post, not '" + sink.channel + "'");
      }
      if (s["feedback"]) {
        sink.feedback = get_bool(s["feedback"], src, "feedback");
        if (sink.feedback && !sink.channel.empty())
          src.fail(s["feedback"], "a sink is either a channel sink or a feedback sink, not both");
      }
      if (s["in_doubt"]) {
        const std::string v = get_string(s["in_doubt"], src, "in_doubt");
        if (v == "resend")
          sink.in_doubt = SinkUse::InDoubt::resend;
        else if (v != "dead_letter")
          src.fail(s["in_doubt"], "in_doubt must be dead_letter or resend, not '" + v + "'");
        if (sink.channel.empty()) src.fail(s["in_doubt"], "in_doubt applies to channel sinks only (set channel)");
      }
      p->has_record_sinks = p->has_record_sinks || (sink.channel.empty() && !sink.feedback);
      p->sinks.push_back(std::move(sink));
    }
  }
  if (!p->to_store && p->sinks.empty())
    src.fail(root, "pipeline '" + p->name + "' has no destination: set store: true or add sinks");
  // What the pipeline does, not its `tests:`; with the files steps read, so
  // that a reload restarts the pipeline when an edited script changes it.
  YAML::Node definition(YAML::NodeType::Map);
  for (const auto& kv : root)
    if (kv.first.Scalar() != "tests") definition[kv.first] = kv.second;
  YAML::Emitter canonical;
  canonical << definition;
  p->fingerprint = canonical.c_str();
  for (const Step& s : p->steps) p->fingerprint += s.transform->loaded_files();
  return p;
}

bool is_pipeline_test_file(const fs::path& file) {
  const std::string stem = file.stem().string();
  return stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".test") == 0;
}

std::vector<PipelinePtr> load_pipelines(const fs::path& dir, const HubConfig& hub, std::vector<ConfigError>& errors) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    errors.emplace_back(dir.string(), 0, 0, "pipelines directory does not exist");
    return {};
  }
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml") &&
        !is_pipeline_test_file(e.path()))
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<PipelinePtr> out;
  std::map<std::string, fs::path> seen;
  for (const fs::path& f : files) {
    try {
      PipelinePtr p = load_pipeline(f, hub);
      if (auto it = seen.find(p->name); it != seen.end()) {
        errors.emplace_back(f.string(), 1, 1,
                            "pipeline name '" + p->name + "' is already used by " + it->second.string());
        continue;
      }
      seen[p->name] = f;
      // One sink per channel: a contact must have exactly one way out.
      bool clash = false;
      for (const SinkUse& s : p->sinks) {
        if (s.channel.empty()) continue;
        for (const PipelinePtr& q : out)
          for (const SinkUse& t : q->sinks)
            if (t.channel == s.channel) {
              errors.emplace_back(f.string(), s.plugin.line, s.plugin.col,
                                  "channel '" + s.channel + "' already has a sink: " + t.plugin.instance);
              clash = true;
            }
      }
      if (clash) continue;
      out.push_back(std::move(p));
    } catch (const ConfigError& e) {
      errors.push_back(e);
    }
  }
  return out;
}

}  // namespace touchpoint::core
