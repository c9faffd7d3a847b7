#include "file_export.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <stdexcept>

#include "csv.hpp"
#include "encoding.hpp"

namespace touchpoint::callcenter {

namespace {

[[noreturn]] void fail(const std::string& what, int err) {
  throw std::runtime_error("call list: " + what + ": " + std::strerror(err));
}

std::string utc_stamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

void write_all(int fd, const std::string& data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write " + path, errno);
    }
    off += static_cast<size_t>(n);
  }
}

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("open directory " + dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) fail("fsync directory " + dir, err);
}

}  // namespace

std::string render_call_list(const DirTarget& config, const std::vector<const CallEntry*>& entries) {
  std::string out;
  if (config.format == FileFormat::jsonl) {
    for (const CallEntry* e : entries) {
      out += to_json(*e);
      out.push_back('\n');
    }
    return out;
  }
  auto row = [&](auto value_of) {
    for (size_t c = 0; c < config.columns.size(); ++c) {
      if (c > 0) out.push_back(config.delimiter);
      append_csv_field(out, value_of(config.columns[c]), config.delimiter);
    }
    out.append("\r\n");
  };
  if (config.header) row([](const std::string& name) -> std::string_view { return name; });
  for (const CallEntry* e : entries) row([e](const std::string& name) { return e->column(name); });
  return config.encoding == Encoding::latin1 ? utf8_to_latin1(out) : out;
}

std::string FileExporter::write(const std::vector<const CallEntry*>& entries) {
  const std::string content = render_call_list(config_, entries);
  std::error_code ec;
  std::filesystem::create_directories(config_.dir, ec);
  if (ec) throw std::runtime_error("call list: cannot create " + config_.dir + ": " + ec.message());

  const std::string ext = config_.format == FileFormat::csv ? "csv" : "jsonl";
  const std::string stamp = utc_stamp();
  // Unique among the instances of this process (and, by the pid, of others) sharing the directory.
  static std::atomic<uint64_t> temporaries{0};
  const std::string tmp_name = "." + config_.prefix + "-" + stamp + "-" + std::to_string(::getpid()) + "-" +
                               std::to_string(++temporaries) + ".tmp";
  const std::string tmp = config_.dir + "/" + tmp_name;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) fail("create " + tmp, errno);
  try {
    write_all(fd, content, tmp);
    if (::fsync(fd) != 0) fail("fsync " + tmp, errno);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("close " + tmp, err);
  }
  // The sequence makes names unique within a second; RENAME_NOREPLACE keeps a list of an
  // earlier run (or another instance) that took the same name.
  for (int attempt = 0;; ++attempt) {
    char seq[16];
    std::snprintf(seq, sizeof(seq), "%06llu", static_cast<unsigned long long>(++seq_ % 1000000));
    const std::string name = config_.prefix + "-" + stamp + "-" + seq + "." + ext;
    const std::string path = config_.dir + "/" + name;
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) == 0) {
      fsync_dir(config_.dir);
      return name;
    }
    const int err = errno;
    if (err == EEXIST && attempt < 1000) continue;
    ::unlink(tmp.c_str());
    fail("rename to " + path, err);
  }
}

}  // namespace touchpoint::callcenter
