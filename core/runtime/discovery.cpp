#include "runtime/discovery.hpp"

#include <string_view>
#include <utility>

#include "plugin/plugin_instance.hpp"

namespace touchpoint::core {
namespace {

// "a.b" lies on the same branch as "a" and as "a.b.c": reading either side
// of such a pair reads (part of) what the other names.
bool on_one_branch(std::string_view x, std::string_view y) {
  if (x.size() > y.size()) std::swap(x, y);
  return y.substr(0, x.size()) == x && (y.size() == x.size() || y[x.size()] == '.');
}

bool any_on_branch(const std::set<std::string>& paths, const std::string& path) {
  for (const std::string& p : paths)
    if (on_one_branch(p, path)) return true;
  return false;
}

std::string listing(const std::set<std::string>& fields) {
  if (fields.empty()) return "none";
  std::string out;
  size_t shown = 0;
  for (const std::string& f : fields) {
    if (shown++ == 20) return out + ", ... (" + std::to_string(fields.size()) + " in all)";
    out += (out.empty() ? "" : ", ") + f;
  }
  return out;
}

}  // namespace

std::optional<std::set<std::string>> discovered_fields(const std::string& document, std::string* error) {
  Json doc = Json::parse(document, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    *error = "discover() did not return a JSON object";
    return std::nullopt;
  }
  auto streams = doc.find("streams");
  if (streams == doc.end() || !streams->is_array()) {
    *error = "discover() returned no \"streams\" array";
    return std::nullopt;
  }
  std::optional<std::set<std::string>> out;
  for (const Json& stream : *streams) {
    if (!stream.is_object()) continue;
    auto fields = stream.find("fields");
    if (fields == stream.end() || !fields->is_array()) continue;
    if (!out) out.emplace();
    for (const Json& f : *fields) {
      if (f.is_string()) {
        out->insert(f.get<std::string>());
      } else if (f.is_object() && f.contains("name") && f["name"].is_string()) {
        out->insert(f["name"].get<std::string>());
      }
    }
  }
  return out;
}

Discovered discover(std::shared_ptr<const LoadedPlugin> plugin, const PluginUse& use, const HubConfig& hub) {
  Discovered out;
  if (plugin->vtable->discover == nullptr) {
    out.error = "plugin '" + plugin->name + "' has no discover verb";
    return out;
  }
  auto instance = std::make_shared<PluginInstance>(std::move(plugin), use, HostServices{nullptr, nullptr, &hub}, "");
  instance->refuse_emits();  // a listener that starts serving must not reach the (absent) journal
  try {
    instance->open();
  } catch (const PluginError& e) {
    out.error = e.what();
    return out;
  }
  CallResult r = instance->discover(&out.document);
  if (!instance->close()) PluginInstance::abandon(instance);
  if (r.status != TP_OK) {
    out.error = "discover() failed: " + r.error;
    out.document.clear();
    return out;
  }
  out.fields = discovered_fields(out.document, &out.error);
  if (!out.error.empty()) out.document.clear();
  return out;
}

std::vector<std::string> unoffered_fields(const Pipeline& pipeline, const std::set<std::string>& offered) {
  std::vector<std::string> out;
  std::set<std::string> available = offered;  // what the record holds before each step, as far as is known
  for (const Step& step : pipeline.steps) {
    std::optional<std::vector<FieldUse>> uses = step.transform->fields();
    if (!uses) break;  // the step may create any field: later reads cannot be judged
    for (const FieldUse& u : *uses) {
      if (u.path.empty() || u.path[0] == '@') continue;  // the envelope is always there
      if (u.reads && !any_on_branch(available, u.path))
        out.push_back(pipeline.file.string() + ": step " + step.name + " reads '" + u.path +
                      "', which the source does not offer (it offers: " + listing(offered) + ")");
    }
    for (const FieldUse& u : *uses) {
      if (u.writes) available.insert(u.path);
      if (u.removes) available.erase(u.path);
    }
  }
  return out;
}

}  // namespace touchpoint::core
