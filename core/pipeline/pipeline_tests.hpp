#pragma once
// Test cases of pipelines (`touchpoint test`, docs/pipeline-tests.md): input
// records run through the pipeline's real transform chain, without plugins or
// store, and every record that comes out (kept, dead-lettered, dropped) is
// compared with what the case expects.
//
// Cases live in the pipeline file under `tests:`, or in `<name>.test.yaml`
// beside it with `pipeline: <file>` and `tests:`.

#include <filesystem>
#include <string>
#include <vector>

namespace touchpoint::core {

struct PipelineCaseResult {
  std::string name;
  bool passed = false;
  std::string failure;  ///< what differed, one finding per line
  double seconds = 0;
};

struct PipelineTestFile {
  std::filesystem::path file;
  std::string pipeline;  ///< the pipeline's name
  /// Set when the file or its pipeline cannot be loaded (then no cases ran):
  /// "file:line:col: message".
  std::string error;
  std::vector<PipelineCaseResult> cases;

  size_t failures() const;
};

/// Runs the cases of one file. Never throws for a problem of the file itself
/// (that is `error`).
PipelineTestFile run_pipeline_tests(const std::filesystem::path& file);

/// The files to test under `dir`: every *.test.yaml and every pipeline file
/// with a `tests:` key, sorted.
std::vector<std::filesystem::path> find_pipeline_test_files(const std::filesystem::path& dir);

/// JUnit XML of the results (one <testsuite> per file), for CI.
std::string junit_xml(const std::vector<PipelineTestFile>& results);

}  // namespace touchpoint::core
