// bench_ingest: end-to-end ingest benchmark of the real hub binary.
//
// Creates a throw-away data directory, a hub config and one pipeline
// (webhook source -> rename, normalize_email, normalize_phone, default,
// require -> store), starts `touchpoint run`, posts N generated customer
// profiles over C keep-alive connections and measures
//   * ingest: 202-acknowledged records/s and MB/s, per-request latency,
//   * apply:  time until the store has applied everything the journal holds,
//   * cost:   hub peak RSS and CPU seconds, the bench client's own CPU.
// Finally it stops the hub and checks that the store holds exactly N records.
// With --segment the source is the web collect API instead (protocol:
// segment): analytics-node-style batches of identify/track/page messages to
// POST /v1/batch with the write key as Basic auth, no transforms, 200 after
// durable. See bench/README.md.

#include <curl/curl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "customer_data.hpp"

#ifndef TOUCHPOINT_HUB_BINARY
#define TOUCHPOINT_HUB_BINARY ""
#endif
#ifndef TOUCHPOINT_PLUGIN_DIR
#define TOUCHPOINT_PLUGIN_DIR ""
#endif

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// ---------------------------------------------------------------- options

struct Options {
  size_t records = 200'000;
  size_t batch = 500;
  size_t connections = 4;
  size_t rate = 0;  ///< records/s offered (open loop); 0: as fast as acknowledged
  int server_threads = 2;
  bool fsync = true;
  bool json = false;
  bool keep = false;
  bool ndjson = false;
  bool isolated = false;  ///< the webhook source with isolation: process
  bool segment = false;   ///< the Segment collect API instead of the generic webhook
  bool batch_given = false;
  std::string hub = TOUCHPOINT_HUB_BINARY;
  std::string plugin_dir = TOUCHPOINT_PLUGIN_DIR;
  std::string base_dir;
  double apply_timeout_s = 600;
  size_t apply_batch = 0;  ///< apply.batch_records; 0: the hub's default
};

[[noreturn]] void usage(int code) {
  std::cout << "usage: bench_ingest [options]\n"
               "  --records N         records to send (default 200000)\n"
               "  --batch N           records per HTTP request (default 500)\n"
               "  --connections N     concurrent keep-alive connections (default 4)\n"
               "  --rate R            offer R records/s on a fixed schedule (default: as fast as possible);\n"
               "                      latency then counts from each request's scheduled time\n"
               "  --server-threads N  webhook server threads (default 2)\n"
               "  --ndjson            send NDJSON bodies instead of JSON arrays\n"
               "  --segment           the web collect API: analytics-node-style /v1/batch bodies of identify,\n"
               "                      track and page messages (default batch 15, analytics-node's flushAt)\n"
               "  --isolated          run the webhook source in its own process (isolation: process)\n"
               "  --no-fsync          hub config journal.fsync: false (the SQLite store still syncs)\n"
               "  --json              print the results as one JSON line\n"
               "  --hub PATH          touchpoint binary (default: the one built with this bench)\n"
               "  --plugin-dir DIR    plugin directory (default: the build tree's lib/plugins)\n"
               "  --dir DIR           where to create the temporary data directory (default $TMPDIR or /tmp)\n"
               "  --apply-batch N     hub config apply.batch_records (default: the hub's default, 4096)\n"
               "  --apply-timeout S   give up waiting for the store after S seconds (default 600)\n"
               "  --keep              keep the temporary directory (hub.log, touchpoint.db)\n";
  std::exit(code);
}

