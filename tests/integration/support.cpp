#include "support.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace tp_it {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

#ifndef TP_TOUCHPOINT_BINARY
#error "TP_TOUCHPOINT_BINARY must be defined by the build"
#endif
#ifndef TP_PLUGIN_DIR
#error "TP_PLUGIN_DIR must be defined by the build"
#endif

// ---- files and time ---------------------------------------------------------

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& content) {
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

void write_file_atomic(const fs::path& p, const std::string& content) {
  // The temp name must not match any watcher's pattern (*.csv, *.yaml).
  fs::path tmp = p;
  tmp += ".tmp~";
  write_file(tmp, content);
  fs::rename(tmp, p);
}

bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout * kDeadlineScale;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(15ms);
  }
}

// ---- HTTP -------------------------------------------------------------------

namespace {

size_t collect_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t collect_header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(value.begin());
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    (*headers)[name] = value;
  }
  return size * n;
}

struct CurlInit {
  CurlInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

HttpResponse http_request(const std::string& method, const std::string& url, const std::string& body,
                          const std::vector<std::string>& headers, std::chrono::milliseconds timeout) {
  static CurlInit init;
  HttpResponse out;
  CURL* c = curl_easy_init();
  if (c == nullptr) {
    out.error = "curl_easy_init failed";
    return out;
  }
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  // No "Expect: 100-continue" round trip for larger bodies.
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &collect_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &collect_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.headers);
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else if (method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  } else {
    out.error = curl_easy_strerror(rc);
    // A server may answer early (413) and close while the body is still going out.
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (code != 0) out.status = code;
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(c);
  return out;
}

std::string raw_exchange(const std::string& host, int port, const std::string& request, bool half_close,
                         std::chrono::milliseconds timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &sa.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    throw std::runtime_error("connect to " + host + ":" + std::to_string(port) + " failed: " + std::strerror(errno));
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  if (half_close) ::shutdown(fd, SHUT_WR);
  std::string response;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return response;
}

// ---- processes --------------------------------------------------------------

std::filesystem::path program_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::filesystem::path candidate = std::filesystem::path(dir) / name;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

CommandResult run_command(const std::vector<std::string>& argv, const fs::path& scratch_dir,
                          std::chrono::milliseconds timeout) {
  static std::atomic<int> counter{0};
  const int n = counter.fetch_add(1);
  const fs::path out_file = scratch_dir / ("cmd-" + std::to_string(n) + ".out");
  const fs::path err_file = scratch_dir / ("cmd-" + std::to_string(n) + ".err");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (std::string& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, cargv[0], &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  CommandResult res;
  if (rc != 0) {
    res.err = std::string("posix_spawn: ") + std::strerror(rc);
    return res;
  }
  int status = 0;
  bool done = poll_until(
      [&] {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        return r == pid;
      },
      timeout);
  if (!done) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    res.exit_code = -1;
  } else if (WIFEXITED(status)) {
    res.exit_code = WEXITSTATUS(status);
  } else {
    res.exit_code = 128 + WTERMSIG(status);
  }
  res.out = read_file(out_file);
  res.err = read_file(err_file);
  return res;
}

// ---- the store --------------------------------------------------------------

StoreReader::StoreReader(const fs::path& db) {
  const std::string uri = "file:" + db.string() + "?mode=ro";
  if (sqlite3_open_v2(uri.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open " + db.string() + " read-only: " + msg);
  }
  sqlite3_busy_timeout(db_, 5000);
}

StoreReader::~StoreReader() { sqlite3_close(db_); }

std::vector<std::vector<std::string>> StoreReader::rows(const std::string& sql,
                                                        const std::vector<std::string>& params) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
    throw std::runtime_error("prepare '" + sql + "': " + sqlite3_errmsg(db_));
  for (size_t i = 0; i < params.size(); ++i)
    sqlite3_bind_text(st, static_cast<int>(i + 1), params[i].data(), static_cast<int>(params[i].size()),
                      SQLITE_TRANSIENT);
  std::vector<std::vector<std::string>> out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      const unsigned char* t = sqlite3_column_text(st, c);
      row.emplace_back(t ? reinterpret_cast<const char*>(t) : "", static_cast<size_t>(sqlite3_column_bytes(st, c)));
    }
    out.push_back(std::move(row));
  }
  std::string err = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_);
  sqlite3_finalize(st);
  if (!err.empty()) throw std::runtime_error("query '" + sql + "': " + err);
  return out;
}

int64_t StoreReader::scalar(const std::string& sql, const std::vector<std::string>& params) {
  auto r = rows(sql, params);
  if (r.empty() || r[0].empty()) throw std::runtime_error("query '" + sql + "' returned no value");
  return std::stoll(r[0][0]);
}

// ---- a hub in a temp dir ----------------------------------------------------

const fs::path& touchpoint_binary() {
  static const fs::path p = TP_TOUCHPOINT_BINARY;
  return p;
}

const fs::path& plugin_dir() {
  static const fs::path p = TP_PLUGIN_DIR;
  return p;
}

