#include "pipeline/pipeline_tests.hpp"

#include <Poco/SAX/AttributesImpl.h>
#include <Poco/XML/XMLWriter.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "config/yaml_util.hpp"
#include "pipeline/step_runner.hpp"
#include "plugin/record_validation.hpp"
#include "transform/yaml_value.hpp"

namespace touchpoint::core {
namespace fs = std::filesystem;
namespace {

// What running one case produced, in the order the hub would produce it.
struct Produced {
  std::vector<Record> outputs;
  struct Letter {
    std::string record_id, step, code, reason;
  };
  std::vector<Letter> dead_letters;
  size_t dropped = 0;
};

// The transforms of a pipeline file, built exactly as the hub builds them;
// its source and sinks are not read (no plugins, no secrets needed).
Pipeline load_chain(const fs::path& file) {
  ConfigSource src(file.string());
  YAML::Node root = load_yaml_file(file);
  if (!root.IsMap()) src.fail(root, "a pipeline file must be a mapping");
  Pipeline p;
  p.file = file;
  p.name = root["name"] ? get_string(root["name"], src, "name") : file.stem().string();
  if (const YAML::Node t = root["transforms"]) {
    if (!t.IsSequence()) src.fail(t, "transforms must be a list");
    for (size_t i = 0; i < t.size(); ++i) p.steps.push_back(make_step(t[i], i, src));
  }
  return p;
}

std::vector<YAML::Node> one_or_many(const YAML::Node& node) {
  std::vector<YAML::Node> out;
  if (node.IsSequence())
    for (const YAML::Node& n : node) out.push_back(n);
  else
    out.push_back(node);
  return out;
}

// An input as the host would hand it to the pipeline: defaults filled in,
// and refused here when the host would refuse it (limits, UTF-8, type).
Record input_record(const YAML::Node& node, const ConfigSource& src, const Pipeline& p, size_t case_no,
                    size_t input_no) {
  if (!node.IsMap()) src.fail(node, "an input is a record map (id, type, key, ts, data, meta)");
  require_keys_known(node, {"id", "type", "key", "ts", "data", "meta"}, src, "input");
  Json j = transform::yaml_to_json(node, src);
  if (!j.contains("id")) j["id"] = "case" + std::to_string(case_no) + "-" + std::to_string(input_no);
  if (!j.contains("data")) j["data"] = Json::object();
  j["source"] = p.name;
  Record r;
  try {
    r = record_from_json(j);
  } catch (const std::exception& e) {
    src.fail(node, std::string("invalid input record: ") + e.what());
  }
  const std::string data = r.data.dump(), meta = r.meta.dump();
  tp_record raw{};
  raw.size = sizeof(tp_record);
  raw.encoding = TP_ENCODING_JSON_UTF8;
  raw.id = {r.id.data(), r.id.size()};
  raw.type = {r.type.data(), r.type.size()};
  raw.key = {r.key.data(), r.key.size()};
  raw.data = {data.data(), data.size()};
  raw.meta = {meta.data(), meta.size()};
  std::string problem;
  if (!validate_record(raw, problem)) src.fail(node, "the hub would refuse this input: " + problem);
  return r;
}

Produced run_inputs(const Pipeline& p, std::vector<Record> inputs) {
  Produced out;
  for (Record& input : inputs) {
    run_all_steps(p, std::move(input), [&](Record& rec, const StepOutcome& o) {
      if (o.kind == StepResult::Kind::keep) {
        out.outputs.push_back(std::move(rec));
      } else if (o.kind == StepResult::Kind::drop) {
        ++out.dropped;
      } else {
        out.dead_letters.push_back({rec.id, p.steps[o.step_index].name, o.code, o.reason});
      }
    });
  }
  return out;
}

std::string show(const Json& v) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  return s.size() > 200 ? s.substr(0, 200) + "..." : s;
}

// Where two JSON values differ, as "path: expected X, got Y" lines.
void diff(const Json& expected, const Json& actual, const std::string& path, std::vector<std::string>& lines) {
  if (expected == actual) return;
  if (expected.is_object() && actual.is_object()) {
    for (const auto& [k, v] : expected.items()) {
      if (auto it = actual.find(k); it == actual.end())
        lines.push_back(path + "/" + k + ": missing (expected " + show(v) + ")");
      else
        diff(v, *it, path + "/" + k, lines);
    }
    for (const auto& [k, v] : actual.items())
      if (!expected.contains(k)) lines.push_back(path + "/" + k + ": unexpected " + show(v));
    return;
  }
  if (expected.is_array() && actual.is_array() && expected.size() == actual.size()) {
    for (size_t i = 0; i < expected.size(); ++i) diff(expected[i], actual[i], path + "/" + std::to_string(i), lines);
    return;
  }
  lines.push_back(path + ": expected " + show(expected) + ", got " + show(actual));
}

void compare_outputs(const YAML::Node& node, const ConfigSource& src, const Produced& got,
                     std::vector<std::string>& findings) {
  std::vector<YAML::Node> expected;
  if (node) expected = one_or_many(node);
  if (expected.size() != got.outputs.size()) {
    std::string line =
        "expected " + std::to_string(expected.size()) + " output record(s), got " + std::to_string(got.outputs.size());
    for (const Record& r : got.outputs) line += "\n  got: " + show(to_json(r));
    findings.push_back(line);
    return;
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    const YAML::Node& e = expected[i];
    if (!e.IsMap()) src.fail(e, "an expected output is a record map (id, type, source, key, ts, data, meta)");
    require_keys_known(e, {"id", "type", "source", "key", "ts", "data", "meta"}, src, "output");
    // Only the fields the case names are compared; data and meta as a whole.
    const Json want = transform::yaml_to_json(e, src);
    const Json have = to_json(got.outputs[i]);
    for (const auto& [k, v] : want.items()) {
      std::vector<std::string> lines;
      diff(v, have.at(k), "", lines);
      for (const std::string& l : lines) findings.push_back("output " + std::to_string(i + 1) + " " + k + l);
    }
  }
}

bool step_matches(const std::string& want, const std::string& step) {
  // "3:normalize_phone" by name, "normalize_phone" by kind, "3" by position.
  if (want == step) return true;
  const size_t colon = step.find(':');
  return want == step.substr(colon + 1) || want == step.substr(0, colon);
}

void compare_dead_letters(const YAML::Node& node, const ConfigSource& src, const Produced& got,
                          std::vector<std::string>& findings) {
  std::vector<YAML::Node> expected;
  if (node) expected = one_or_many(node);
  if (expected.size() != got.dead_letters.size()) {
    std::string line = "expected " + std::to_string(expected.size()) + " dead letter(s), got " +
                       std::to_string(got.dead_letters.size());
    for (const auto& d : got.dead_letters) line += "\n  got: step " + d.step + " (" + d.code + "): " + d.reason;
    findings.push_back(line);
    return;
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    const YAML::Node& e = expected[i];
    if (!e.IsMap()) src.fail(e, "an expected dead letter is a map (step, reason, reason_contains, code)");
    require_keys_known(e, {"step", "reason", "reason_contains", "code"}, src, "dead_letter");
    const auto& d = got.dead_letters[i];
    const std::string at = "dead letter " + std::to_string(i + 1) + " ";
    if (e["step"] && !step_matches(get_string(e["step"], src, "step"), d.step))
      findings.push_back(at + "step: expected " + e["step"].Scalar() + ", got " + d.step);
    if (e["code"] && get_string(e["code"], src, "code") != d.code)
      findings.push_back(at + "code: expected " + e["code"].Scalar() + ", got " + d.code);
    if (e["reason"] && get_string(e["reason"], src, "reason") != d.reason)
      findings.push_back(at + "reason: expected \"" + e["reason"].Scalar() + "\", got \"" + d.reason + "\"");
    if (e["reason_contains"] &&
        d.reason.find(get_string(e["reason_contains"], src, "reason_contains")) == std::string::npos)
      findings.push_back(at + "reason: expected it to contain \"" + e["reason_contains"].Scalar() + "\", got \"" +
                         d.reason + "\"");
  }
}

PipelineCaseResult run_case(const YAML::Node& c, size_t case_no, const ConfigSource& src, const Pipeline& p) {
  if (!c.IsMap()) src.fail(c, "a test case is a map (name, input or inputs, output, dead_letter, dropped)");
  require_keys_known(c, {"name", "input", "inputs", "output", "dead_letter", "dropped"}, src, "test case");
  PipelineCaseResult result;
  result.name = c["name"] ? get_string(c["name"], src, "name") : "case " + std::to_string(case_no);
  if (static_cast<bool>(c["input"]) == static_cast<bool>(c["inputs"]))
    src.fail(c, "test case '" + result.name + "' needs exactly one of 'input' or 'inputs'");
  std::vector<Record> inputs;
  if (c["input"]) {
    inputs.push_back(input_record(c["input"], src, p, case_no, 1));
  } else {
    if (!c["inputs"].IsSequence()) src.fail(c["inputs"], "inputs must be a list of records");
    for (size_t i = 0; i < c["inputs"].size(); ++i)
      inputs.push_back(input_record(c["inputs"][i], src, p, case_no, i + 1));
  }
  size_t expect_dropped = 0;
  if (const YAML::Node d = c["dropped"]) {
    const Json v = transform::yaml_to_json(d, src);
    if (v.is_boolean())
      expect_dropped = v.get<bool>() ? 1 : 0;
    else
      expect_dropped = static_cast<size_t>(get_int(d, src, "dropped", 0, 1'000'000));
  }

  const auto start = std::chrono::steady_clock::now();
  const Produced got = run_inputs(p, std::move(inputs));
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Everything a case produces must be expected: no output, dead letter or
  // drop that the case does not name.
  std::vector<std::string> findings;
  compare_outputs(c["output"], src, got, findings);
  compare_dead_letters(c["dead_letter"], src, got, findings);
  if (got.dropped != expect_dropped)
    findings.push_back("expected " + std::to_string(expect_dropped) + " record(s) dropped, got " +
                       std::to_string(got.dropped));
  result.passed = findings.empty();
  for (const std::string& f : findings) result.failure += f + "\n";
  return result;
}

}  // namespace