size_t parse_count(const std::string& flag, const char* v, size_t min, size_t max) {
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0' || n < min || n > max) {
    std::cerr << "bench_ingest: " << flag << " needs an integer in [" << min << ", " << max << "]\n";
    usage(2);
  }
  return static_cast<size_t>(n);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::cerr << "bench_ingest: " << a << " needs a value\n";
        usage(2);
      }
      return argv[++i];
    };
    if (a == "--records")
      o.records = parse_count(a, value(), 1, 100'000'000);
    else if (a == "--batch")
      o.batch = parse_count(a, value(), 1, 100'000), o.batch_given = true;
    else if (a == "--connections")
      o.connections = parse_count(a, value(), 1, 256);
    else if (a == "--rate")
      o.rate = parse_count(a, value(), 1, 100'000'000);
    else if (a == "--server-threads")
      o.server_threads = static_cast<int>(parse_count(a, value(), 1, 64));
    else if (a == "--apply-timeout")
      o.apply_timeout_s = static_cast<double>(parse_count(a, value(), 1, 86'400));
    else if (a == "--apply-batch")
      o.apply_batch = parse_count(a, value(), 1, 1'000'000);
    else if (a == "--isolated")
      o.isolated = true;
    else if (a == "--ndjson")
      o.ndjson = true;
    else if (a == "--segment")
      o.segment = true;
    else if (a == "--no-fsync")
      o.fsync = false;
    else if (a == "--json")
      o.json = true;
    else if (a == "--keep")
      o.keep = true;
    else if (a == "--hub")
      o.hub = value();
    else if (a == "--plugin-dir")
      o.plugin_dir = value();
    else if (a == "--dir")
      o.base_dir = value();
    else if (a == "-h" || a == "--help")
      usage(0);
    else {
      std::cerr << "bench_ingest: unknown option " << a << "\n";
      usage(2);
    }
  }
  if (o.segment && o.ndjson) {
    std::cerr << "bench_ingest: --segment sends Segment batches; --ndjson does not apply\n";
    usage(2);
  }
  if (o.segment && !o.batch_given) o.batch = 15;
  if (o.hub.empty() || o.plugin_dir.empty()) {
    std::cerr << "bench_ingest: --hub and --plugin-dir are required (not built from the source tree)\n";
    usage(2);
  }
  return o;
}

// ---------------------------------------------------------------- data

using touchpoint::bench::append_record;
using touchpoint::bench::Rng;

struct Payload {
  std::vector<std::string> bodies;
  std::vector<size_t> counts;  ///< records per body
  uint64_t record_bytes = 0;   ///< JSON of the records alone
  uint64_t body_bytes = 0;
};

// One message as analytics-node 2.x sends it: every tenth an identify with
// traits, six in ten a track with properties, the rest page views; a quarter
// of the visitors are anonymous.
void append_segment_message(std::string& body, size_t i, Rng& rng) {
  const uint64_t r = rng.next();
  const uint64_t user = r % 50'000;
  const bool anonymous = (r >> 20) % 4 == 0;
  const char* kind = i % 10 == 0 ? "identify" : i % 10 < 7 ? "track" : "page";
  char ids[160];
  if (anonymous && std::string_view(kind) != "identify")
    std::snprintf(ids, sizeof ids, "\"anonymousId\":\"anon-%08llx\"", static_cast<unsigned long long>(r >> 32));
  else
    std::snprintf(ids, sizeof ids, "\"userId\":\"U-%06llu\",\"anonymousId\":\"anon-%08llx\"",
                  static_cast<unsigned long long>(user), static_cast<unsigned long long>(r >> 32));
  char head[400];
  std::snprintf(
      head, sizeof head,
      "{\"type\":\"%s\",%s,\"messageId\":\"node-%zu-%016llx\",\"timestamp\":\"2026-12-03T10:%02zu:%02zu.%03zuZ\","
      "\"context\":{\"library\":{\"name\":\"@segment/analytics-node\",\"version\":\"2.2.1\"}},"
      "\"integrations\":{},\"_metadata\":{\"jsonSize\":420,\"bufferedMs\":12}",
      kind, ids, i, static_cast<unsigned long long>(r), i / 60'000 % 60, i / 1000 % 60, i % 1000);
  body += head;
  if (std::string_view(kind) == "identify") {
    char traits[300];
    std::snprintf(
        traits, sizeof traits,
        ",\"traits\":{\"email\":\"user%llu@example.de\",\"first_name\":\"Anna\",\"last_name\":\"M\u00fcller\","
        "\"plan\":\"%s\",\"newsletter\":%s}}",
        static_cast<unsigned long long>(user), (r >> 8) % 2 ? "pro" : "free", (r >> 9) % 2 ? "true" : "false");
    body += traits;
  } else if (std::string_view(kind) == "track") {
    static constexpr const char* kEvents[] = {"Product Viewed", "Product Added", "Order Completed", "Signed Up"};
    char props[300];
    std::snprintf(props, sizeof props,
                  ",\"event\":\"%s\",\"properties\":{\"product_id\":\"SKU-%llu\",\"category\":\"savings\","
                  "\"revenue\":%llu.%02llu,\"currency\":\"EUR\"}}",
                  kEvents[(r >> 12) % 4], static_cast<unsigned long long>((r >> 14) % 500),
                  static_cast<unsigned long long>((r >> 24) % 300), static_cast<unsigned long long>((r >> 40) % 100));
    body += props;
  } else {
    char props[300];
    std::snprintf(props, sizeof props,
                  ",\"name\":\"Tagesgeld\",\"properties\":{\"url\":\"https://bank.example/tagesgeld?p=%llu\","
                  "\"path\":\"/tagesgeld\",\"referrer\":\"https://www.google.com/\",\"title\":\"Tagesgeld\"}}",
                  static_cast<unsigned long long>((r >> 16) % 1000));
    body += props;
  }
}

Payload generate(const Options& o) {
  Payload p;
  Rng rng{0x70c4'9017};
  if (o.segment) {
    for (size_t first = 0; first < o.records; first += o.batch) {
      const size_t n = std::min(o.batch, o.records - first);
      std::string body = "{\"batch\":[";
      for (size_t i = first; i < first + n; ++i) {
        if (i != first) body += ',';
        const size_t before = body.size();
        append_segment_message(body, i, rng);
        p.record_bytes += body.size() - before;
      }
      body += "],\"sentAt\":\"2026-12-03T10:00:00.000Z\"}";
      p.body_bytes += body.size();
      p.bodies.push_back(std::move(body));
      p.counts.push_back(n);
    }
    return p;
  }
  for (size_t first = 0; first < o.records; first += o.batch) {
    const size_t n = std::min(o.batch, o.records - first);
    std::string body;
    body.reserve(n * 340 + 2);
    if (!o.ndjson) body += '[';
    for (size_t i = first; i < first + n; ++i) {
      if (i != first) body += o.ndjson ? '\n' : ',';
      const size_t before = body.size();
      append_record(body, i, rng);
      p.record_bytes += body.size() - before;
    }
    body += o.ndjson ? "\n" : "]";
    p.body_bytes += body.size();
    p.bodies.push_back(std::move(body));
    p.counts.push_back(n);
  }
  return p;
}

// ---------------------------------------------------------------- files and processes

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string quoted(const std::string& s) { return Json(s).dump(); }  // a JSON string is a valid YAML scalar

struct ProcStats {
  double cpu_s = 0;      ///< utime + stime
  uint64_t hwm_kib = 0;  ///< VmHWM
  uint64_t rss_kib = 0;  ///< VmRSS
  int threads = 0;
};

double stat_cpu_seconds(const std::string& stat) {
  // Fields after the ")" that closes comm: state is field 3, utime 14, stime 15.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(stat.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int field = 3; field <= 15 && in >> f; ++field) {
    if (field == 14) utime = std::stoull(f);
    if (field == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

ProcStats proc_stats(pid_t pid) {
  ProcStats s;
  const fs::path dir = fs::path("/proc") / std::to_string(pid);
  if (auto stat = read_file(dir / "stat")) s.cpu_s = stat_cpu_seconds(*stat);
  if (auto status = read_file(dir / "status")) {
    std::istringstream in(*status);
    std::string line;
    while (std::getline(in, line)) {
      auto value = [&] { return std::strtoull(line.c_str() + line.find(':') + 1, nullptr, 10); };
      if (line.rfind("VmHWM:", 0) == 0) s.hwm_kib = value();
      if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = value();
      if (line.rfind("Threads:", 0) == 0) s.threads = static_cast<int>(value());
    }
  }
  return s;
}

struct ThreadCpu {
  std::string name;
  int tid = 0;
  double cpu_s = 0;
};

/// CPU per hub thread, busiest first (thread names come from the hub, if it sets any).
std::vector<ThreadCpu> thread_cpu(pid_t pid) {
  std::vector<ThreadCpu> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path("/proc") / std::to_string(pid) / "task", ec)) {
    auto stat = read_file(e.path() / "stat");
    if (!stat) continue;
    ThreadCpu t;
    t.tid = std::atoi(e.path().filename().c_str());
    size_t open = stat->find('('), close = stat->rfind(')');
    if (open != std::string::npos && close != std::string::npos) t.name = stat->substr(open + 1, close - open - 1);
    t.cpu_s = stat_cpu_seconds(*stat);
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(), [](const ThreadCpu& a, const ThreadCpu& b) { return a.cpu_s > b.cpu_s; });
  return out;
}

double self_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

class Hub {
 public:
  Hub(const std::string& binary, const fs::path& config, const fs::path& log) {
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      FILE* f = std::freopen(log.c_str(), "w", stdout);
      if (f == nullptr || ::dup2(STDOUT_FILENO, STDERR_FILENO) < 0) ::_exit(126);
      std::string cfg = config.string();
      const char* args[] = {binary.c_str(), "run", "--config", cfg.c_str(), nullptr};
      ::execv(binary.c_str(), const_cast<char* const*>(args));
      std::perror("execv");
      ::_exit(127);
    }
  }
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;
  ~Hub() {
    if (running()) stop(10.0);
  }

  pid_t pid() const { return pid_; }

  bool running() {
    if (exited_) return false;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      status_ = st;
    }
    return !exited_;
  }

  /// SIGTERM, wait up to timeout_s, then SIGKILL. Returns the exit code (-signal if killed).
  int stop(double timeout_s) {
    if (running()) {
      ::kill(pid_, SIGTERM);
      const auto t0 = Clock::now();
      while (running() && seconds_since(t0) < timeout_s) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (running()) {
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
        exited_ = true;
        status_ = st;
      }
    }
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    return WIFSIGNALED(status_) ? -WTERMSIG(status_) : -1;
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

// ---------------------------------------------------------------- HTTP

size_t collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

/// One small GET (admin endpoints), with its own connection.
std::string http_get(const std::string& url, const std::string& token, long* status = nullptr) {
  CURL* h = curl_easy_init();
  if (h == nullptr) throw std::runtime_error("curl_easy_init failed");
  std::string body;
  curl_slist* headers = curl_slist_append(nullptr, ("Authorization: Bearer " + token).c_str());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) throw std::runtime_error("GET " + url + ": " + curl_easy_strerror(rc));
  if (status != nullptr) *status = code;
  return body;
}

struct SenderResult {
  std::vector<double> latencies_ms;
  uint64_t accepted = 0;
  uint64_t retries = 0;
  std::string error;
};

/// One keep-alive connection: takes the next body from a shared counter until none are left.
/// With a rate, request i is due at start + i * interval and its latency counts
/// from then, so a stall shows up in the percentiles (no coordinated omission).
void sender(const std::string& url, const std::string& auth,  // user:password for Basic auth, or empty
            const Payload& p, std::atomic<size_t>& next, std::atomic<bool>& abort, SenderResult& r,
            Clock::time_point start, std::chrono::nanoseconds interval) {
  CURL* h = curl_easy_init();
  if (h == nullptr) {
    r.error = "curl_easy_init failed";
    abort = true;
    return;
  }
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  std::string response;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  if (!auth.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(h, CURLOPT_USERPWD, auth.c_str());
  }
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);
  r.latencies_ms.reserve(p.bodies.size() / 2 + 1);
  for (size_t i; !abort && (i = next.fetch_add(1)) < p.bodies.size();) {
    const std::string& body = p.bodies[i];
    const auto due = start + interval * static_cast<int64_t>(i);
    if (interval.count() > 0) std::this_thread::sleep_until(due);
    for (int attempt = 0;; ++attempt) {
      response.clear();
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      const auto t0 = interval.count() > 0 && attempt == 0 ? due : Clock::now();
      CURLcode rc = curl_easy_perform(h);
      const double ms = seconds_since(t0) * 1e3;
      long code = 0;
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
      if (rc == CURLE_OK && (code == 202 || (code == 200 && !auth.empty()))) {
        r.latencies_ms.push_back(ms);
        try {
          const Json answer = Json::parse(response);
          if (code == 202)
            r.accepted += answer.at("accepted").get<uint64_t>();
          else if (answer.at("success").get<bool>())  // Segment's answer does not count; the request is all or nothing
            r.accepted += p.counts[i];
        } catch (const std::exception& e) {
          r.error = "unexpected " + std::to_string(code) + " body '" + response + "': " + e.what();
          abort = true;
        }
        break;
      }
      if (rc == CURLE_OK && code == 503 && attempt < 100) {  // backpressure: the README says retry
        ++r.retries;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      r.error = rc != CURLE_OK ? std::string("POST failed: ") + curl_easy_strerror(rc)
                               : "POST answered " + std::to_string(code) + ": " + response;
      abort = true;
      break;
    }
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
}

// ---------------------------------------------------------------- store

class StoreReader {
 public:
  explicit StoreReader(const fs::path& db) {
    if (sqlite3_open_v2(db.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot open " + db.string() + ": " + sqlite3_errmsg(db_));
    sqlite3_busy_timeout(db_, 5000);
  }
  StoreReader(const StoreReader&) = delete;
  StoreReader& operator=(const StoreReader&) = delete;
  ~StoreReader() { sqlite3_close(db_); }

  int64_t scalar(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db_) + " in " + sql);
    int rc = sqlite3_step(st);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
    return v;
  }
  int64_t applied_seq() { return scalar("SELECT COALESCE(MAX(seq), 0) FROM journal_position WHERE consumer='store'"); }
  int64_t records_max_seq() { return scalar("SELECT COALESCE(MAX(seq), 0) FROM records"); }

 private:
  sqlite3* db_ = nullptr;
};

// ---------------------------------------------------------------- report

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t idx = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(idx, sorted.size() - 1)];
}

/// `name{...} value` or `name value` from a Prometheus text page; NaN if absent.
double prom_value(const std::string& page, const std::string& name) {
  std::istringstream in(page);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) continue;
    size_t after = name.size();
    if (after < line.size() && line[after] != ' ' && line[after] != '{') continue;
    return std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
  }
  return std::nan("");
}

