#include "post_connector.hpp"

#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>
#include <vector>

#include "local_files.hpp"
#include "returns_file.hpp"

namespace touchpoint::post {
namespace {

constexpr size_t kMaxUnitBytes = 32u * 1024u * 1024u;  // half the hub's unit limit

// "20260101T100000123Z" and "2026-01-01T10:00:00.123Z" for the same instant.
void utc_now(std::string& compact, std::string& rfc3339) {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char a[40], b[40];
  std::strftime(a, sizeof(a), "%Y%m%dT%H%M%S", &tm);
  std::strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[8];
  std::snprintf(frac, sizeof(frac), "%03d", static_cast<int>(ms % 1000));
  compact = std::string(a) + frac + "Z";
  rfc3339 = std::string(b) + "." + frac + "Z";
}

size_t unit_bytes(const Record& r) { return r.id.size() + r.type.size() + r.data.size() + r.meta.size() + 64; }
size_t unit_bytes(const Reject& r) { return r.raw.size() + r.reason.size() + r.location.size() + 64; }

}  // namespace

std::string to_json(const ReturnCursor& c) {
  nlohmann::json j = {{"file", c.file}, {"hash", c.hash}, {"line", c.line}, {"eof", c.eof}};
  return j.dump();
}

std::optional<ReturnCursor> parse_return_cursor(std::string_view text) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  ReturnCursor c;
  try {
    c.file = j.at("file").get<std::string>();
    c.hash = j.at("hash").get<std::string>();
    c.line = j.at("line").get<uint64_t>();
    c.eof = j.at("eof").get<bool>();
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (!safe_file_name(c.file)) return std::nullopt;
  return c;
}

PostConnector::PostConnector(Host host, std::string_view config_json)
    : Connector(host), config_(parse_config(config_json)) {
  if (config_.exporter) {
    builder_ = std::make_unique<BatchBuilder>(*config_.exporter);
    if (config_.exporter->target.sftp) export_sftp_ = std::make_unique<SftpClient>(*config_.exporter->target.sftp);
  }
  if (config_.returns) {
    if (config_.returns->from.sftp) {
      returns_sftp_ = std::make_unique<SftpClient>(*config_.returns->from.sftp);
    } else {
      // Like the export directory: an inbox nobody has used yet is empty, not an error.
      std::error_code ec;
      std::filesystem::create_directories(config_.returns->from.dir, ec);
    }
    resume_ = parse_return_cursor(this->host().checkpoint());
    // A file whose last unit was durable before a restart only waits for its move.
    if (resume_ && resume_->eof) to_move_.insert(resume_->file);
  }
}

PostConnector::~PostConnector() = default;

void PostConnector::validate_config(std::string_view config_json) { (void)parse_config(config_json); }

void PostConnector::check() {
  try {
    if (config_.exporter) {
      if (export_sftp_) {
        export_sftp_->probe();
      } else {
        make_dirs(config_.exporter->target.dir);
        if (::access(config_.exporter->target.dir.c_str(), W_OK) != 0)
          throw RetryableError("post: target.dir " + config_.exporter->target.dir + " is not writable");
      }
    }
    if (config_.returns) {
      if (returns_sftp_) {
        returns_sftp_->probe();
      } else {
        (void)list_files(config_.returns->from.dir);
      }
    }
  } catch (const SftpError& e) {
    throw RetryableError(std::string("post: ") + e.what());
  } catch (const std::system_error& e) {
    throw RetryableError(std::string("post: ") + e.what());
  }
}

std::string PostConnector::discover() {
  return R"({"streams":[{"name":"returns","type":"response","fields":["contact_id","channel","kind","at",)"
         R"("detail.reason","detail.code","detail.new_address"]}]})";
}

// ------------------------------------------------------------------------------------ sink

std::string PostConnector::next_file_name(const std::string& stamp) {
  for (;;) {
    char seq[24];
    std::snprintf(seq, sizeof(seq), "%06llu", static_cast<unsigned long long>(++seq_));
    std::string name = config_.exporter->prefix + "-" + stamp + "-" + seq + "." + std::string(builder_->extension());
    // A name is never reused: a restart within the same millisecond starts seq at 1 again.
    if (export_sftp_ || !file_exists(config_.exporter->target.dir, name)) return name;
  }
}

void PostConnector::deliver(const BatchFile& file) {
  // The data file first, the manifest after it: a manifest always describes a complete file.
  if (export_sftp_) {
    export_sftp_->upload(file.name, file.content);
    export_sftp_->upload(file.manifest_name, file.manifest);
    return;
  }
  const std::string& dir = config_.exporter->target.dir;
  make_dirs(dir);
  write_atomic(dir, file.name, file.content, config_.exporter->fsync);
  write_atomic(dir, file.manifest_name, file.manifest, config_.exporter->fsync);
}

void PostConnector::write(RecordSpan batch, Outcomes& outcomes) {
  if (!config_.exporter) throw UnsupportedError("post: this instance has no \"target\"; it is not a sink");
  std::string stamp, created;
  utc_now(stamp, created);
  builder_->begin(next_file_name(stamp));
  std::vector<uint64_t> rows(batch.size(), 0);
  size_t permanent = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const RecordView& r = batch[i];
    std::string error;
    rows[i] = builder_->add(r.id, r.key, r.data, r.meta, error);
    if (rows[i] == 0) {
      outcomes.permanent(i, "post: " + error);
      ++permanent;
    }
  }
  if (permanent > 0) host().counter_add("post_letters_rejected_total", "", static_cast<double>(permanent));
  if (permanent == batch.size()) return;
  const BatchFile file = builder_->finish(created);
  try {
    deliver(file);
  } catch (const std::exception& e) {
    const std::string why = std::string("post: batch not delivered: ") + e.what();
    host().warn(why);
    for (size_t i = 0; i < batch.size(); ++i)
      if (rows[i] != 0) outcomes.retryable(i, why);
    return;
  }
  const std::string prefix = file.name + ":";
  for (size_t i = 0; i < batch.size(); ++i)
    if (rows[i] != 0) outcomes.sent(i, prefix + std::to_string(rows[i]));
  host().counter_add("post_letters_total", "", static_cast<double>(file.rows));
  host().counter_add("post_files_total", "", 1);
  host().info("post: wrote " + file.name + " (" + std::to_string(file.rows) + " letters)");
}

