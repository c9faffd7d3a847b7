#include "csv_connector.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "json_util.hpp"

namespace touchpoint::csv {
namespace fs = std::filesystem;

void CsvConnector::Failures::report(uint64_t s, std::string_view why) {
  std::lock_guard<std::mutex> lock(mu);
  if (!seq || s < *seq) {
    seq = s;
    message = std::string(why);
  }
}

CsvConnector::CsvConnector(Host host, std::string_view config_json)
    : Connector(host),
      config_(parse_config(config_json)),
      decoder_(config_.encoding),
      settle_(std::chrono::milliseconds(config_.settle_ms)) {
  for (const auto& [key, dir] : {std::pair{"inbox", &config_.inbox}, std::pair{"done_dir", &config_.done_dir}}) {
    std::error_code ec;
    fs::create_directories(*dir, ec);
    if (ec || !fs::is_directory(*dir))
      throw ConfigError(std::string(key) + ": cannot create directory '" + dir->string() +
                        "': " + (ec ? ec.message() : "not a directory"));
  }
  restore_checkpoint();
}

CsvConnector::~CsvConnector() = default;

void CsvConnector::validate_config(std::string_view config_json) { (void)parse_config(config_json); }

void CsvConnector::restore_checkpoint() {
  const std::string checkpoint = host().checkpoint();
  if (checkpoint.empty()) return;
  std::string error;
  std::optional<Cursor> c = parse_cursor(checkpoint, &error);
  if (!c) {
    host().warn("csv: ignoring unreadable checkpoint: " + error);
    return;
  }
  std::optional<FileInfo> info = stat_file(config_.inbox / c->file);
  if (!info) {
    host().info("csv: checkpoint file " + c->file + " is no longer in the inbox");
    return;
  }
  if (info->size != c->size || info->mtime != c->mtime) {
    host().warn("csv: " + c->file + " changed since the checkpoint (size " + std::to_string(c->size) + " -> " +
                std::to_string(info->size) + "); reading it from the start");
    return;
  }
  if (c->eof) {
    host().info("csv: finishing the interrupted commit of " + c->file);
    if (!finish_file(c->file, c->size, c->mtime, false)) awaiting_[c->file] = Awaiting{0, c->size, c->mtime, true};
    return;
  }
  host().info("csv: resuming " + c->file + " at line " + std::to_string(c->line) + " (byte " +
              std::to_string(c->offset) + ")");
  resume_ = std::move(c);
}

void CsvConnector::rewind_after_failure() {
  uint64_t seq = 0;
  std::string message;
  {
    std::lock_guard<std::mutex> lock(failures_->mu);
    if (!failures_->seq) return;
    seq = *failures_->seq;
    message = std::move(failures_->message);
    failures_->seq.reset();
  }
  // Units emitted before the last rewind are covered by it: it restarted from the last durable
  // cursor, which lies before every unit that was not kept.
  if (seq < epoch_) return;
  host().warn("csv: the host did not keep an emitted unit (" + message +
              "); continuing from the last durable checkpoint");
  pending_.clear();
  current_.reset();
  resume_.reset();
  for (auto it = awaiting_.begin(); it != awaiting_.end();)
    it = it->second.move_failed ? std::next(it) : awaiting_.erase(it);
  epoch_ = next_seq_;
  restore_checkpoint();
}

bool CsvConnector::finish_file(const std::string& name, uint64_t size, int64_t mtime, bool quiet) {
  const fs::path path = config_.inbox / name;
  std::optional<FileInfo> info = stat_file(path);
  if (!info) {
    host().info("csv: " + name + " is no longer in the inbox");
    return true;
  }
  if (info->size != size || info->mtime != mtime) {
    host().warn("csv: " + name + " changed after it was read; it stays in the inbox and is read again");
    return true;
  }
  try {
    fs::path target = move_to_done(path, config_.done_dir);
    host().info("csv: finished " + name + ", moved to " + target.string());
    host().counter_add("csv_files_total", "", 1);
    return true;
  } catch (const std::exception& e) {
    if (!quiet) host().error(std::string("csv: ") + e.what() + " (retrying)");
    return false;
  }
}

void CsvConnector::retry_moves() {
  for (auto it = awaiting_.begin(); it != awaiting_.end();) {
    if (it->second.move_failed && finish_file(it->first, it->second.size, it->second.mtime, true)) {
      it = awaiting_.erase(it);
    } else {
      ++it;
    }
  }
}

bool CsvConnector::busy_with(const std::string& file) const {
  return (current_ && current_->file().name == file) ||
         std::any_of(pending_.begin(), pending_.end(), [&](const Batch& b) { return b.end.file == file; });
}

bool CsvConnector::open_next_file() {
  std::vector<FileInfo> files;
  try {
    files = list_inbox(config_.inbox, config_.pattern);
  } catch (const std::system_error& e) {
    throw RetryableError(std::string("csv: ") + e.what());
  }
  settle_.retain(files);
  if (resume_ && std::none_of(files.begin(), files.end(), [&](const FileInfo& f) { return f.name == resume_->file; }))
    resume_.reset();
  const auto now = SettleTracker::Clock::now();
  const int64_t wall = wall_now_ns();
  for (const FileInfo& f : files) {
    if (awaiting_.count(f.name) != 0) continue;
    if (auto it = unreadable_.find(f.name); it != unreadable_.end()) {
      if (it->second.size == f.size && it->second.mtime == f.mtime) continue;
      unreadable_.erase(it);
    }
    // Files go strictly in name order: a file still being written holds back the ones after it.
    if (!settle_.settled(f, now, wall)) return false;
    ReadPosition from;
    if (resume_ && resume_->file == f.name) {
      if (resume_->size == f.size && resume_->mtime == f.mtime) {
        from = ReadPosition{resume_->offset, resume_->line, resume_->horizon, resume_->strict};
      } else {
        host().warn("csv: " + f.name + " changed since the checkpoint; reading it from the start");
      }
      resume_.reset();
    }
    try {
      current_ = std::make_unique<FileSource>(config_, decoder_, f, from);
    } catch (const std::system_error& e) {
      if (e.code().value() == EAGAIN) return false;  // changed under our feet: let it settle again
      host().error(std::string("csv: ") + e.what() + "; skipping " + f.name + " until it changes");
      unreadable_[f.name] = Stamp{f.size, f.mtime};
      continue;
    }
    const std::string name = display_name(f.name);
    for (const std::string& w : current_->warnings()) host().warn("csv: " + name + ": " + w);
    if (!current_->file_error().empty())
      host().error("csv: " + name + ": " + current_->file_error() + "; the file is rejected");
    const Cursor at = current_->position();
    host().info("csv: reading " + name + " (" + std::to_string(f.size) + " bytes" +
                (from.offset > 0 ? ", resuming at line " + std::to_string(at.line) : std::string()) + ")");
    return true;
  }
  return false;
}

std::deque<Batch> CsvConnector::fallback_units(Batch refused, std::string_view host_message) {
  std::string why(host_message.empty() ? std::string_view("no message") : host_message);
  cut_message(why, kMaxHostMessage);
  const std::string reason = "the hub refused the unit holding this row as permanent: " + why;
  std::string file = display_name(refused.start.file);
  cut_message(file, kMaxRejectLocation - 32);  // room for ":<line>"
  std::vector<Reject> rejects = std::move(refused.unit.rejects);
  for (size_t i = 0; i < refused.unit.records.size(); ++i) {
    std::string raw = std::move(refused.unit.records[i].data);  // built by us: valid UTF-8
    cut_utf8(raw, kMaxRejectRaw);
    const uint64_t line = i < refused.record_lines.size() ? refused.record_lines[i] : refused.start.line;
    rejects.push_back(Reject{std::move(raw), reason, file + ":" + std::to_string(line)});
  }
  // Rejects cost more than the records they replace when those were small: split as needed.
  std::deque<Batch> parts;
  auto part = [&] {
    Batch b;
    b.fallback = true;
    b.start = refused.start;
    b.end = refused.start;  // no cursor: the position moves with the last part only
    return b;
  };
  Batch current = part();
  for (Reject& r : rejects) {
    const size_t cost = unit_cost(r);
    if (!current.unit.rejects.empty() && current.bytes + cost > kMaxBatchBytes) {
      parts.push_back(std::move(current));
      current = part();
    }
    current.bytes += cost;
    current.unit.rejects.push_back(std::move(r));
  }
  current.end = refused.end;
  current.unit.cursor = std::move(refused.unit.cursor);
  current.skipped = refused.skipped;
  parts.push_back(std::move(current));
  return parts;
}

bool CsvConnector::emit_pending() {
  Batch& batch = pending_.front();
  const uint64_t seq = next_seq_;
  std::string error;
  auto failures = failures_;
  tp_status status = host().emit(
      batch.unit,
      [failures, seq](tp_status s, std::string_view message) {
        if (s != TP_OK) failures->report(seq, message.empty() ? "status " + std::to_string(s) : std::string(message));
      },
      &error);
  if (status == TP_STATUS_BACKPRESSURE || status == TP_STATUS_SHUTTING_DOWN) return false;  // kept for the next read()
  if (status == TP_STATUS_PERMANENT && !batch.fallback) {
    // Every limit the hub documents was checked while the unit was built, so this should not
    // happen. If it does, emitting the unit again would fail forever: its records become
    // dead letters carrying the hub's message instead, and the file goes on.
    host().error("csv: the hub refused a unit of " + display_name(batch.end.file) + " (" +
                 std::to_string(batch.unit.records.size()) + " records from line " + std::to_string(batch.start.line) +
                 ") as permanent: " + error + "; its records become dead letters");
    host().counter_add("csv_refused_units_total", "", 1);
    std::deque<Batch> parts = fallback_units(std::move(batch), error);
    pending_.pop_front();
    pending_.insert(pending_.begin(), std::make_move_iterator(parts.begin()), std::make_move_iterator(parts.end()));
    return emit_pending();
  }
  // Kept for the next read() after the poll interval, so this does not spin either.
  if (status != TP_OK)
    throw Error(status, "csv: the host refused a unit of " + display_name(batch.end.file) + ": " + error);
  ++next_seq_;
  if (!batch.unit.records.empty())
    host().counter_add("csv_rows_total", "", static_cast<double>(batch.unit.records.size()));
  if (!batch.unit.rejects.empty())
    host().counter_add("csv_rejects_total", "", static_cast<double>(batch.unit.rejects.size()));
  if (batch.end.eof && !batch.unit.cursor.empty())
    awaiting_[batch.end.file] = Awaiting{seq, batch.end.size, batch.end.mtime};
  pending_.pop_front();
  return true;
}

void CsvConnector::read() {
  rewind_after_failure();
  retry_moves();
  if (!pending_.empty()) {
    emit_pending();
    return;
  }
  for (;;) {
    if (!current_ && !open_next_file()) return;
    try {
      pending_.push_back(current_->next_batch(config_.batch_rows));
    } catch (const std::system_error& e) {
      const FileInfo& f = current_->file();
      host().error(std::string("csv: ") + e.what() + "; skipping " + display_name(f.name) + " until it changes");
      unreadable_[f.name] = Stamp{f.size, f.mtime};
      current_.reset();
      continue;
    }
    if (pending_.back().end.eof) current_.reset();
    emit_pending();
    return;
  }
}

void CsvConnector::commit(std::string_view cursor) {
  std::string error;
  std::optional<Cursor> c = parse_cursor(cursor, &error);
  if (!c) throw PermanentError("csv: commit with a malformed cursor: " + error);
  if (!c->eof) return;
  // Being read again after a rewind: the new eof unit will be committed later.
  if (busy_with(c->file)) return;
  if (finish_file(c->file, c->size, c->mtime, false)) {
    awaiting_.erase(c->file);
  } else {
    auto [it, fresh] = awaiting_.try_emplace(c->file, Awaiting{0, c->size, c->mtime});
    it->second.move_failed = true;
  }
}

std::string CsvConnector::field_of(const std::string& column) const {
  for (const ColumnMapping& m : config_.columns) {
    if (m.column != column) continue;
    std::string path;
    for (const std::string& segment : m.path) path += (path.empty() ? "" : ".") + segment;
    return path;
  }
  return config_.only_mapped ? std::string() : column;
}

std::string CsvConnector::discover() {
  std::vector<FileInfo> files;
  try {
    files = list_inbox(config_.inbox, config_.pattern);
  } catch (const std::system_error& e) {
    throw RetryableError(std::string("csv: ") + e.what());
  }
  for (const FileInfo& f : files) {
    if (awaiting_.count(f.name) != 0) continue;
    try {
      FileSource source(config_, decoder_, f);
      // "fields" are the record's data paths after the column mapping (what a
      // pipeline's steps see); "columns" is the file's header as it is.
      std::string out = "{\"streams\":[{\"name\":" + json_string(display_name(f.name)) + ",\"fields\":[";
      bool first = true;
      for (const std::string& column : source.columns()) {
        std::string field = field_of(column);
        if (field.empty()) continue;
        if (!first) out += ',';
        first = false;
        append_json_string(out, field);
      }
      out += "],\"columns\":[";
      for (size_t i = 0; i < source.columns().size(); ++i) {
        if (i > 0) out += ',';
        append_json_string(out, source.columns()[i]);
      }
      out += "]";
      if (!source.file_error().empty()) out += ",\"error\":" + json_string(source.file_error());
      out += "}]}";
      return out;
    } catch (const std::system_error&) {
      continue;  // unreadable or changing: look at the next one
    }
  }
  return "{\"streams\":[]}";
}

void CsvConnector::check() {
  std::error_code ec;
  if (!fs::is_directory(config_.inbox, ec))
    throw RetryableError("csv: inbox " + config_.inbox.string() + " is not a directory");
  if (::access(config_.inbox.c_str(), R_OK | W_OK | X_OK) != 0)
    throw RetryableError("csv: inbox " + config_.inbox.string() + ": " + std::strerror(errno));
  fs::create_directories(config_.done_dir, ec);
  if (ec || ::access(config_.done_dir.c_str(), W_OK | X_OK) != 0)
    throw RetryableError("csv: done_dir " + config_.done_dir.string() + " is not writable");
}

void CsvConnector::close() {
  pending_.clear();
  current_.reset();
}

}  // namespace touchpoint::csv

TOUCHPOINT_PLUGIN(touchpoint::csv::CsvConnector, "csv", "0.1.0",
                  "CSV file exchange: imports files dropped into an inbox directory", TP_CAP_SOURCE)
