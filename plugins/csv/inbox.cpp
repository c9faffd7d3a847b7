#include "inbox.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <system_error>

namespace touchpoint::csv {
namespace fs = std::filesystem;
namespace {

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    char c = s[s.size() - suffix.size() + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suffix[i]) return false;
  }
  return true;
}

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// Renames without replacing an existing target. Returns 0, or the errno value.
int rename_noreplace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  int err = errno;
  if (err != EINVAL && err != ENOSYS) return err;
  // The file system cannot rename without replacing: check, then rename (small race accepted).
  std::error_code ec;
  if (fs::exists(to, ec)) return EEXIST;
  return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

void fsync_path(const fs::path& p) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

// Copies across file systems: to a hidden temporary name, then into place. Returns 0 or errno.
int copy_into_place(const fs::path& from, const fs::path& to) {
  fs::path tmp = to.parent_path() / ("." + to.filename().string() + ".tmp");
  std::error_code ec;
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) throw std::system_error(ec, "copy " + from.string() + " -> " + tmp.string());
  fsync_path(tmp);
  int err = rename_noreplace(tmp, to);
  if (err != 0) {
    fs::remove(tmp, ec);
    return err;
  }
  if (::unlink(from.c_str()) != 0) throw_errno(errno, "remove " + from.string());
  return 0;
}

}  // namespace

bool is_candidate_name(std::string_view name, const std::string& pattern) {
  if (name.empty() || name.front() == '.') return false;
  if (ends_with_ci(name, ".part") || ends_with_ci(name, ".tmp")) return false;
  return ::fnmatch(pattern.c_str(), std::string(name).c_str(), FNM_CASEFOLD) == 0;
}

std::optional<FileInfo> stat_file(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  FileInfo f;
  f.name = path.filename().string();
  f.path = path;
  f.size = static_cast<uint64_t>(st.st_size);
  f.mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + static_cast<int64_t>(st.st_mtim.tv_nsec);
  return f;
}

std::vector<FileInfo> list_inbox(const fs::path& inbox, const std::string& pattern) {
  std::vector<FileInfo> files;
  std::error_code ec;
  fs::directory_iterator it(inbox, ec);
  if (ec) throw std::system_error(ec, "cannot list inbox " + inbox.string());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!is_candidate_name(name, pattern)) continue;
    if (auto info = stat_file(it->path())) files.push_back(std::move(*info));
  }
  if (ec) throw std::system_error(ec, "cannot list inbox " + inbox.string());
  std::sort(files.begin(), files.end(), [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
  return files;
}

bool SettleTracker::settled(const FileInfo& file, Clock::time_point now, int64_t wall_now) {
  auto [it, fresh] = seen_.try_emplace(file.name, Seen{file.size, file.mtime, now});
  if (!fresh && (it->second.size != file.size || it->second.mtime != file.mtime))
    it->second = Seen{file.size, file.mtime, now};
  if (now - it->second.since < settle_) return false;
  const int64_t age_ns = wall_now - file.mtime;
  const int64_t settle_ns = static_cast<int64_t>(settle_.count()) * 1000000;
  return age_ns < 0 || age_ns >= settle_ns;
}

void SettleTracker::retain(const std::vector<FileInfo>& files) {
  for (auto it = seen_.begin(); it != seen_.end();) {
    bool listed = std::any_of(files.begin(), files.end(), [&](const FileInfo& f) { return f.name == it->first; });
    it = listed ? std::next(it) : seen_.erase(it);
  }
}

int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string timestamped_name(std::string_view name, std::chrono::system_clock::time_point when, int attempt) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  std::string suffix = stamp;
  if (attempt > 1) suffix += "-" + std::to_string(attempt);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::string(name) + "." + suffix;
  return std::string(name.substr(0, dot)) + "." + suffix + std::string(name.substr(dot));
}

fs::path move_to_done(const fs::path& file, const fs::path& done_dir) {
  std::error_code ec;
  fs::create_directories(done_dir, ec);
  if (ec) throw std::system_error(ec, "cannot create " + done_dir.string());
  const std::string name = file.filename().string();
  const auto now = std::chrono::system_clock::now();
  for (int attempt = 0; attempt < 1000; ++attempt) {
    fs::path target = done_dir / (attempt == 0 ? name : timestamped_name(name, now, attempt));
    int err = rename_noreplace(file, target);
    if (err == EXDEV) err = copy_into_place(file, target);
    if (err == 0) return target;
    if (err == EEXIST) continue;
    throw_errno(err, "cannot move " + file.string() + " to " + target.string());
  }
  throw_errno(EEXIST, "cannot move " + file.string() + ": no free name in " + done_dir.string());
}

}  // namespace touchpoint::csv
