#pragma once
// The hub configuration (config/touchpoint.yaml). Relative paths are
// resolved against the directory of the config file, so a repository
// checkout runs with a local data directory and no root.

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/config_error.hpp"
#include "config/customer_config.hpp"

namespace touchpoint::core {

struct RetryPolicy {
  int max_attempts = 8;
  int64_t initial_backoff_ms = 500;
  int64_t max_backoff_ms = 300'000;
  double jitter = 0.2;  ///< +-20% of each delay, so failing sinks do not retry in lock-step
};

struct HubConfig {
  std::filesystem::path file;
  std::filesystem::path data_dir;
  std::filesystem::path plugin_dir;
  std::filesystem::path pipelines_dir;
  std::string log_level = "info";

  std::string store_type = "sqlite";
  std::filesystem::path store_path;  ///< default <data_dir>/touchpoint.db

  uint64_t journal_segment_bytes = 64ull << 20;
  uint64_t journal_max_bytes = 2ull << 30;
  bool journal_fsync = true;

  size_t apply_batch_records = 4096;
  int64_t poll_interval_ms = 1000;
  int64_t shutdown_timeout_ms = 30'000;
  /// All transform steps together may spend this long on one record; over it
  /// the record is dead-lettered as `timeout`.
  int64_t record_budget_ms = 1000;
  RetryPolicy sink_retry;

  std::string admin_listen = "127.0.0.1:8079";
  std::filesystem::path admin_token_file;    ///< default <data_dir>/admin.token (created 0600)
  bool admin_public_health = true;           ///< /health and /ready without token (for probes)
  std::string admin_tls_cert_file;           ///< admin.tls.cert_file (PEM); empty: plain HTTP
  std::string admin_tls_key_file;            ///< admin.tls.key_file (PEM)
  bool admin_allow_insecure_remote = false;  ///< a non-loopback listener without TLS
  /// More named tokens besides the main one ("admin"): admin.tokens.
  struct ExtraToken {
    std::string name;
    std::filesystem::path file;
    std::string role = "read";  ///< "admin" or "read"
  };
  std::vector<ExtraToken> admin_tokens;
  /// How often the data-quality report is recomputed (reports.quality_refresh_s; 0: only on request).
  int64_t reports_quality_refresh_s = 300;

  /// Besides root, the only owner a plugin file may have (the service user).
  std::string plugin_owner;
  /// Default deadline of a call into a plugin (plugins.call_timeout_ms).
  int64_t plugin_call_timeout_ms = 30'000;
  /// Optional pins: plugin name -> SHA-256 (hex) its file must have.
  std::map<std::string, std::string> plugin_sha256;
  /// Plugins every use of which runs in its own process (plugins.isolate).
  std::set<std::string> plugin_isolate;
  /// The plugin host executable (plugins.host; empty: next to touchpoint).
  std::filesystem::path plugin_host;

  /// Identity kinds, survivorship, the rulebook file (customer: section).
  CustomerConfig customer;
};

/// Reads a `retry:` block (max_attempts, initial_backoff_ms, max_backoff_ms, jitter).
void read_retry(const YAML::Node& node, const ConfigSource& src, RetryPolicy& retry);

/// Reads and validates the hub config. Throws ConfigError (file:line:col).
HubConfig load_hub_config(const std::filesystem::path& file);

}  // namespace touchpoint::core
