#pragma once
// Helpers for the end-to-end tests: files, polling with deadlines, HTTP via
// libcurl, raw sockets, running the CLI, reading the hub's SQLite store
// read-only, and a gtest fixture that lays out a fresh hub in a temp dir.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hub_process.hpp"

struct sqlite3;

namespace tp_it {

// ---- files and time ---------------------------------------------------------

std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& content);
/// Writes next to `p` and renames, so a watcher never sees a partial file.
void write_file_atomic(const std::filesystem::path& p, const std::string& content);

/// Calls `pred` every few milliseconds until it returns true or `timeout` passes.
bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// ---- HTTP -------------------------------------------------------------------

struct HttpResponse {
  long status = 0;  ///< 0 when the transfer failed (see error)
  std::string body;
  std::string error;                           ///< curl's message when status == 0
  std::map<std::string, std::string> headers;  ///< lower-case names
};

HttpResponse http_request(const std::string& method, const std::string& url, const std::string& body,
                          const std::vector<std::string>& headers,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// Sends `request` verbatim over a TCP connection, optionally half-closes the
/// write side, and returns what the server sent until it closed (or timeout).
std::string raw_exchange(const std::string& host, int port, const std::string& request, bool half_close,
                         std::chrono::milliseconds timeout);

// ---- processes --------------------------------------------------------------

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// A program on PATH (posix_spawn needs a path); empty when there is none.
std::filesystem::path program_on_path(const std::string& name);

/// Runs `argv` to completion (stdout/stderr captured through temp files in `scratch_dir`).
CommandResult run_command(const std::vector<std::string>& argv, const std::filesystem::path& scratch_dir,
                          std::chrono::milliseconds timeout = std::chrono::seconds(20));

// ---- the store --------------------------------------------------------------

/// A read-only connection to the hub's SQLite file.
class StoreReader {
 public:
  explicit StoreReader(const std::filesystem::path& db);
  ~StoreReader();
  StoreReader(const StoreReader&) = delete;
  StoreReader& operator=(const StoreReader&) = delete;

  int64_t scalar(const std::string& sql, const std::vector<std::string>& params = {});
  /// All rows, each column as text (NULL as "").
  std::vector<std::vector<std::string>> rows(const std::string& sql, const std::vector<std::string>& params = {});

 private:
  sqlite3* db_ = nullptr;
};

// ---- a hub in a temp dir ----------------------------------------------------

const std::filesystem::path& touchpoint_binary();
const std::filesystem::path& plugin_dir();

/// Fixture: a fresh directory with touchpoint.yaml, pipelines/ and data/,
/// a HubProcess for it, and helpers to talk to it. The directory is removed
/// after a passing test and kept (path printed with the hub log) after a failure.
class HubTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// Writes touchpoint.yaml. `extra` is appended verbatim (YAML at top level).
  void write_hub_config(const std::string& extra = "");
  /// Writes pipelines/<name>.yaml with a webhook source (port 0, port file
  /// data/<name>.port) and `transforms_yaml` (a YAML list, may be empty).
  void write_webhook_pipeline(const std::string& name, const std::string& transforms_yaml = "",
                              const std::string& extra_source_config = "", const std::string& listen = "127.0.0.1:0");
  void write_pipeline_file(const std::string& file_name, const std::string& yaml);
  /// The hub config with the shipped rulebook (config/rulebook.yaml) and one
  /// ext:crm per profile, and the shipped records pipeline
  /// (pipelines/records.yaml) moved to a free port (port file data/records.port).
  void write_shipped_customer_setup();

  /// Starts the hub and waits for /ready (asserting on failure).
  void start_hub();
  /// Port the webhook of pipeline `name` bound (waits for its port file).
  int webhook_port(const std::string& name, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::string webhook_url(const std::string& name);
  /// The port a plugin published as the gauge `gauge` on /metrics (0 when it does not within `timeout`).
  int gauge_port(const std::string& gauge, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// POSTs `body` to the webhook of pipeline `name`.
  HttpResponse post(const std::string& name, const std::string& body,
                    const std::vector<std::string>& headers = {"Content-Type: application/json"});

  std::string admin_token() const;
  HttpResponse admin_get(const std::string& path, bool with_token = true);
  HttpResponse admin_post(const std::string& path, bool with_token = true);

  /// `touchpoint <args...> --config <config>`
  CommandResult cli(std::vector<std::string> args);

  StoreReader& store();
  /// Waits until `sql` (a COUNT) returns at least `n`.
  bool wait_count(const std::string& sql, int64_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  std::filesystem::path root_;
  std::filesystem::path config_;
  std::filesystem::path pipelines_;
  std::filesystem::path data_;
  std::unique_ptr<HubProcess> hub_;
  /// The `admin:` block write_hub_config() writes.
  std::string admin_yaml_ = "{ listen: \"127.0.0.1:0\" }";

 private:
  std::unique_ptr<StoreReader> store_;
};

}  // namespace tp_it
