#include "inbox.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "disposition_file.hpp"
#include "text.hpp"
#include "tp_common/sha256.hpp"

namespace touchpoint::callcenter {

namespace fs = std::filesystem;

namespace {

constexpr size_t kUnitMaxItems = 5000;
constexpr size_t kUnitMaxBytes = 32 * 1024 * 1024;  // half of TP_MAX_UNIT_BYTES
constexpr std::string_view kCursorPrefix = "cc-file:";

bool has_suffix(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::optional<FileFormat> format_of(std::string_view name, const DispositionDir& config) {
  if (name.empty() || name[0] == '.' || has_suffix(name, ".tmp") || has_suffix(name, ".part")) return std::nullopt;
  if (config.format) return config.format;
  if (has_suffix(name, ".csv") || has_suffix(name, ".CSV")) return FileFormat::csv;
  if (has_suffix(name, ".jsonl") || has_suffix(name, ".ndjson")) return FileFormat::jsonl;
  return std::nullopt;
}

// lstat: a symbolic link in the inbox is never followed, so a link to /etc/shadow cannot end up
// in the dead-letter store.
bool stat_regular(const std::string& path, uint64_t& size, int64_t& mtime_ns) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  size = static_cast<uint64_t>(st.st_size);
  mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return true;
}

bool read_file(const std::string& path, uint64_t size, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.resize(size);
  in.read(out.data(), static_cast<std::streamsize>(size));
  out.resize(static_cast<size_t>(in.gcount()));
  return !in.bad();
}

// "a.csv" -> "a.20260301T101500Z.csv" for a name already taken in done/.
std::string stamped(const std::string& name, int attempt) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
  std::string suffix = std::string(".") + stamp + (attempt > 1 ? "-" + std::to_string(attempt) : "");
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return name + suffix;
  return name.substr(0, dot) + suffix + name.substr(dot);
}

}  // namespace

std::string file_cursor(std::string_view sha, size_t unit, size_t of) {
  return std::string(kCursorPrefix) + std::string(sha) + ":" + std::to_string(unit) + "/" + std::to_string(of);
}

