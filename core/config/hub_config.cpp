#include "config/hub_config.hpp"

#include "config/yaml_util.hpp"
#include "util/listen_address.hpp"

namespace touchpoint::core {
namespace fs = std::filesystem;
namespace {

fs::path resolve(const fs::path& base, const std::string& p) {
  fs::path path(p);
  return (path.is_relative() ? base / path : path).lexically_normal();
}

}  // namespace

void read_retry(const YAML::Node& n, const ConfigSource& src, RetryPolicy& r) {
  require_keys_known(n, {"max_attempts", "initial_backoff_ms", "max_backoff_ms", "jitter"}, src, "retry");
  if (n["max_attempts"]) r.max_attempts = static_cast<int>(get_int(n["max_attempts"], src, "max_attempts", 1, 1000));
  if (n["initial_backoff_ms"])
    r.initial_backoff_ms = get_int(n["initial_backoff_ms"], src, "initial_backoff_ms", 1, 86'400'000);
  if (n["max_backoff_ms"]) r.max_backoff_ms = get_int(n["max_backoff_ms"], src, "max_backoff_ms", 1, 86'400'000);
  if (n["jitter"]) {
    Json j = typed_scalar(n["jitter"]);
    if (!j.is_number() || j.get<double>() < 0 || j.get<double>() > 1)
      src.fail(n["jitter"], "jitter must be a number in [0, 1]");
    r.jitter = j.get<double>();
  }
  if (r.max_backoff_ms < r.initial_backoff_ms) src.fail(n, "max_backoff_ms must be >= initial_backoff_ms");
}

HubConfig load_hub_config(const fs::path& file) {
  ConfigSource src(file.string());
  YAML::Node root = load_yaml_file(file);
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  require_keys_known(root,
                     {"data_dir", "plugin_dir", "pipelines_dir", "log_level", "store", "journal", "apply", "sinks",
                      "admin", "plugins", "customer", "reports"},
                     src, "hub config");
  const fs::path base = fs::absolute(file).parent_path();
  HubConfig c;
  c.file = fs::absolute(file);
  c.data_dir = resolve(base, root["data_dir"] ? get_string(root["data_dir"], src, "data_dir") : "/var/lib/touchpoint");
  c.plugin_dir = resolve(
      base, root["plugin_dir"] ? get_string(root["plugin_dir"], src, "plugin_dir") : "/usr/lib/touchpoint/plugins");
  c.pipelines_dir =
      resolve(base, root["pipelines_dir"] ? get_string(root["pipelines_dir"], src, "pipelines_dir") : "pipelines");
  if (root["log_level"]) {
    c.log_level = get_string(root["log_level"], src, "log_level");
    if (c.log_level != "trace" && c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
        c.log_level != "error")
      src.fail(root["log_level"], "log_level must be one of trace, debug, info, warn, error");
  }
  c.store_path = c.data_dir / "touchpoint.db";
  if (const YAML::Node s = root["store"]) {
    require_keys_known(s, {"type", "path"}, src, "store");
    if (s["type"]) {
      c.store_type = get_string(s["type"], src, "store.type");
      if (c.store_type != "sqlite")
        src.fail(s["type"], "store.type '" + c.store_type + "' is not supported (supported: sqlite)");
    }
    if (s["path"]) c.store_path = resolve(c.data_dir, get_string(s["path"], src, "store.path"));
  }
  if (const YAML::Node j = root["journal"]) {
    require_keys_known(j, {"segment_size", "max_size", "fsync"}, src, "journal");
    if (j["segment_size"]) c.journal_segment_bytes = get_size(j["segment_size"], src, "journal.segment_size");
    if (j["max_size"]) c.journal_max_bytes = get_size(j["max_size"], src, "journal.max_size");
    if (j["fsync"]) c.journal_fsync = get_bool(j["fsync"], src, "journal.fsync");
    if (c.journal_segment_bytes < 4096) src.fail(j["segment_size"], "journal.segment_size must be at least 4KiB");
    // Segments are preallocated files; beyond this a typo, not a plan (and
    // 2 * segment_size below cannot wrap).
    if (c.journal_segment_bytes > (uint64_t{64} << 30))
      src.fail(j["segment_size"], "journal.segment_size must be at most 64GiB");
    // Space is freed one whole, applied, non-active segment at a time, so a
    // limit below two segments could never be relieved: appends would block for good.
    if (c.journal_max_bytes / 2 < c.journal_segment_bytes)
      src.fail(j["max_size"] ? j["max_size"] : j["segment_size"],
               "journal.max_size must be at least twice journal.segment_size (" +
                   std::to_string(c.journal_segment_bytes) + " bytes)");
  }
  if (const YAML::Node a = root["apply"]) {
    require_keys_known(a, {"batch_records", "poll_interval_ms", "shutdown_timeout_ms", "record_budget_ms"}, src,
                       "apply");
    if (a["batch_records"])
      c.apply_batch_records =
          static_cast<size_t>(get_int(a["batch_records"], src, "apply.batch_records", 1, 1'000'000));
    if (a["poll_interval_ms"])
      c.poll_interval_ms = get_int(a["poll_interval_ms"], src, "apply.poll_interval_ms", 1, 3'600'000);
    if (a["shutdown_timeout_ms"])
      c.shutdown_timeout_ms = get_int(a["shutdown_timeout_ms"], src, "apply.shutdown_timeout_ms", 0, 3'600'000);
    if (a["record_budget_ms"])
      c.record_budget_ms = get_int(a["record_budget_ms"], src, "apply.record_budget_ms", 1, 600'000);
  }
  if (const YAML::Node s = root["sinks"]) {
    require_keys_known(s, {"retry"}, src, "sinks");
    if (s["retry"]) read_retry(s["retry"], src, c.sink_retry);
  }
  c.admin_token_file = c.data_dir / "admin.token";
  if (const YAML::Node a = root["admin"]) {
    require_keys_known(a, {"listen", "token_file", "public_health", "tls", "allow_insecure_remote", "tokens"}, src,
                       "admin");
    if (a["listen"]) c.admin_listen = get_string(a["listen"], src, "admin.listen");
    if (a["token_file"]) c.admin_token_file = resolve(base, get_string(a["token_file"], src, "admin.token_file"));
    if (a["public_health"]) c.admin_public_health = get_bool(a["public_health"], src, "admin.public_health");
    if (c.admin_listen.rfind(':') == std::string::npos) src.fail(a["listen"], "admin.listen must be host:port");
    if (a["allow_insecure_remote"])
      c.admin_allow_insecure_remote = get_bool(a["allow_insecure_remote"], src, "admin.allow_insecure_remote");
    if (const YAML::Node t = a["tls"]) {
      require_keys_known(t, {"cert_file", "key_file"}, src, "admin.tls");
      if (!t["cert_file"] || !t["key_file"]) src.fail(t, "admin.tls needs both cert_file and key_file");
      c.admin_tls_cert_file = resolve(base, get_string(t["cert_file"], src, "admin.tls.cert_file")).string();
      c.admin_tls_key_file = resolve(base, get_string(t["key_file"], src, "admin.tls.key_file")).string();
    }
    if (const YAML::Node tokens = a["tokens"]) {
      if (!tokens.IsSequence()) src.fail(tokens, "admin.tokens must be a list of {name, file, role}");
      for (const YAML::Node& t : tokens) {
        require_map(t, src, "admin token");
        require_keys_known(t, {"name", "file", "role"}, src, "admin token");
        HubConfig::ExtraToken x;
        if (!t["name"] || !t["file"]) src.fail(t, "an admin token needs name and file");
        x.name = get_string(t["name"], src, "name");
        if (x.name.empty() || x.name == "admin" || x.name.size() > 64)
          src.fail(t["name"], "token name must be 1-64 characters and not 'admin' (the main token's name)");
        for (const auto& other : c.admin_tokens)
          if (other.name == x.name) src.fail(t["name"], "duplicate token name '" + x.name + "'");
        x.file = resolve(base, get_string(t["file"], src, "file"));
        if (t["role"]) {
          x.role = get_string(t["role"], src, "role");
          if (x.role != "admin" && x.role != "read") src.fail(t["role"], "role must be admin or read");
        }
        c.admin_tokens.push_back(std::move(x));
      }
    }
    if (!c.admin_allow_insecure_remote && c.admin_tls_cert_file.empty() && !is_loopback_listen(c.admin_listen))
      src.fail(a["listen"], "admin.listen " + c.admin_listen +
                                " is not a loopback address and admin.tls is not configured: the bearer token would "
                                "travel in clear text (set admin.tls, or admin.allow_insecure_remote: true behind a "
                                "TLS proxy)");
  }
  if (const YAML::Node r = root["reports"]) {
    require_keys_known(r, {"quality_refresh_s"}, src, "reports");
    if (r["quality_refresh_s"])
      c.reports_quality_refresh_s = get_int(r["quality_refresh_s"], src, "reports.quality_refresh_s", 0, 86'400);
  }
  if (const YAML::Node p = root["plugins"]) {
    require_keys_known(p, {"owner", "call_timeout_ms", "sha256", "isolate", "host"}, src, "plugins");
    if (const YAML::Node iso = p["isolate"]) {
      if (!iso.IsSequence()) src.fail(iso, "plugins.isolate must be a list of plugin names");
      for (const auto& n : iso) c.plugin_isolate.insert(get_string(n, src, "plugins.isolate"));
    }
    if (p["host"]) c.plugin_host = resolve(base, get_string(p["host"], src, "plugins.host"));
    if (p["owner"]) c.plugin_owner = get_string(p["owner"], src, "plugins.owner");
    if (p["call_timeout_ms"])
      c.plugin_call_timeout_ms = get_int(p["call_timeout_ms"], src, "plugins.call_timeout_ms", 100, 3'600'000);
    if (const YAML::Node pins = p["sha256"]) {
      if (!pins.IsMap()) src.fail(pins, "plugins.sha256 must map plugin names to SHA-256 hex digests");
      for (const auto& kv : pins) {
        const std::string name = kv.first.Scalar();
        std::string hex = get_string(kv.second, src, "plugins.sha256." + name);
        for (char& ch : hex) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
          src.fail(kv.second, "plugins.sha256." + name + " must be 64 hexadecimal digits (sha256sum of the .so)");
        c.plugin_sha256[name] = hex;
      }
    }
  }
  c.customer = read_customer_config(root["customer"], src, base, c.data_dir);
  return c;
}

}  // namespace touchpoint::core
