#include "jsonl_connector.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <utility>

namespace jsonl {
namespace {

using json = nlohmann::json;
using touchpoint::ConfigError;
using touchpoint::EmitUnit;
using touchpoint::Error;
using touchpoint::Record;
using touchpoint::Reject;
using touchpoint::RetryableError;

// The hub refuses a whole unit when one record breaks its limits, so lines
// that would break them are turned into rejects here instead.
constexpr size_t kMaxLineBytes = size_t{16} << 20;
constexpr size_t kMaxIdBytes = 256;
constexpr size_t kMaxKeyBytes = 1024;
constexpr size_t kMaxRejectRaw = 4096;
constexpr size_t kReadChunk = size_t{1} << 20;

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

bool valid_type(std::string_view t) {
  if (t.size() > 64) return false;
  for (char c : t)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

// A string or integer member as text; nullopt when absent/null, throws on other types.
std::optional<std::string> scalar_text(const json& obj, const std::string& name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();
  throw std::invalid_argument("'" + name + "' must be a string or an integer");
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Reads up to `max` bytes at `offset`; fewer only at end of file.
std::string pread_some(int fd, uint64_t offset, size_t max) {
  std::string buf(max, '\0');
  size_t got = 0;
  while (got < max) {
    ssize_t n = ::pread(fd, buf.data() + got, max - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw RetryableError(errno_text("jsonl: read"));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  buf.resize(got);
  return buf;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw RetryableError(errno_text("jsonl: write"));
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

// ------------------------------------------------------------------ cursor

std::string to_cursor(const Position& p) {
  return json{{"inode", p.inode}, {"offset", p.offset}, {"line", p.line}}.dump();
}

std::optional<Position> parse_cursor(std::string_view cursor) {
  json j = json::parse(cursor, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  Position p;
  for (auto [name, field] :
       {std::pair{"inode", &p.inode}, std::pair{"offset", &p.offset}, std::pair{"line", &p.line}}) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
    *field = it->get<uint64_t>();
  }
  if (p.line == 0) return std::nullopt;
  return p;
}

// --------------------------------------------------------------- lifecycle

JsonlConnector::JsonlConnector(touchpoint::Host host, std::string_view config_json)
    : Connector(host), config_(parse_config(config_json)) {
  // The hub passes the cursor of the last unit it made durable; resume there.
  const std::string checkpoint = this->host().checkpoint();
  if (!checkpoint.empty()) {
    if (auto p = parse_cursor(checkpoint)) {
      next_ = committed_ = *p;
      this->host().info("jsonl: resuming " + config_.path + " at line " + std::to_string(p->line));
    } else {
      this->host().warn("jsonl: ignoring unreadable checkpoint " + checkpoint);
    }
  }
}

JsonlConnector::~JsonlConnector() { close(); }

void JsonlConnector::validate_config(std::string_view config_json) { (void)parse_config(config_json); }

void JsonlConnector::close() {
  if (out_fd_ >= 0) ::close(out_fd_);
  out_fd_ = -1;
}

void JsonlConnector::check() {
  const std::filesystem::path dir = std::filesystem::absolute(config_.path).parent_path();
  if (::access(dir.c_str(), R_OK | X_OK) != 0) throw RetryableError(errno_text("jsonl: directory " + dir.string()));
}

std::string JsonlConnector::discover() {
  // A JSONL file has no schema; report the one stream and the envelope fields.
  return json{{"streams",
               {{{"name", std::filesystem::path(config_.path).filename().string()},
                 {"path", config_.path},
                 {"fields", {"id", "type", "key", "ts", "data", "meta"}}}}}}
      .dump();
}

// ------------------------------------------------------------------ source

void JsonlConnector::rewind_after_failure() {
  uint64_t seq = 0;
  std::string message;
  {
    std::lock_guard<std::mutex> lock(failures_->mu);
    if (!failures_->seq) return;
    seq = *failures_->seq;
    message = std::move(failures_->message);
    failures_->seq.reset();
  }
  if (seq < epoch_) return;  // already covered by an earlier rewind
  host().warn("jsonl: the hub did not keep a unit (" + message + "); re-reading from line " +
              std::to_string(committed_.line));
  next_ = committed_;
  epoch_ = next_seq_;
}

void JsonlConnector::build_record(std::string_view line, EmitUnit& unit, uint64_t line_no) const {
  auto reject = [&](const std::string& reason) {
    std::string raw(line.substr(0, kMaxRejectRaw));
    unit.rejects.push_back(Reject{std::move(raw), reason, config_.path + ":" + std::to_string(line_no)});
  };
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded()) return reject("not valid JSON");
  if (!j.is_object()) return reject("not a JSON object");
  Record r;
  try {
    auto data = j.find("data");
    if (data != j.end() && data->is_object()) {  // an envelope: {"id":..,"type":..,"data":{..}}
      r.id = scalar_text(j, "id").value_or("");
      r.key = scalar_text(j, "key").value_or("");
      if (auto t = j.find("type"); t != j.end() && !t->is_null()) {
        if (!t->is_string()) return reject("'type' must be a string");
        r.type = t->get<std::string>();
      }
      if (auto ts = j.find("ts"); ts != j.end() && !ts->is_null()) {
        if (!ts->is_number_integer()) return reject("'ts' must be integer milliseconds since the epoch");
        r.ts_ms = ts->get<int64_t>();
      }
      r.data = dump(*data);
      if (auto meta = j.find("meta"); meta != j.end() && !meta->is_null()) {
        if (!meta->is_object()) return reject("'meta' must be an object");
        r.meta = dump(*meta);
      }
    } else {  // a plain object is the record's data
      if (!config_.id_field.empty()) r.id = scalar_text(j, config_.id_field).value_or("");
      if (!config_.key_field.empty()) r.key = scalar_text(j, config_.key_field).value_or("");
      r.type = config_.type;
      r.data = dump(j);
    }
  } catch (const std::exception& e) {
    return reject(e.what());
  }
  if (r.id.size() > kMaxIdBytes) return reject("id longer than 256 bytes");
  if (r.key.size() > kMaxKeyBytes) return reject("key longer than 1024 bytes");
  if (!valid_type(r.type)) return reject("type must be at most 64 characters of a-z, 0-9, '_', '-', '.'");
  unit.records.push_back(std::move(r));
}

void JsonlConnector::read() {
  rewind_after_failure();

  int fd = ::open(config_.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;  // nothing written yet
    throw RetryableError(errno_text("jsonl: open " + config_.path));
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw RetryableError(errno_text("jsonl: stat " + config_.path));
  const auto inode = static_cast<uint64_t>(st.st_ino);
  const auto size = static_cast<uint64_t>(st.st_size);
  if (next_.inode != 0 && next_.inode != inode) {
    host().info("jsonl: " + config_.path + " was replaced; reading the new file from the start");
    next_ = Position{inode, 0, 1};
  } else if (size < next_.offset) {
    host().warn("jsonl: " + config_.path + " shrank; reading it from the start");
    next_ = Position{inode, 0, 1};
  }
  next_.inode = inode;
  if (size == next_.offset) return;

  // Collect up to batch_lines complete lines. A trailing line without '\n'
  // is still being written: it is left for a later read().
  EmitUnit unit;
  Position end = next_;
  std::string buf = pread_some(fd, end.offset, static_cast<size_t>(std::min<uint64_t>(size - end.offset, kReadChunk)));
  size_t pos = 0;
  size_t lines = 0;
  while (lines < config_.batch_lines) {
    const size_t nl = buf.find('\n', pos);
    if (nl == std::string::npos) {
      // buf[pos..] is the start of a line whose end is not in the buffer yet.
      const size_t partial = buf.size() - pos;
      const uint64_t unread = size - end.offset - partial;
      if (partial >= kMaxLineBytes) {  // more than the hub accepts: reject this part, move on
        unit.rejects.push_back(Reject{buf.substr(pos, kMaxRejectRaw), "line longer than 16 MiB (cut here)",
                                      config_.path + ":" + std::to_string(end.line)});
        end.offset += partial;
        buf.clear();
        pos = 0;
        ++lines;
        continue;
      }
      if (unread == 0) break;  // the last line is still being written: leave it for later
      if (lines > 0) break;    // the next unit starts with this line
      buf.erase(0, pos);
      pos = 0;
      std::string more =
          pread_some(fd, end.offset + buf.size(), static_cast<size_t>(std::min<uint64_t>(unread, kReadChunk)));
      if (more.empty()) break;  // the file shrank under us; noticed on the next read()
      buf += more;
      continue;
    }
    std::string_view line(buf.data() + pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) build_record(line, unit, end.line);
    end.offset += nl + 1 - pos;
    end.line += 1;
    pos = nl + 1;
    ++lines;
  }
  if (end.offset == next_.offset) return;

  unit.cursor = to_cursor(end);
  const uint64_t seq = next_seq_;
  std::string error;
  auto failures = failures_;
  tp_status status = host().emit(
      unit,
      [failures, seq](tp_status s, std::string_view message) {
        if (s == TP_OK) return;
        std::lock_guard<std::mutex> lock(failures->mu);
        if (!failures->seq || seq < *failures->seq) {
          failures->seq = seq;
          failures->message = message.empty() ? "status " + std::to_string(s) : std::string(message);
        }
      },
      &error);
  if (status == TP_STATUS_BACKPRESSURE || status == TP_STATUS_SHUTTING_DOWN) return;  // same lines next time
  if (status != TP_OK) throw Error(status, "jsonl: the hub refused a unit: " + error);
  ++next_seq_;
  next_ = end;
  host().counter_add("jsonl_lines_total", "", static_cast<double>(unit.records.size() + unit.rejects.size()));
}

void JsonlConnector::commit(std::string_view cursor) {
  // A file tail has nothing to acknowledge upstream (a queue consumer would
  // ack its messages here). Remember the durable position for rewinds.
  auto p = parse_cursor(cursor);
  if (!p) throw touchpoint::PermanentError("jsonl: malformed cursor " + std::string(cursor));
  committed_ = *p;
}

// -------------------------------------------------------------------- sink

void JsonlConnector::write(touchpoint::RecordSpan batch, touchpoint::Outcomes& outcomes) {
  if (out_fd_ < 0) {
    std::error_code ec;  // a missing directory is created; other problems show up in open()
    std::filesystem::create_directories(std::filesystem::absolute(config_.path).parent_path(), ec);
    out_fd_ = ::open(config_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (out_fd_ < 0) throw RetryableError(errno_text("jsonl: open " + config_.path));
  }
  std::string lines;
  for (size_t i = 0; i < batch.size(); ++i) {
    const touchpoint::RecordView& r = batch[i];
    json data = json::parse(r.data, nullptr, false);
    if (!data.is_object()) {
      outcomes.permanent(i, "data is not a JSON object");  // retrying cannot help
      continue;
    }
    json meta = r.meta.empty() ? json::object() : json::parse(r.meta, nullptr, false);
    if (meta.is_discarded()) meta = json::object();
    json line{{"id", r.id},    {"type", r.type}, {"key", r.key}, {"source", r.source},
              {"ts", r.ts_ms}, {"data", data},   {"meta", meta}};
    lines += dump(line);
    lines += '\n';
  }
  // One append per batch. A failure part-way may leave some lines written;
  // the hub then retries the batch (at-least-once: readers dedupe by "id").
  write_all(out_fd_, lines);
  if (config_.fsync && ::fsync(out_fd_) != 0) throw RetryableError(errno_text("jsonl: fsync " + config_.path));
  host().counter_add("jsonl_written_total", "", static_cast<double>(batch.size()));
}

}  // namespace jsonl

// The plugin's one exported symbol. The name must match the file name the hub
// looks for: pipelines say `plugin: jsonl`, the hub loads libtp_jsonl.so.
TOUCHPOINT_PLUGIN(jsonl::JsonlConnector, "jsonl", "0.1.0",
                  "JSON Lines files: tail one as a source, append to one as a sink", TP_CAP_SOURCE | TP_CAP_SINK)
