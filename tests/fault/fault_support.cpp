#include "fault_support.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

namespace tp_fault {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

std::string& unavailable_reason() {
  static std::string reason = "setup_mount_namespace() was not called";
  return reason;
}
bool& is_real_root() {
  static bool v = false;
  return v;
}

bool write_proc(const char* path, const std::string& text) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

}  // namespace

void setup_mount_namespace() {
  const uid_t uid = ::getuid();
  const gid_t gid = ::getgid();
  std::string why;
  if (::unshare(CLONE_NEWNS) == 0) {
    is_real_root() = uid == 0;
  } else {
    why = std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
    // Unprivileged: a user namespace in which we are root (single-threaded
    // here). Only our own uid is mapped there: plugins owned by anyone else
    // would show up as nobody's, and the hub would refuse them.
    struct stat st {};
    const fs::path probe = tp_it::plugin_dir() / "libtp_webhook.so";
    if (::stat(probe.c_str(), &st) == 0 && st.st_uid != uid) {
      unavailable_reason() = why + "; a user namespace is no way out: " + probe.string() + " is owned by uid " +
                             std::to_string(st.st_uid) + ", which would be unmapped there";
      return;
    }
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
      unavailable_reason() = why + "; unshare(CLONE_NEWUSER|CLONE_NEWNS): " + std::strerror(errno);
      return;
    }
    if (!write_proc("/proc/self/setgroups", "deny") ||
        !write_proc("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1\n") ||
        !write_proc("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1\n")) {
      unavailable_reason() = "cannot write the user namespace's uid/gid map: " + std::string(std::strerror(errno));
      return;
    }
  }
  // Mounts made from here on must not propagate to the host.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    unavailable_reason() = std::string("cannot make / private: ") + std::strerror(errno);
    return;
  }
  unavailable_reason().clear();
}

const std::string& mount_unavailable() { return unavailable_reason(); }
bool real_root() { return is_real_root(); }

