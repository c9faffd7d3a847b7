// Pipeline config loader (core/config/pipeline_config.*, yaml_util.*, and
// make_step for every `transforms:` item): the input is written to
// <scratch>/pipelines/pipeline.yaml and loaded against a default hub config.
//
// Invariants:
//  - load_pipeline returns or throws ConfigError, never another exception
//    (load_pipelines() collects only ConfigError per file; anything else
//    aborts loading every pipeline) and never crashes; -timeout bounds time;
//  - what loads obeys the documented rules: a valid name, the source
//    instance named after the pipeline, steps named "<n>:<kind>" with a
//    transform, unique valid sink names with instance "<pipeline>.<sink>",
//    batch_size and retry bounds, a destination, a fingerprint that is the
//    same when the file is loaded again;
//  - the steps it built run over a few sample records without crashing,
//    and kept records stay serializable JSON objects.
//
// `${file:...}` references are read by the loader. Inputs naming any file
// but the prepared secret (pipelines/secret.txt) or a missing one are
// skipped, so the fuzzer never reads /dev/zero or a FIFO; see the report on
// that unbounded read.
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <regex>
#include <set>
#include <string>
#include <typeinfo>

#include "config/pipeline_config.hpp"
#include "fuzz_util.hpp"
#include "pipeline/step_runner.hpp"

using namespace touchpoint::core;

namespace {

struct Env {
  HubConfig hub;
  std::filesystem::path dir;
  std::filesystem::path file;
};

const Env& env() {
  static const Env e = [] {
    Env x;
    x.dir = touchpoint::fuzz::scratch_dir() / "pipelines";
    std::filesystem::create_directories(x.dir);
    x.file = x.dir / "pipeline.yaml";
    touchpoint::fuzz::write_file(x.dir / "secret.txt", "s3cr3t\n");
    ::setenv("TP_FUZZ_SECRET", "from-env", 1);
    x.hub.data_dir = touchpoint::fuzz::scratch_dir() / "data";
    x.hub.plugin_dir = touchpoint::fuzz::scratch_dir() / "plugins";
    x.hub.pipelines_dir = x.dir;
    return x;
  }();
  return e;
}

// False when a scalar references a file other than the prepared ones.
bool file_refs_safe(const YAML::Node& node, int depth, uint64_t& nodes) {
  // Past the loader's own limits (1000 levels, 1M values) it refuses the
  // file before expanding anything.
  if (depth > 1000 || ++nodes > 1'000'000) return true;
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      for (size_t pos = s.find("${"); pos != std::string::npos; pos = s.find("${", pos + 2)) {
        size_t end = s.find('}', pos);
        if (end == std::string::npos) break;
        std::string ref = s.substr(pos + 2, end - pos - 2);
        if (ref.rfind("file:", 0) == 0 && ref != "file:secret.txt" && ref != "file:missing.txt") return false;
      }
      return true;
    }
    case YAML::NodeType::Sequence:
      for (const auto& item : node)
        if (!file_refs_safe(item, depth + 1, nodes)) return false;
      return true;
    case YAML::NodeType::Map:
      for (const auto& kv : node)
        if (!file_refs_safe(kv.first, depth + 1, nodes) || !file_refs_safe(kv.second, depth + 1, nodes)) return false;
      return true;
    default:
      return true;
  }
}

bool valid_name(const std::string& n) {
  static const std::regex re("[a-z0-9][a-z0-9_-]{0,62}");
  return n.size() <= 63 && std::regex_match(n, re);
}