void HubTest::SetUp() {
  std::string tmpl = (fs::temp_directory_path() / "tp-it-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) FAIL() << "mkdtemp failed";
  root_ = tmpl;
  config_ = root_ / "touchpoint.yaml";
  pipelines_ = root_ / "pipelines";
  data_ = root_ / "data";
  fs::create_directories(pipelines_);
  fs::create_directories(data_);
  hub_ = std::make_unique<HubProcess>(touchpoint_binary(), config_, data_, root_ / "hub.log");
}

void HubTest::TearDown() {
  store_.reset();
  if (hub_) hub_->kill9();
  if (HasFailure()) {
    std::string log = hub_ ? hub_->log() : "";
    if (log.size() > 12000) log = "...\n" + log.substr(log.size() - 12000);
    std::cerr << "---- hub log (" << (root_ / "hub.log").string() << ", directory kept) ----\n"
              << log << "---- end of hub log ----\n";
    return;
  }
  if (std::getenv("TP_IT_KEEP") == nullptr) {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
}

void HubTest::write_hub_config(const std::string& extra) {
  std::ostringstream y;
  y << "data_dir: data\n"
    << "plugin_dir: " << plugin_dir().string() << "\n"
    << "pipelines_dir: pipelines\n"
    << "log_level: info\n"
    << "journal: { segment_size: 1MiB }\n"
    << "apply: { batch_records: 1024, poll_interval_ms: 50, shutdown_timeout_ms: 10000 }\n"
    << "admin: " << admin_yaml_ << "\n"
    << extra;
  write_file(config_, y.str());
}

void HubTest::write_webhook_pipeline(const std::string& name, const std::string& transforms_yaml,
                                     const std::string& extra_source_config, const std::string& listen) {
  std::ostringstream y;
  y << "name: " << name << "\n"
    << "source:\n"
    << "  plugin: webhook\n"
    << "  config:\n"
    << "    listen: \"" << listen << "\"\n"
    << "    path: /ingest\n"
    << "    type: profile\n"
    << "    key_field: customer_id\n"
    << "    threads: 2\n"
    << "    port_file: " << (data_ / (name + ".port")).string() << "\n"
    << extra_source_config;
  if (!transforms_yaml.empty()) y << "transforms:\n" << transforms_yaml;
  y << "store: true\n";
  write_pipeline_file(name + ".yaml", y.str());
}

void HubTest::write_shipped_customer_setup() {
  std::string customer = "customer:\n  rulebook: ";  // appended piecewise: GCC 12 warns on a + chain here
  customer += TP_SOURCE_DIR;
  customer += "/config/rulebook.yaml\n  identities:\n    \"ext:crm\": { max_per_profile: 1 }\n";
  write_hub_config(customer);
  std::string yaml = read_file(std::filesystem::path(TP_SOURCE_DIR) / "pipelines/records.yaml");
  const std::string listen = "    listen: 127.0.0.1:8080\n";
  ASSERT_NE(yaml.find(listen), std::string::npos) << "pipelines/records.yaml changed its listen line";
  yaml.replace(yaml.find(listen), listen.size(),
               "    listen: 127.0.0.1:0\n    port_file: " + (data_ / "records.port").string() + "\n");
  write_pipeline_file("records.yaml", yaml);
}

void HubTest::write_pipeline_file(const std::string& file_name, const std::string& yaml) {
  write_file_atomic(pipelines_ / file_name, yaml);
}

void HubTest::start_hub() {
  // Port files of a previous run name ports that are gone.
  for (const auto& e : fs::directory_iterator(data_))
    if (e.path().extension() == ".port") fs::remove(e.path());
  hub_->start();
  ASSERT_TRUE(hub_->wait_ready(20s)) << "hub did not become ready (exit status "
                                     << (hub_->exit_status() ? std::to_string(*hub_->exit_status()) : "none") << ")";
}

int HubTest::webhook_port(const std::string& name, std::chrono::milliseconds timeout) {
  const fs::path f = data_ / (name + ".port");
  int port = 0;
  poll_until(
      [&] {
        std::string s = read_file(f);
        if (s.empty() || s.back() != '\n') return false;
        port = std::atoi(s.c_str());
        return port > 0;
      },
      timeout);
  return port;
}

int HubTest::gauge_port(const std::string& gauge, std::chrono::milliseconds timeout) {
  int port = 0;
  poll_until(
      [&] {
        HttpResponse m = admin_get("/metrics");
        std::istringstream lines(m.body);
        for (std::string line; std::getline(lines, line);)
          if (line[0] != '#' && line.find(gauge) != std::string::npos)
            port = std::atoi(line.substr(line.rfind(' ') + 1).c_str());
        return port > 0;
      },
      timeout);
  return port;
}

std::string HubTest::webhook_url(const std::string& name) {
  return "http://127.0.0.1:" + std::to_string(webhook_port(name)) + "/ingest";
}

HttpResponse HubTest::post(const std::string& name, const std::string& body, const std::vector<std::string>& headers) {
  return http_request("POST", webhook_url(name), body, headers);
}

std::string HubTest::admin_token() const {
  std::string t = read_file(data_ / "admin.token");
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

HttpResponse HubTest::admin_get(const std::string& path, bool with_token) {
  std::vector<std::string> h;
  if (with_token) h.push_back("Authorization: Bearer " + admin_token());
  return http_request("GET", hub_->admin_url(path), "", h);
}

HttpResponse HubTest::admin_post(const std::string& path, bool with_token) {
  std::vector<std::string> h;
  if (with_token) h.push_back("Authorization: Bearer " + admin_token());
  return http_request("POST", hub_->admin_url(path), "", h);
}

CommandResult HubTest::cli(std::vector<std::string> args) {
  args.insert(args.begin(), touchpoint_binary().string());
  args.push_back("--config");
  args.push_back(config_.string());
  return run_command(args, root_);
}

StoreReader& HubTest::store() {
  if (!store_) store_ = std::make_unique<StoreReader>(data_ / "touchpoint.db");
  return *store_;
}

bool HubTest::wait_count(const std::string& sql, int64_t n, std::chrono::milliseconds timeout) {
  return poll_until([&] { return store().scalar(sql) >= n; }, timeout);
}

}  // namespace tp_it