namespace {

// sha, unit, of from a cursor of file_cursor(); false for anything else.
bool parse_cursor(std::string_view c, std::string& sha, size_t& unit, size_t& of) {
  if (c.substr(0, kCursorPrefix.size()) != kCursorPrefix) return false;
  c.remove_prefix(kCursorPrefix.size());
  const size_t colon = c.find(':'), slash = c.find('/');
  if (colon == std::string_view::npos || slash == std::string_view::npos || slash < colon) return false;
  sha = std::string(c.substr(0, colon));
  try {
    unit = std::stoul(std::string(c.substr(colon + 1, slash - colon - 1)));
    of = std::stoul(std::string(c.substr(slash + 1)));
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

Inbox::Inbox(DispositionDir config, OutcomeMap outcome_map, Host host, std::string_view checkpoint)
    : config_(std::move(config)), outcome_map_(std::move(outcome_map)), host_(host) {
  std::string sha;
  size_t unit = 0, of = 0;
  if (parse_cursor(checkpoint, sha, unit, of) && unit == of) checkpoint_sha_ = sha;
}

void Inbox::check() const {
  std::error_code ec;
  if (!fs::is_directory(config_.dir, ec))
    throw RetryableError("callcenter: dispositions.dir " + config_.dir + " is not a readable directory");
}

void Inbox::forget_failed() {
  std::set<std::string> shas;
  {
    std::lock_guard<std::mutex> lock(failures_->mu);
    shas.swap(failures_->shas);
  }
  for (const std::string& sha : shas) awaiting_.erase(sha);  // read again from the start
}

bool Inbox::read() {
  forget_failed();
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(config_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (format_of(name, config_)) names.push_back(name);
  }
  if (ec) throw RetryableError("callcenter: cannot list dispositions.dir " + config_.dir + ": " + ec.message());
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (std::any_of(awaiting_.begin(), awaiting_.end(), [&](const auto& a) { return a.second.name == name; })) continue;
    const std::string path = config_.dir + "/" + name;
    uint64_t size = 0;
    int64_t mtime = 0;
    if (!stat_regular(path, size, mtime)) continue;  // a directory, a link, gone meanwhile
    if (auto stuck = unmovable_.find(name); stuck != unmovable_.end()) {
      if (stuck->second == std::make_pair(size, mtime)) continue;
      unmovable_.erase(stuck);
    }
    std::string content;
    if (size <= config_.max_file_bytes && !read_file(path, size, content)) {
      host_.warn("callcenter: cannot read " + escape_invalid_utf8(path, 512) + ": " + std::strerror(errno));
      continue;
    }
    return emit_file(name, content, size, mtime);
  }
  return false;
}

bool Inbox::emit_file(const std::string& name, const std::string& content, uint64_t size, int64_t mtime_ns) {
  const std::string sha = tp_common::sha256_hex(name + '\0' + std::to_string(size) + '\0' + content).substr(0, 32);
  Awaiting file{name, size, mtime_ns, false};
  const std::string location_base = escape_invalid_utf8(config_.dir + "/" + name, 1024);
  if (sha == checkpoint_sha_) {
    // Its last unit was durable before a restart, but the move did not happen.
    checkpoint_sha_.clear();
    finish(file);
    return false;
  }
  ParsedFile parsed;
  if (size > config_.max_file_bytes) {
    parsed.file_error = "file is " + std::to_string(size) + " bytes, more than dispositions.max_file_bytes (" +
                        std::to_string(config_.max_file_bytes) + ")";
  } else {
    parsed = parse_disposition_file(name, content, *format_of(name, config_), config_, outcome_map_);
  }
  std::vector<EmitUnit> units;
  if (!parsed.file_error.empty()) {
    file.failed = true;
    EmitUnit u;
    u.rejects.push_back(Reject{escape_invalid_utf8(content, 64 * 1024),
                               parsed.file_error + "; the file is kept in " + config_.dir + "/failed", location_base});
    units.push_back(std::move(u));
  } else {
    size_t bytes = 0;
    for (FileItem& item : parsed.items) {
      if (units.empty() || bytes > kUnitMaxBytes ||
          units.back().records.size() + units.back().rejects.size() >= kUnitMaxItems) {
        units.emplace_back();
        bytes = 0;
      }
      EmitUnit& u = units.back();
      if (item.ok) {
        bytes += item.data.size() + item.id.size() + 64;
        u.records.push_back(Record{std::move(item.id), "response", "", 0, std::move(item.data), ""});
      } else {
        bytes += item.raw.size() + item.reason.size() + 64;
        u.rejects.push_back(
            Reject{std::move(item.raw), std::move(item.reason), location_base + ":" + std::to_string(item.row)});
      }
    }
    if (units.empty()) units.emplace_back();  // an empty file: one empty unit, so it is moved on commit
  }
  for (size_t k = 0; k < units.size(); ++k) units[k].cursor = file_cursor(sha, k + 1, units.size());

  size_t records = 0, rejects = 0;
  for (size_t k = 0; k < units.size(); ++k) {
    std::string message;
    std::weak_ptr<Failures> failures = failures_;
    const tp_status status = host_.emit(
        units[k],
        [failures, sha](tp_status st, std::string_view) {
          if (st == TP_OK) return;
          if (auto f = failures.lock()) {
            std::lock_guard<std::mutex> lock(f->mu);
            f->shas.insert(sha);
          }
        },
        &message);
    if (status != TP_OK) {
      // Nothing of this unit was kept: the file stays and is read again next time (the units
      // already accepted carry the same ids, so the store keeps one of each).
      host_.warn("callcenter: the hub refused dispositions of " + location_base + " (status " + std::to_string(status) +
                 "): " + message + "; the file stays in place");
      return k > 0;
    }
    records += units[k].records.size();
    rejects += units[k].rejects.size();
  }
  awaiting_[sha] = file;
  host_.counter_add("callcenter_dispositions_total", "source=file", static_cast<double>(records));
  if (rejects > 0)
    host_.counter_add("callcenter_disposition_rejects_total", "source=file", static_cast<double>(rejects));
  host_.info("callcenter: read " + location_base + ": " + std::to_string(records) + " dispositions, " +
             std::to_string(rejects) + " rejected");
  return true;
}

void Inbox::commit(std::string_view cursor) {
  std::string sha;
  size_t unit = 0, of = 0;
  if (!parse_cursor(cursor, sha, unit, of) || unit != of) return;
  auto it = awaiting_.find(sha);
  if (it == awaiting_.end()) return;  // already moved, or failed and forgotten
  const Awaiting file = it->second;
  awaiting_.erase(it);
  finish(file);
}

void Inbox::finish(const Awaiting& file) {
  const std::string src = config_.dir + "/" + file.name;
  uint64_t size = 0;
  int64_t mtime = 0;
  if (!stat_regular(src, size, mtime)) return;  // gone already
  if (size != file.size || mtime != file.mtime_ns) {
    // Rewritten since it was read: leave it, the next read() takes the new content.
    host_.warn("callcenter: " + escape_invalid_utf8(src, 512) + " changed after it was read; reading it again");
    return;
  }
  const std::string dest_dir = file.failed ? config_.dir + "/failed" : config_.done_dir;
  std::error_code ec;
  fs::create_directories(dest_dir, ec);
  if (ec) {
    host_.error("callcenter: cannot create " + dest_dir + ": " + ec.message() + "; " + escape_invalid_utf8(src, 512) +
                " is not read again until it changes");
    unmovable_[file.name] = {file.size, file.mtime_ns};
    return;
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string dest = dest_dir + "/" + (attempt == 0 ? file.name : stamped(file.name, attempt));
    if (::renameat2(AT_FDCWD, src.c_str(), AT_FDCWD, dest.c_str(), RENAME_NOREPLACE) == 0) return;
    if (errno != EEXIST) break;
  }
  host_.error("callcenter: cannot move " + escape_invalid_utf8(src, 512) + " to " + dest_dir + ": " +
              std::strerror(errno) + "; it is not read again until it changes");
  unmovable_[file.name] = {file.size, file.mtime_ns};
}

}  // namespace touchpoint::callcenter
