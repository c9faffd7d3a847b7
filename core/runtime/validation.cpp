#include "runtime/validation.hpp"

#include <set>

#include "contact/contact_loop.hpp"
#include "plugin/isolation/isolated_plugin.hpp"
#include "rules/rulebook.hpp"

namespace touchpoint::core {
namespace {

std::string at(const PluginUse& u, const std::string& msg) {
  return u.file + ":" + std::to_string(u.line) + ":" + std::to_string(u.col) + ": " + msg;
}

// Option names that hold credentials; a literal value there is a warning.
bool looks_secret(const std::string& key) {
  for (const char* s : {"secret", "password", "token", "api_key", "apikey", "private_key"})
    if (key.find(s) != std::string::npos) return true;
  return false;
}

void check_plugin(const PluginUse& given, bool want_source, PluginLoader& loader, const HubConfig& hub,
                  ValidationResult& out) {
  std::shared_ptr<const LoadedPlugin> p;
  PluginUse use = given;
  try {
    BoundPlugin bound = bind_plugin(loader, given, hub.plugin_host);
    p = std::move(bound.plugin);
    use = std::move(bound.use);
  } catch (const PluginError& e) {
    out.errors.push_back(at(use, e.what()));
    return;
  }
  for (const std::string& w : p->warnings) out.warnings.push_back(at(use, w));
  if (want_source && !p->is_source()) out.errors.push_back(at(use, "plugin '" + use.plugin + "' is not a source"));
  if (!want_source && !p->is_sink()) out.errors.push_back(at(use, "plugin '" + use.plugin + "' is not a sink"));
  if (p->vtable->validate != nullptr) {
    std::string json = use.config.dump();
    char msg[2048];
    tp_error err{sizeof(tp_error), msg, sizeof(msg), 0};
    tp_status st = TP_STATUS_INTERNAL;
    try {
      st = p->vtable->validate(tp_str{json.data(), json.size()}, &err);
    } catch (...) {
      st = TP_STATUS_INTERNAL;
    }
    if (st != TP_OK)
      out.errors.push_back(at(
          use, "plugin '" + use.plugin + "' rejects its config: " + std::string(msg, std::min(err.len, sizeof(msg)))));
  }
}

}  // namespace

ValidationResult validate_pipelines(const HubConfig& hub, PluginLoader& loader) {
  ValidationResult out;
  std::vector<ConfigError> errors;
  out.pipelines = load_pipelines(hub.pipelines_dir, hub, errors);
  for (const ConfigError& e : errors) out.errors.push_back(e.what());
  std::set<std::string> instances;
  for (const PipelinePtr& p : out.pipelines) {
    check_plugin(p->source, true, loader, hub, out);
    for (const SinkUse& s : p->sinks) check_plugin(s.plugin, false, loader, hub, out);
  }
  for (const PipelinePtr& p : out.pipelines) {
    auto scan = [&](const PluginUse& use) {
      if (!use.config.is_object()) return;
      for (const auto& [k, v] : use.config.items())
        if (looks_secret(k) && v.is_string() && !v.get<std::string>().empty() && !use.secret_refs.count(k))
          out.warnings.push_back(
              at(use, "option '" + k + "' holds a plain-text secret; use ${env:NAME} or ${file:/path}"));
    };
    scan(p->source);
    for (const SinkUse& s : p->sinks) scan(s.plugin);
  }
  // The rulebook is part of the configuration: the same positioned errors.
  if (!hub.customer.rulebook.empty()) {
    try {
      (void)rules::Rulebook::load(hub.customer.rulebook);
    } catch (const std::exception& e) {
      out.errors.push_back(e.what());
    }
  }
  try {
    contact::ContactLoop::check_config(hub.customer.contacts);
  } catch (const std::exception& e) {
    out.errors.push_back(hub.file.string() + ": " + e.what());
  }
  return out;
}

}  // namespace touchpoint::core