size_t PipelineTestFile::failures() const {
  return static_cast<size_t>(std::count_if(cases.begin(), cases.end(), [](const auto& c) { return !c.passed; }));
}

PipelineTestFile run_pipeline_tests(const fs::path& file) {
  PipelineTestFile out;
  out.file = file;
  try {
    ConfigSource src(file.string());
    YAML::Node root = load_yaml_file(file);
    if (!root.IsMap()) src.fail(root, "a test file must be a mapping");
    fs::path pipeline_file = file;
    if (is_pipeline_test_file(file)) {
      require_keys_known(root, {"pipeline", "tests"}, src, "test file");
      if (!root["pipeline"]) src.fail(root, "missing key 'pipeline' (the pipeline file these cases test)");
      pipeline_file = get_string(root["pipeline"], src, "pipeline");
      if (pipeline_file.is_relative()) pipeline_file = fs::absolute(file).parent_path() / pipeline_file;
    }
    const Pipeline p = load_chain(pipeline_file);
    out.pipeline = p.name;
    const YAML::Node tests = root["tests"];
    if (!tests) src.fail(root, "missing key 'tests'");
    if (!tests.IsSequence()) src.fail(tests, "tests must be a list of cases");
    for (size_t i = 0; i < tests.size(); ++i) out.cases.push_back(run_case(tests[i], i + 1, src, p));
  } catch (const ConfigError& e) {
    out.error = e.what();
    out.cases.clear();
  } catch (const std::exception& e) {
    out.error = file.string() + ": " + e.what();
    out.cases.clear();
  }
  return out;
}

