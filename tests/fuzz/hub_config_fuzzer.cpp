// Hub config loader (core/config/hub_config.*, yaml_util.*): the input is
// written to <scratch>/touchpoint.yaml and loaded.
//
// Invariants:
//  - load_hub_config returns or throws ConfigError (its documented contract;
//    the CLI and reload report only that one with file:line:col), never
//    another exception, never crashes; libFuzzer's -timeout bounds the time;
//  - a ConfigError names the file and has a message, line/col >= 0;
//  - what loads obeys the documented rules: absolute paths, a known log
//    level, journal.segment_size >= 4 KiB and max_size >= 2 x segment_size
//    (computed without overflow), retry bounds, admin.listen host:port;
//  - loading is deterministic (the same file twice gives the same config).
#include <string>
#include <typeinfo>

#include "config/hub_config.hpp"
#include "fuzz_util.hpp"

using namespace touchpoint::core;

namespace {

std::string describe(const HubConfig& c) {
  return c.data_dir.string() + "|" + c.plugin_dir.string() + "|" + c.pipelines_dir.string() + "|" + c.log_level + "|" +
         c.store_type + "|" + c.store_path.string() + "|" + std::to_string(c.journal_segment_bytes) + "|" +
         std::to_string(c.journal_max_bytes) + "|" + std::to_string(c.journal_fsync) + "|" +
         std::to_string(c.apply_batch_records) + "|" + std::to_string(c.poll_interval_ms) + "|" +
         std::to_string(c.shutdown_timeout_ms) + "|" + std::to_string(c.record_budget_ms) + "|" +
         std::to_string(c.sink_retry.max_attempts) + "|" + std::to_string(c.sink_retry.initial_backoff_ms) + "|" +
         std::to_string(c.sink_retry.max_backoff_ms) + "|" + std::to_string(c.sink_retry.jitter) + "|" +
         c.admin_listen + "|" + c.admin_token_file.string() + "|" + std::to_string(c.admin_public_health) + "|" +
         c.plugin_owner;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path file = touchpoint::fuzz::scratch_dir() / "touchpoint.yaml";
  touchpoint::fuzz::write_file(file, std::string_view(reinterpret_cast<const char*>(data), size));
  HubConfig c;
  try {
    c = load_hub_config(file);
  } catch (const ConfigError& e) {
    FUZZ_CHECK(e.file() == file.string(), "ConfigError names '%s'", e.file().c_str());
    FUZZ_CHECK(!e.message().empty() && e.line() >= 0 && e.col() >= 0, "ConfigError %d:%d '%s'", e.line(), e.col(),
               e.message().c_str());
    return 0;
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, "load_hub_config threw %s (not ConfigError): %s", typeid(e).name(), e.what());
  }

  FUZZ_CHECK(c.data_dir.is_absolute() && c.plugin_dir.is_absolute() && c.pipelines_dir.is_absolute() &&
                 c.store_path.is_absolute() && c.admin_token_file.is_absolute(),
             "a path is not absolute: %s", describe(c).c_str());
  FUZZ_CHECK(c.log_level == "trace" || c.log_level == "debug" || c.log_level == "info" || c.log_level == "warn" ||
                 c.log_level == "error",
             "log_level '%s'", c.log_level.c_str());
  FUZZ_CHECK(c.store_type == "sqlite", "store_type");
  FUZZ_CHECK(c.journal_segment_bytes >= 4096, "segment_size %llu",
             static_cast<unsigned long long>(c.journal_segment_bytes));
  FUZZ_CHECK_KNOWN("hub-journal-size-overflow",
                   static_cast<unsigned __int128>(c.journal_max_bytes) >=
                       2 * static_cast<unsigned __int128>(c.journal_segment_bytes),
                   "journal.max_size %llu < 2 x segment_size %llu",
                   static_cast<unsigned long long>(c.journal_max_bytes),
                   static_cast<unsigned long long>(c.journal_segment_bytes));
  FUZZ_CHECK(c.apply_batch_records >= 1 && c.apply_batch_records <= 1'000'000, "batch_records");
  FUZZ_CHECK(c.poll_interval_ms >= 1 && c.shutdown_timeout_ms >= 0 && c.record_budget_ms >= 1, "apply ranges");
  const RetryPolicy& r = c.sink_retry;
  FUZZ_CHECK(r.max_attempts >= 1 && r.max_attempts <= 1000 && r.initial_backoff_ms >= 1 &&
                 r.max_backoff_ms >= r.initial_backoff_ms && r.jitter >= 0 && r.jitter <= 1,
             "retry policy out of range: %s", describe(c).c_str());
  FUZZ_CHECK(c.admin_listen.find(':') != std::string::npos, "admin.listen '%s'", c.admin_listen.c_str());

  HubConfig again = load_hub_config(file);
  FUZZ_CHECK(describe(again) == describe(c), "loading twice differs");
  return 0;
}
