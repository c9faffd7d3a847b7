#pragma once
// What the in-process benchmarks share: `--name value` options and the
// process's own CPU time and peak RSS.
#include <sys/resource.h>

#include <cstddef>
#include <map>
#include <string>

namespace touchpoint::bench {

using Options = std::map<std::string, std::string>;

/// `--key value` pairs from argv[first] on; a `--flag` without a value is "1".
inline Options parse_args(int argc, char** argv, int first) {
  Options a;
  for (int i = first; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) continue;
    k = k.substr(2);
    a[k] = i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0 ? argv[++i] : "1";
  }
  return a;
}
inline size_t num(const Options& a, const char* k, size_t d) {
  auto it = a.find(k);
  return it == a.end() ? d : std::stoull(it->second);
}
inline std::string str(const Options& a, const char* k, const std::string& d) {
  auto it = a.find(k);
  return it == a.end() ? d : it->second;
}

inline double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
inline long peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

}  // namespace touchpoint::bench