std::string fs_type(const fs::path& p) {
  struct statfs s {};
  if (::statfs(p.c_str(), &s) != 0) return "?";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x01021994:
      return "tmpfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794C7630:
      return "overlayfs";
    default: {
      char b[32];
      std::snprintf(b, sizeof b, "0x%lx", static_cast<unsigned long>(s.f_type));
      return b;
    }
  }
}

int run(const Options& o) {
  const auto t_program = Clock::now();
  // ---- data
  const double cpu_before_gen = self_cpu_seconds();
  Payload payload = generate(o);
  const double gen_s = seconds_since(t_program);
  const double gen_cpu = self_cpu_seconds() - cpu_before_gen;

  // ---- directory, configs
  fs::path base = !o.base_dir.empty()                ? fs::path(o.base_dir)
                  : std::getenv("TMPDIR") != nullptr ? fs::path(std::getenv("TMPDIR"))
                                                     : fs::path("/tmp");
  std::string templ = (base / "touchpoint-bench-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp in " + base.string() + " failed");
  const fs::path dir = templ;
  const fs::path data = dir / "data", pipelines = dir / "pipelines";
  fs::create_directories(data);
  fs::create_directories(pipelines);
  const fs::path port_file = dir / "webhook.port";
  std::string hub_yaml = "data_dir: data\n";
  hub_yaml += "plugin_dir: " + quoted(fs::absolute(o.plugin_dir).string()) + "\n";
  hub_yaml += "pipelines_dir: pipelines\n";
  hub_yaml += "log_level: warn\n";
  hub_yaml += std::string("journal:\n  fsync: ") + (o.fsync ? "true" : "false") + "\n";
  if (o.apply_batch != 0) hub_yaml += "apply:\n  batch_records: " + std::to_string(o.apply_batch) + "\n";
  hub_yaml += "admin:\n  listen: 127.0.0.1:0\n  token_file: data/admin.token\n";
  write_file(dir / "hub.yaml", hub_yaml);

  std::string pipeline_yaml =
      "name: bench-signups\n"
      "source:\n"
      "  plugin: webhook\n";
  if (o.isolated) pipeline_yaml += "  isolation: process\n";
  pipeline_yaml +=
      "  config:\n"
      "    listen: 127.0.0.1:0\n";
  pipeline_yaml += "    port_file: " + quoted(port_file.string()) + "\n";
  pipeline_yaml += "    threads: " + std::to_string(o.server_threads) + "\n";
  const std::string write_key = "bench-write-key-0123456789";
  if (o.segment) {
    write_file(dir / "write.key", write_key + "\n");
    pipeline_yaml += "    protocol: segment\n    write_keys: [" +
                     quoted("${file:" + (dir / "write.key").string() + "}") +
                     "]\n    event_types: { Order Completed: purchase }\nstore: true\n";
  } else {
    pipeline_yaml +=
        "    path: /ingest\n"
        "    type: profile\n"
        "    key_field: customer_id\n"
        "    max_body_bytes: 67108864\n"
        "transforms:\n"
        "  - rename: { mail: email, tel: phone }\n"
        "  - normalize_email: { field: email }\n"
        "  - normalize_phone: { field: phone, default_region: DE, on_invalid: remove }\n"
        "  - default: { channel: web, country: DE }\n"
        "  - require: { fields: { email: { type: string }, customer_id: { type: string } } }\n"
        "store: true\n";
  }
  write_file(pipelines / "bench-signups.yaml", pipeline_yaml);

  // ---- hub
  Hub hub(o.hub, dir / "hub.yaml", dir / "hub.log");
  auto fail = [&](const std::string& why) {
    std::cerr << "bench_ingest: " << why << "\n";
    if (auto log = read_file(dir / "hub.log")) {
      std::string tail = log->size() > 4000 ? log->substr(log->size() - 4000) : *log;
      std::cerr << "---- hub.log (" << (dir / "hub.log").string() << ")\n" << tail << "----\n";
    }
    hub.stop(10.0);
    std::cerr << "bench_ingest: data kept in " << dir.string() << "\n";
    return 1;
  };
  const auto t_spawn = Clock::now();
  std::string port, admin_addr;
  while (port.empty() || admin_addr.empty()) {
    if (!hub.running()) return fail("the hub exited during start-up");
    if (seconds_since(t_spawn) > 60) return fail("the hub did not start within 60 s");
    if (auto s = read_file(port_file); s && !s->empty() && s->back() == '\n') port = trim(*s);
    if (auto s = read_file(data / "admin.addr"); s && !s->empty() && s->back() == '\n') admin_addr = trim(*s);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double startup_s = seconds_since(t_spawn);
  const std::string token = trim(read_file(data / "admin.token").value_or(""));
  const std::string admin = "http://" + admin_addr;
  const std::string url = "http://127.0.0.1:" + port + (o.segment ? "/v1/batch" : "/ingest");
  // analytics-node: Basic auth with the write key as the user name and no password (curl encodes it).
  const std::string auth = o.segment ? write_key + ":" : std::string();
  StoreReader store(data / "touchpoint.db");

  // ---- ingest
  const ProcStats hub0 = proc_stats(hub.pid());
  const double cpu0 = self_cpu_seconds();
  std::atomic<size_t> next{0};
  std::atomic<bool> abort{false};
  std::vector<SenderResult> results(o.connections);
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  const std::chrono::nanoseconds interval =
      o.rate ? std::chrono::nanoseconds(static_cast<int64_t>(1e9 * double(o.batch) / double(o.rate)))
             : std::chrono::nanoseconds(0);
  for (size_t c = 0; c < o.connections; ++c)
    threads.emplace_back(sender, std::cref(url), std::cref(auth), std::cref(payload), std::ref(next), std::ref(abort),
                         std::ref(results[c]), t0, interval);
  for (std::thread& t : threads) t.join();
  const double ack_s = seconds_since(t0);
  const double client_cpu = self_cpu_seconds() - cpu0;
  const ProcStats hub_ack = proc_stats(hub.pid());
  for (const SenderResult& r : results)
    if (!r.error.empty()) return fail(r.error);

  uint64_t accepted = 0, retries = 0;
  std::vector<double> lat;
  for (const SenderResult& r : results) {
    accepted += r.accepted;
    retries += r.retries;
    lat.insert(lat.end(), r.latencies_ms.begin(), r.latencies_ms.end());
  }
  std::sort(lat.begin(), lat.end());
  if (accepted != o.records)
    return fail("the hub accepted " + std::to_string(accepted) + " records, expected " + std::to_string(o.records));

  // ---- apply: everything durable (all acknowledged units) must reach the store
  const int64_t records_at_ack = store.records_max_seq();
  const Json status = Json::parse(http_get(admin + "/status", token));
  const int64_t durable = status.at("journal").at("durable_seq").get<int64_t>();
  double applied_s = 0;
  for (;;) {
    if (store.applied_seq() >= durable) {
      applied_s = seconds_since(t0);
      break;
    }
    if (!hub.running()) return fail("the hub exited while applying");
    if (seconds_since(t0) > ack_s + o.apply_timeout_s)
      return fail("the store did not catch up within " + std::to_string(o.apply_timeout_s) + " s (applied seq " +
                  std::to_string(store.applied_seq()) + " of " + std::to_string(durable) + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // each poll is one indexed read
  }
  const ProcStats hub1 = proc_stats(hub.pid());
  const double client_cpu_total = self_cpu_seconds() - cpu0;
  const std::vector<ThreadCpu> busiest = thread_cpu(hub.pid());
  const std::string metrics = http_get(admin + "/metrics", token);
  const double apply_sum = prom_value(metrics, "touchpoint_store_apply_seconds_sum");
  const double apply_count = prom_value(metrics, "touchpoint_store_apply_seconds_count");

  // ---- stop and verify
  const int exit_code = hub.stop(120.0);
  int64_t stored = 0, distinct = 0, dead = 0, profiles = 0;
  {
    StoreReader verify(data / "touchpoint.db");
    stored = verify.scalar("SELECT COUNT(*) FROM records");
    // Profiles have one key each; Segment messages one id each (many per user).
    distinct =
        verify.scalar(o.segment ? "SELECT COUNT(DISTINCT id) FROM records" : "SELECT COUNT(DISTINCT key) FROM records");
    dead = verify.scalar("SELECT COUNT(*) FROM dead_letters");
    profiles = verify.scalar("SELECT COUNT(*) FROM profiles");
  }
  const bool ok = stored == static_cast<int64_t>(o.records) && distinct == stored && exit_code == 0;

  // ---- report
  const double n = static_cast<double>(o.records);
  const double mb = static_cast<double>(payload.body_bytes) / 1e6;
  Json j = {
      {"records", o.records},
      {"batch", o.batch},
      {"connections", o.connections},
      {"rate", o.rate},
      {"server_threads", o.server_threads},
      {"format", o.segment  ? "segment"
                 : o.ndjson ? "ndjson"
                            : "array"},
      {"source_isolation", o.isolated ? "process" : "in_process"},
      {"fsync", o.fsync},
      {"fs", fs_type(data)},
      {"avg_record_bytes", static_cast<double>(payload.record_bytes) / n},
      {"body_mb", mb},
      {"requests", lat.size()},
      {"retries_503", retries},
      {"hub_startup_s", startup_s},
      {"ack_s", ack_s},
      {"ack_records_per_s", n / ack_s},
      {"ack_mb_per_s", mb / ack_s},
      {"latency_ms",
       {{"p50", percentile(lat, 0.50)},
        {"p95", percentile(lat, 0.95)},
        {"p99", percentile(lat, 0.99)},
        {"max", lat.empty() ? 0 : lat.back()}}},
      {"applied_at_ack", records_at_ack},
      {"applied_s", applied_s},
      {"applied_records_per_s", n / applied_s},
      {"apply_tail_s", applied_s - ack_s},
      {"store_apply_s", std::isnan(apply_sum) ? Json(nullptr) : Json(apply_sum)},
      {"store_apply_batches", std::isnan(apply_count) ? Json(nullptr) : Json(apply_count)},
      {"hub_peak_rss_mib", static_cast<double>(hub1.hwm_kib) / 1024.0},
      {"hub_cpu_s", hub1.cpu_s - hub0.cpu_s},
      {"hub_cpu_ingest_s", hub_ack.cpu_s - hub0.cpu_s},
      {"hub_cpu_per_record_us", (hub1.cpu_s - hub0.cpu_s) / n * 1e6},
      {"hub_threads", hub1.threads},
      {"client_cpu_s", client_cpu},
      {"client_cpu_total_s", client_cpu_total},
      {"client_gen_s", gen_cpu},
      {"stored_records", stored},
      {"profiles", profiles},
      {"dead_letters", dead},
      {"hub_exit", exit_code},
      {"ok", ok},
  };
  if (o.json) {
    std::cout << j.dump() << std::endl;
  } else {
    std::printf("touchpoint ingest benchmark\n");
    std::printf(
        "  setup       %zu records (avg %.0f B JSON, %.1f MB bodies), %zu/request as %s, %zu connections,\n"
        "              webhook threads %d%s, journal fsync %s, data on %s (%s)\n",
        o.records, static_cast<double>(payload.record_bytes) / n, mb, o.batch,
        o.segment  ? "Segment /v1/batch"
        : o.ndjson ? "NDJSON"
                   : "array",
        o.connections, o.server_threads, o.isolated ? " in its own process" : "", o.fsync ? "on" : "off",
        fs_type(data).c_str(), dir.c_str());
    std::printf("              generated in %.2f s; hub started in %.2f s\n", gen_s, startup_s);
    std::printf("  ingest      %.2f s until the last 202: %.0f records/s, %.1f MB/s (%zu requests, %llu retries)\n",
                ack_s, n / ack_s, mb / ack_s, lat.size(), static_cast<unsigned long long>(retries));
    std::printf("  latency     p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms per request\n", percentile(lat, 0.5),
                percentile(lat, 0.95), percentile(lat, 0.99), lat.empty() ? 0 : lat.back());
    std::printf("  applied     %.2f s from the first request until the store applied everything: %.0f records/s\n",
                applied_s, n / applied_s);
    std::printf("              %lld records were in the store at the last 202; tail %.2f s\n",
                static_cast<long long>(records_at_ack), applied_s - ack_s);
    if (!std::isnan(apply_sum))
      std::printf("              store.apply (SQLite transaction) %.2f s in %.0f batches\n", apply_sum, apply_count);
    std::printf("  hub         peak RSS %.1f MiB, CPU %.2f s (%.2f s until the last 202), %.1f us/record, %d threads\n",
                static_cast<double>(hub1.hwm_kib) / 1024.0, hub1.cpu_s - hub0.cpu_s, hub_ack.cpu_s - hub0.cpu_s,
                (hub1.cpu_s - hub0.cpu_s) / n * 1e6, hub1.threads);
    std::printf("              busiest threads:");
    for (size_t i = 0; i < std::min<size_t>(busiest.size(), 6); ++i)
      std::printf("%s %s/%d %.2fs", i ? "," : "", busiest[i].name.c_str(), busiest[i].tid, busiest[i].cpu_s);
    std::printf("\n");
    std::printf("  client      CPU %.2f s while sending, %.2f s including the store polling (%.2f s generating data)\n",
                client_cpu, client_cpu_total, gen_cpu);
    std::printf("  verify      %lld records (%lld distinct keys), %lld profiles, %lld dead letters, hub exit %d: %s\n",
                static_cast<long long>(stored), static_cast<long long>(distinct), static_cast<long long>(profiles),
                static_cast<long long>(dead), exit_code, ok ? "OK" : "FAILED");
  }
  if (!ok) {
    std::cerr << "bench_ingest: expected exactly " << o.records << " records in the store; data kept in "
              << dir.string() << "\n";
    return 1;
  }
  if (o.keep) {
    if (!o.json) std::printf("  kept        %s\n", dir.c_str());
  } else {
    fs::remove_all(dir);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv);
  ::signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = 1;
  try {
    rc = run(o);
  } catch (const std::exception& e) {
    std::cerr << "bench_ingest: " << e.what() << "\n";
  }
  curl_global_cleanup();
  return rc;
}