Record sample(int k) {
  Record r;
  r.id = "rec-" + std::to_string(k);
  r.type = "profile";
  r.source = "pipeline";
  r.key = k == 0 ? "C-1001" : "";
  r.ts_ms = 1'700'000'000'000;
  if (k == 0)
    r.data = Json::parse(R"({"email":" Anna.Schmidt@Example.DE ","phone":"030 1234567","name":"Anna",
                             "address":{"city":"Berlin","zip":"10115"},"age":42,"tags":["a","b"]})");
  else if (k == 1)
    r.data = Json::parse(R"({"email":"not-an-email","phone":12345,"address":"flat","age":"x","score":1.5})");
  else
    r.data = Json::object();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Env& e = env();
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find("file:") != std::string::npos || text.find('\\') != std::string::npos ||
      text.find('!') != std::string::npos) {
    // Only then can a scalar spell "${file:" (directly, via an escape or via a tag).
    try {
      uint64_t nodes = 0;
      if (!file_refs_safe(YAML::Load(text), 0, nodes)) return -1;
    } catch (const std::exception&) {
      // The loader refuses it too.
    }
  }
  touchpoint::fuzz::write_file(e.file, text);

  PipelinePtr p;
  try {
    p = load_pipeline(e.file, e.hub);
  } catch (const ConfigError& err) {
    FUZZ_CHECK(err.file() == e.file.string(), "ConfigError names '%s'", err.file().c_str());
    FUZZ_CHECK(!err.message().empty() && err.line() >= 0 && err.col() >= 0, "ConfigError %d:%d '%s'", err.line(),
               err.col(), err.message().c_str());
    return 0;
  } catch (const std::exception& err) {
    FUZZ_CHECK(false, "load_pipeline threw %s (not ConfigError): %s", typeid(err).name(), err.what());
  }

  FUZZ_CHECK(p != nullptr, "null pipeline");
  FUZZ_CHECK(valid_name(p->name), "invalid pipeline name '%s'", p->name.c_str());
  FUZZ_CHECK(p->source.instance == p->name && valid_name(p->source.plugin), "source '%s' / '%s'",
             p->source.instance.c_str(), p->source.plugin.c_str());
  FUZZ_CHECK(p->source.config.is_object(), "source config is not an object");
  for (size_t i = 0; i < p->steps.size(); ++i) {
    const Step& s = p->steps[i];
    FUZZ_CHECK(s.transform != nullptr, "step %zu has no transform", i);
    FUZZ_CHECK(s.name == std::to_string(i + 1) + ":" + s.kind, "step name '%s'", s.name.c_str());
  }
  std::set<std::string> sinks;
  for (const SinkUse& s : p->sinks) {
    FUZZ_CHECK(valid_name(s.name) && sinks.insert(s.name).second, "sink name '%s'", s.name.c_str());
    FUZZ_CHECK(s.plugin.instance == p->name + "." + s.name, "sink instance '%s'", s.plugin.instance.c_str());
    FUZZ_CHECK(s.batch_size >= 1 && s.batch_size <= 10000, "batch_size %zu", s.batch_size);
    FUZZ_CHECK(s.retry.max_attempts >= 1 && s.retry.max_backoff_ms >= s.retry.initial_backoff_ms &&
                   s.retry.jitter >= 0 && s.retry.jitter <= 1,
               "sink retry out of range");
  }
  FUZZ_CHECK(p->to_store || !p->sinks.empty(), "no destination");
  FUZZ_CHECK(!p->fingerprint.empty(), "empty fingerprint");

  PipelinePtr again = load_pipeline(e.file, e.hub);
  FUZZ_CHECK(again->fingerprint == p->fingerprint, "fingerprint differs when loaded again");

  for (int k = 0; k < 3; ++k) {
    Record r = sample(k);
    StepOutcome o = run_steps(*p, r);
    if (o.kind != StepResult::Kind::keep) {
      FUZZ_CHECK(o.step_index < p->steps.size() && !o.reason.empty(), "outcome without step or reason");
      continue;
    }
    FUZZ_CHECK(r.data.is_object() && r.meta.is_object(), "kept record data/meta is not an object");
    try {
      (void)to_json(r).dump();
    } catch (const std::exception& err) {
      FUZZ_CHECK(false, "kept record does not serialize: %s", err.what());
    }
  }
  return 0;
}