bool mount_tmpfs(const fs::path& dir, uint64_t bytes, std::string& error) {
  fs::create_directories(dir);
  const std::string opts = "size=" + std::to_string(bytes) + ",mode=0755";
  if (::mount("tpfault", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
    error = "mount tmpfs on " + dir.string() + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool resize_tmpfs(const fs::path& dir, uint64_t bytes, std::string& error) {
  const std::string opts = "size=" + std::to_string(bytes);
  if (::mount("tpfault", dir.c_str(), "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
    error = "remount tmpfs " + dir.string() + " with " + opts + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

void unmount(const fs::path& dir) { ::umount2(dir.c_str(), MNT_DETACH); }

uint64_t fs_used(const fs::path& dir) {
  struct statvfs s {};
  if (::statvfs(dir.c_str(), &s) != 0) return 0;
  return (uint64_t(s.f_blocks) - uint64_t(s.f_bfree)) * s.f_frsize;
}

uint64_t fs_available(const fs::path& dir) {
  struct statvfs s {};
  if (::statvfs(dir.c_str(), &s) != 0) return 0;
  return uint64_t(s.f_bavail) * s.f_frsize;
}

// ---- the store --------------------------------------------------------------

StoreWriteLock::StoreWriteLock(const fs::path& db) {
  if (sqlite3_open_v2(db.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
    throw std::runtime_error("cannot open " + db.string() + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
  sqlite3_busy_timeout(db_, 10000);
  char* err = nullptr;
  if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("BEGIN IMMEDIATE on " + db.string() + ": " + msg);
  }
}

StoreWriteLock::~StoreWriteLock() { release(); }

void StoreWriteLock::release() {
  if (db_ == nullptr) return;
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db_);
  db_ = nullptr;
}

std::map<std::string, int64_t> stored_ids(StoreReader& db, const std::string& pipeline) {
  std::map<std::string, int64_t> out;
  for (auto& row : db.rows("SELECT id, COUNT(*) FROM records WHERE pipeline=? GROUP BY id", {pipeline}))
    out[row[0]] = std::stoll(row[1]);
  return out;
}

std::map<std::string, int64_t> sink_deliveries(const fs::path& out_file) {
  std::map<std::string, int64_t> out;
  std::ifstream in(out_file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j["id"].is_string())
      ++out[j["id"].get<std::string>()];
    else
      ++out["<malformed line>"];
  }
  return out;
}

// ---- clients ----------------------------------------------------------------

std::string records_body(const std::vector<std::string>& ids) {
  json batch = json::array();
  for (const std::string& id : ids)
    batch.push_back({{"id", id}, {"customer_id", id}, {"email", id + "@fault.example.com"}});
  return batch.dump();
}

std::vector<std::string> make_ids(const std::string& prefix, size_t from, size_t count) {
  std::vector<std::string> ids;
  for (size_t i = from; i < from + count; ++i) ids.push_back(prefix + "-" + std::to_string(i));
  return ids;
}

Poster::Poster(std::function<std::string()> url, std::string prefix, int clients, int batch)
    : url_(std::move(url)), prefix_(std::move(prefix)), clients_(clients), batch_(batch) {}

Poster::~Poster() { stop(); }

void Poster::start() {
  stop_ = false;
  for (int c = 0; c < clients_; ++c) threads_.emplace_back([this, c] { run(c); });
}

void Poster::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void Poster::mark() { marked_ = true; }

void Poster::run(int client) {
  const std::string url = url_();
  for (int i = 0; !stop_.load(); ++i) {
    std::vector<std::string> ids =
        make_ids(prefix_ + "-" + std::to_string(client) + "-" + std::to_string(i), 0, static_cast<size_t>(batch_));
    {
      std::lock_guard<std::mutex> lk(mu_);
      posted_.insert(ids.begin(), ids.end());
    }
    const bool late = marked_.load();
    HttpResponse r = tp_it::http_request("POST", url, records_body(ids), {"Content-Type: application/json"}, 10s);
    ++requests_;
    std::lock_guard<std::mutex> lk(mu_);
    ++statuses_[r.status];
    if (late) ++late_statuses_[r.status];
    if (r.status == 202) {
      acked_.insert(ids.begin(), ids.end());
      acked_count_ += ids.size();
    } else if (r.status == 0) {
      std::this_thread::sleep_for(5ms);  // the hub is gone: do not spin
    }
  }
}

std::set<std::string> Poster::acked() const {
  std::lock_guard<std::mutex> lk(mu_);
  return acked_;
}
std::set<std::string> Poster::posted() const {
  std::lock_guard<std::mutex> lk(mu_);
  return posted_;
}
std::map<long, size_t> Poster::statuses() const {
  std::lock_guard<std::mutex> lk(mu_);
  return statuses_;
}
std::map<long, size_t> Poster::late_statuses() const {
  std::lock_guard<std::mutex> lk(mu_);
  return late_statuses_;
}

// ---- the fixture ------------------------------------------------------------

void FaultTest::SetUp() {
  started_ = std::chrono::steady_clock::now();
  HubTest::SetUp();
  // TP_FAULT_TOUCHPOINT=<binary> runs the suite against another build of the hub
  // (Release, sanitizers); the plugins still come from this build.
  if (const char* other = std::getenv("TP_FAULT_TOUCHPOINT"); other != nullptr && *other != '\0')
    hub_ = std::make_unique<tp_it::HubProcess>(other, config_, data_, root_ / "hub.log");
}

void FaultTest::TearDown() {
  if (hub_) hub_->kill9();
  // Before HubTest removes the directory the mount points live in.
  for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) unmount(*it);
  HubTest::TearDown();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count();
  std::cerr << "[fault] " << ::testing::UnitTest::GetInstance()->current_test_info()->name() << ": " << ms << " ms\n";
}

void FaultTest::write_config(const std::string& journal, const std::string& apply, const std::string& extra) {
  std::ostringstream y;
  y << "data_dir: data\n"
    << "plugin_dir: " << tp_it::plugin_dir().string() << "\n"
    << "pipelines_dir: pipelines\n"
    << "log_level: info\n"
    << "journal: " << journal << "\n"
    << "apply: " << apply << "\n"
    << "admin: " << admin_yaml_ << "\n"
    << extra;
  tp_it::write_file(config_, y.str());
}

std::string FaultTest::webhook_source(const std::string& name, const std::string& extra_config) {
  return "source:\n"
         "  plugin: webhook\n"
         "  config:\n"
         "    listen: \"127.0.0.1:0\"\n"
         "    path: /ingest\n"
         "    type: profile\n"
         "    key_field: customer_id\n"
         "    threads: 2\n"
         "    port_file: " +
         (data_ / (name + ".port")).string() + "\n" + extra_config;
}

std::string FaultTest::faulty_sink(const std::string& name, const json& config, int64_t call_timeout_ms, int batch_size,
                                   const std::string& retry) {
  return "  - name: " + name +
         "\n"
         "    plugin: faulty\n"
         "    batch_size: " +
         std::to_string(batch_size) +
         "\n"
         "    call_timeout_ms: " +
         std::to_string(call_timeout_ms) +
         "\n"
         "    retry: " +
         retry +
         "\n"
         "    config: " +
         config.dump() + "\n";
}

void FaultTest::write_pipeline(const std::string& name, const std::string& source_yaml, const std::string& sinks_yaml) {
  std::string y = "name: " + name + "\n" + source_yaml;
  if (!sinks_yaml.empty()) y += "sinks:\n" + sinks_yaml;
  y += "store: true\n";
  write_pipeline_file(name + ".yaml", y);
}

void FaultTest::start_hub_env(const std::vector<std::pair<std::string, std::string>>& env) {
  for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
  start_hub();  // the child copies the environment when it is spawned
  for (const auto& [k, v] : env) ::unsetenv(k.c_str());
}

json FaultTest::status() {
  HttpResponse r = admin_get("/status");
  if (r.status != 200) return json();
  return json::parse(r.body, nullptr, false);
}

bool FaultTest::wait_applied(std::chrono::milliseconds timeout) {
  return tp_it::poll_until(
      [&] {
        json s = status();
        return s.is_object() && s["applier"]["lag_entries"] == 0 &&
               s["store"]["applied_seq"] == s["journal"]["durable_seq"];
      },
      timeout);
}

HttpResponse FaultTest::post_ids(const std::string& name, const std::vector<std::string>& ids) {
  return post(name, records_body(ids));
}

std::set<std::string> FaultTest::post_batches(const std::string& prefix, int requests, size_t batch) {
  std::set<std::string> acked;
  for (int i = 0; i < requests; ++i) {
    std::vector<std::string> ids = make_ids(prefix, static_cast<size_t>(i) * batch, batch);
    HttpResponse r = post_ids("web", ids);
    EXPECT_EQ(r.status, 202) << r.error << r.body;
    if (r.status == 202) acked.insert(ids.begin(), ids.end());
  }
  return acked;
}

bool FaultTest::wait_delivered(const fs::path& out, const std::set<std::string>& ids,
                               std::chrono::milliseconds timeout) {
  return tp_it::poll_until(
      [&] {
        auto d = sink_deliveries(out);
        for (const std::string& id : ids)
          if (!d.count(id)) return false;
        json s = status();
        return s.is_object() && s["store"]["outbox"] == 0;
      },
      timeout);
}

void FaultTest::expect_exactly_once(StoreReader& db, const std::string& pipeline, const std::set<std::string>& acked,
                                    const std::set<std::string>& posted, bool profiles) {
  const auto stored = stored_ids(db, pipeline);
  size_t missing = 0, duplicated = 0, phantom = 0;
  std::string example_missing, example_dup, example_phantom;
  for (const std::string& id : acked) {
    auto it = stored.find(id);
    if (it == stored.end()) {
      if (missing++ == 0) example_missing = id;
    }
  }
  for (const auto& [id, n] : stored) {
    if (n != 1 && duplicated++ == 0) example_dup = id;
    if (!posted.count(id) && phantom++ == 0) example_phantom = id;
  }
  EXPECT_EQ(missing, 0u) << missing << " of " << acked.size() << " acknowledged records are not in the store, e.g. "
                         << example_missing;
  EXPECT_EQ(duplicated, 0u) << duplicated << " records stored more than once, e.g. " << example_dup;
  EXPECT_EQ(phantom, 0u) << phantom << " stored records were never posted, e.g. " << example_phantom;
  const int64_t rows = db.scalar("SELECT COUNT(*) FROM records WHERE pipeline=?", {pipeline});
  EXPECT_EQ(rows, static_cast<int64_t>(stored.size()));
  EXPECT_EQ(db.scalar("SELECT COUNT(DISTINCT key) FROM records WHERE pipeline=?", {pipeline}), rows)
      << "a customer key stored twice";
  // One e-mail identity per record: a record applied twice would make a second profile.
  if (profiles) {
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM identities WHERE kind='email' AND source=?", {pipeline}), rows);
  }
  std::cerr << "[fault] exact count for " << pipeline << ": " << acked.size() << " acknowledged, " << rows
            << " stored, " << posted.size() << " posted, " << missing << " missing, " << duplicated << " duplicated\n";
}

}  // namespace tp_fault