// ---------------------------------------------------------------------------------- source

void PostConnector::rewind_if_failed() {
  uint64_t seq = 0;
  std::string message;
  {
    std::lock_guard<std::mutex> lock(failures_->mu);
    if (!failures_->seq) return;
    seq = *failures_->seq;
    message = std::move(failures_->message);
    failures_->seq.reset();
  }
  if (seq < epoch_) return;  // covered by an earlier rewind
  host().warn("post: the host did not keep an emitted unit (" + message + "); continuing from the checkpoint");
  pending_.clear();
  awaiting_.clear();
  resume_ = parse_return_cursor(host().checkpoint());
  if (resume_ && resume_->eof) to_move_.insert(resume_->file);
  epoch_ = next_seq_;
}

void PostConnector::move_to_done(const std::string& name) {
  if (returns_sftp_) {
    returns_sftp_->move_to_done(name);
  } else if (file_exists(config_.returns->from.dir, name)) {
    (void)post::move_to_done(config_.returns->from.dir, name);
  }
  host().info("post: return file " + name + " done");
  host().counter_add("post_return_files_total", "", 1);
}

void PostConnector::retry_moves() {
  if (to_move_.empty()) return;
  std::set<std::string> present;
  try {
    if (returns_sftp_) {
      for (const RemoteFile& f : returns_sftp_->list()) present.insert(f.name);
    } else {
      for (std::string& n : list_files(config_.returns->from.dir)) present.insert(std::move(n));
    }
  } catch (const std::exception&) {
    return;  // the listing in queue_next_file reports the problem
  }
  for (auto it = to_move_.begin(); it != to_move_.end();) {
    if (present.count(*it) == 0) {
      it = to_move_.erase(it);
      continue;
    }
    try {
      move_to_done(*it);
      it = to_move_.erase(it);
    } catch (const std::exception& e) {
      host().warn(std::string("post: cannot move return file to done/ yet: ") + e.what());
      ++it;
    }
  }
}

void PostConnector::queue_file_reject(const std::string& name, const std::string& why, bool finish) {
  EmitUnit unit;
  unit.rejects.push_back(file_reject(name, "", why));
  if (finish) {
    unit.cursor = to_json(ReturnCursor{name, "", 0, true});
    awaiting_.insert(name);
  }
  pending_.push_back(std::move(unit));
}

void PostConnector::queue_file(const std::string& name, std::string_view bytes) {
  ParsedReturnFile parsed = parse_return_file(*config_.returns, name, bytes);
  uint64_t skip_to = 0;
  if (resume_ && resume_->file == name) {
    if (resume_->hash == parsed.hash) skip_to = resume_->line;
    resume_.reset();
  }
  EmitUnit unit;
  size_t bytes_in_unit = 0;
  uint64_t last_line = skip_to;
  size_t records = 0, rejects = 0;
  auto flush = [&](bool eof) {
    unit.cursor = to_json(ReturnCursor{name, parsed.hash, last_line, eof});
    pending_.push_back(std::move(unit));
    unit = EmitUnit{};
    bytes_in_unit = 0;
  };
  for (ReturnItem& it : parsed.items) {
    if (it.line != 0 && it.line <= skip_to) continue;
    const size_t b = it.is_record ? unit_bytes(it.record) : unit_bytes(it.reject);
    if (!unit.records.empty() || !unit.rejects.empty()) {
      if (unit.records.size() + unit.rejects.size() >= config_.returns->batch_rows || bytes_in_unit + b > kMaxUnitBytes)
        flush(false);
    }
    if (it.is_record) {
      unit.records.push_back(std::move(it.record));
      ++records;
    } else {
      unit.rejects.push_back(std::move(it.reject));
      ++rejects;
    }
    bytes_in_unit += b;
    last_line = std::max(last_line, it.line);
  }
  flush(true);
  awaiting_.insert(name);
  host().info("post: return file " + name + ": " + std::to_string(records) + " returns, " + std::to_string(rejects) +
              " rejected rows");
}

