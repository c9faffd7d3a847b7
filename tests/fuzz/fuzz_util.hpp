// Shared helpers of the libFuzzer harnesses: invariant checks that abort
// (libFuzzer then saves the input as a crash artifact) and a per-process
// scratch directory for harnesses whose code under test reads files.
#ifndef TOUCHPOINT_FUZZ_UTIL_HPP
#define TOUCHPOINT_FUZZ_UTIL_HPP

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

// Unlike assert(), active in every build type.
#define FUZZ_CHECK(cond, ...)                                                                  \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "\nFUZZ_CHECK failed at %s:%d: %s\n  ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                       \
      std::fprintf(stderr, "\n");                                                              \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)

// A check that found a bug which is reported but not fixed yet: it stays
// active (CI fails until the fix lands) unless its id is listed in the
// comma-separated TOUCHPOINT_FUZZ_IGNORE, which long fuzzing runs use to get
// past a known finding. See tests/fuzz/regressions/README.md for the ids.
#define FUZZ_CHECK_KNOWN(id, cond, ...)                                                        \
  do {                                                                                         \
    if (!touchpoint::fuzz::ignored(id) && !(cond)) {                                           \
      std::fprintf(stderr, "\nknown issue '%s' (TOUCHPOINT_FUZZ_IGNORE=%s skips it)", id, id); \
      FUZZ_CHECK(cond, __VA_ARGS__);                                                           \
    }                                                                                          \
  } while (0)

namespace touchpoint::fuzz {

inline bool ignored(const char* id) {
  static const std::string list = [] {
    const char* v = std::getenv("TOUCHPOINT_FUZZ_IGNORE");
    return "," + std::string(v != nullptr ? v : "") + ",";
  }();
  return list.find("," + std::string(id) + ",") != std::string::npos;
}

/// A private directory for this fuzzer process (mkdtemp, so libFuzzer's
/// -fork/-jobs processes do not share one), removed at a normal exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tp-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    static std::filesystem::path keep(tmpl);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(keep, ec);
    });
    return keep;
  }();
  return dir;
}

/// Writes `bytes` to `path` (truncating), aborting on I/O errors: those are
/// harness failures, not findings.
inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::perror("open");
    std::abort();
  }
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      std::perror("write");
      std::abort();
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

}  // namespace touchpoint::fuzz

#endif  // TOUCHPOINT_FUZZ_UTIL_HPP