std::vector<fs::path> find_pipeline_test_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const fs::path& f = e.path();
    if (!e.is_regular_file() || (f.extension() != ".yaml" && f.extension() != ".yml")) continue;
    if (is_pipeline_test_file(f)) {
      out.push_back(f);
      continue;
    }
    try {
      if (load_yaml_file(f)["tests"]) out.push_back(f);
    } catch (const std::exception&) {
      out.push_back(f);  // run_pipeline_tests reports why it does not load
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string junit_xml(const std::vector<PipelineTestFile>& results) {
  std::ostringstream text;
  Poco::XML::XMLWriter xml(text, Poco::XML::XMLWriter::WRITE_XML_DECLARATION | Poco::XML::XMLWriter::PRETTY_PRINT);
  xml.startDocument();
  auto attrs = [](std::initializer_list<std::pair<const char*, std::string>> list) {
    Poco::XML::AttributesImpl a;
    for (const auto& [k, v] : list) a.addAttribute("", "", k, "CDATA", v);
    return a;
  };
  size_t tests = 0, failures = 0, errors = 0;
  for (const PipelineTestFile& f : results) {
    tests += f.cases.size();
    failures += f.failures();
    errors += f.error.empty() ? 0 : 1;
  }
  xml.startElement("", "", "testsuites",
                   attrs({{"name", "touchpoint test"},
                          {"tests", std::to_string(tests)},
                          {"failures", std::to_string(failures)},
                          {"errors", std::to_string(errors)}}));
  for (const PipelineTestFile& f : results) {
    double seconds = 0;
    for (const auto& c : f.cases) seconds += c.seconds;
    xml.startElement("", "", "testsuite",
                     attrs({{"name", f.file.string()},
                            {"tests", std::to_string(f.cases.size())},
                            {"failures", std::to_string(f.failures())},
                            {"errors", f.error.empty() ? "0" : "1"},
                            {"time", std::to_string(seconds)}}));
    if (!f.error.empty()) {
      xml.startElement("", "", "testcase", attrs({{"name", "load"}, {"classname", f.file.string()}}));
      xml.startElement("", "", "error", attrs({{"message", f.error}}));
      xml.endElement("", "", "error");
      xml.endElement("", "", "testcase");
    }
    for (const PipelineCaseResult& c : f.cases) {
      xml.startElement("", "", "testcase",
                       attrs({{"name", c.name}, {"classname", f.pipeline}, {"time", std::to_string(c.seconds)}}));
      if (!c.passed) {
        xml.startElement("", "", "failure", attrs({{"message", c.failure.substr(0, c.failure.find('\n'))}}));
        xml.characters(c.failure);
        xml.endElement("", "", "failure");
      }
      xml.endElement("", "", "testcase");
    }
    xml.endElement("", "", "testsuite");
  }
  xml.endElement("", "", "testsuites");
  xml.endDocument();
  return text.str();
}

}  // namespace touchpoint::core