bool PostConnector::queue_next_file() {
  const ReturnsConfig& rc = *config_.returns;
  std::vector<RemoteFile> files;
  try {
    if (returns_sftp_) {
      files = returns_sftp_->list();
    } else {
      for (std::string& n : list_files(rc.from.dir)) files.push_back(RemoteFile{std::move(n), 0});
    }
  } catch (const std::exception& e) {
    throw RetryableError(std::string("post: cannot list the return files: ") + e.what());
  }
  std::sort(files.begin(), files.end(), [](const RemoteFile& a, const RemoteFile& b) { return a.name < b.name; });
  for (const RemoteFile& f : files) {
    if (f.name.empty() || f.name[0] == '.') continue;  // hidden, or an upload in progress
    if (awaiting_.count(f.name) != 0 || to_move_.count(f.name) != 0) continue;
    if (!safe_file_name(f.name)) {
      // Never used in a path or command; reported once per run, and the file stays.
      if (refused_names_.insert(f.name).second)
        queue_file_reject(f.name, "unsafe return file name (allowed: A-Z a-z 0-9 . _ + -); the file was not read",
                          false);
      if (!pending_.empty()) return true;
      continue;
    }
    if (::fnmatch(rc.pattern.c_str(), f.name.c_str(), FNM_CASEFOLD) != 0) continue;
    if (f.size > rc.max_file_bytes) {
      queue_file_reject(f.name,
                        "file of " + std::to_string(f.size) + " bytes is larger than max_file_bytes (" +
                            std::to_string(rc.max_file_bytes) + "); not read",
                        true);
      return true;
    }
    std::string bytes;
    if (returns_sftp_) {
      try {
        if (!returns_sftp_->download(f.name, rc.max_file_bytes, bytes)) {
          queue_file_reject(f.name, "file is larger than max_file_bytes; not read", true);
          return true;
        }
      } catch (const SftpError& e) {
        throw RetryableError(std::string("post: ") + e.what());
      }
    } else {
      std::string error;
      bool too_large = false;
      if (!read_file(rc.from.dir + "/" + f.name, rc.max_file_bytes, bytes, error, too_large)) {
        if (!too_large) throw RetryableError("post: " + error);
        queue_file_reject(f.name, error + "; not read", true);
        return true;
      }
    }
    queue_file(f.name, bytes);
    return true;
  }
  return false;
}

void PostConnector::read() {
  if (!config_.returns) throw UnsupportedError("post: this instance has no \"returns\"; it is not a source");
  rewind_if_failed();
  retry_moves();
  if (pending_.empty() && !queue_next_file()) return;
  EmitUnit& unit = pending_.front();
  const uint64_t seq = next_seq_;
  std::shared_ptr<Failures> failures = failures_;
  std::string refusal;
  const tp_status st = host().emit(
      unit,
      [failures, seq](tp_status status, std::string_view message) {
        if (status == TP_OK) return;
        std::lock_guard<std::mutex> lock(failures->mu);
        if (!failures->seq || seq < *failures->seq) {
          failures->seq = seq;
          failures->message = std::string(message);
        }
      },
      &refusal);
  if (st == TP_OK) {
    ++next_seq_;
    pending_.pop_front();
    return;
  }
  if (st == TP_STATUS_PERMANENT && !unit.records.empty()) {
    // The host refuses these records for good: keep them as rejects with its reason.
    for (Record& r : unit.records)
      unit.rejects.push_back(Reject{printable(r.data, 64 * 1024), "the hub refused the record: " + refusal, r.id});
    unit.records.clear();
    return;
  }
  throw RetryableError("post: the host did not accept a unit: " + refusal);
}

void PostConnector::commit(std::string_view cursor) {
  std::optional<ReturnCursor> c = parse_return_cursor(cursor);
  if (!c || !c->eof) return;
  awaiting_.erase(c->file);
  try {
    move_to_done(c->file);
  } catch (const std::exception& e) {
    host().warn(std::string("post: cannot move return file to done/ (will retry): ") + e.what());
    to_move_.insert(c->file);
  }
}

}  // namespace touchpoint::post

TOUCHPOINT_PLUGIN(touchpoint::post::PostConnector, "post", "1.0.0",
                  "Postal letters: letter-shop batch export (CSV/JSONL + manifest, directory or SFTP) and return files",
                  TP_CAP_SOURCE | TP_CAP_SINK)
