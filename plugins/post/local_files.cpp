#include "local_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <system_error>

namespace touchpoint::post {
namespace {

[[noreturn]] void sys_fail(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

void fsync_dir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) sys_fail("open " + dir);
  if (::fsync(fd.get()) != 0) sys_fail("fsync " + dir);
}

// rename() without replacing: link() fails with EEXIST, so a name once written is never
// overwritten, also when two instances race.
void rename_new(const std::string& from, const std::string& to) {
  if (::link(from.c_str(), to.c_str()) != 0) sys_fail("link " + from + " -> " + to);
  if (::unlink(from.c_str()) != 0) sys_fail("unlink " + from);
}

}  // namespace

void make_dirs(const std::string& dir) {
  std::string part;
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || (dir[i] == '/' && i > 0)) {
      part = dir.substr(0, i);
      if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) sys_fail("mkdir " + part);
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) sys_fail("stat " + dir);
  if (!S_ISDIR(st.st_mode)) throw std::system_error(ENOTDIR, std::generic_category(), dir);
}

bool file_exists(const std::string& dir, const std::string& name) {
  struct stat st {};
  return ::lstat((dir + "/" + name).c_str(), &st) == 0;
}

void write_atomic(const std::string& dir, const std::string& name, std::string_view content, bool sync) {
  const std::string tmp = dir + "/." + name + ".part";
  const std::string final_path = dir + "/" + name;
  ::unlink(tmp.c_str());  // a leftover of an earlier crash
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) sys_fail("create " + tmp);
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd.get(), p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::unlink(tmp.c_str());
      throw std::system_error(e, std::generic_category(), "write " + tmp);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (sync && ::fsync(fd.get()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw std::system_error(e, std::generic_category(), "fsync " + tmp);
  }
  if (::close(fd.release()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw std::system_error(e, std::generic_category(), "close " + tmp);
  }
  try {
    rename_new(tmp, final_path);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  if (sync) fsync_dir(dir);
}

std::vector<std::string> list_files(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) sys_fail("opendir " + dir);
  std::vector<std::string> out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::lstat((dir + "/" + name).c_str(), &st) == 0 && S_ISREG(st.st_mode)) out.push_back(std::move(name));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool read_file(const std::string& path, uint64_t max, std::string& out, std::string& error, bool& too_large) {
  too_large = false;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) {
    error = "open " + path + ": " + std::generic_category().message(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    error = path + " is not a regular file";
    return false;
  }
  if (static_cast<uint64_t>(st.st_size) > max) {
    too_large = true;
    error =
        "file of " + std::to_string(st.st_size) + " bytes is larger than max_file_bytes (" + std::to_string(max) + ")";
    return false;
  }
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "read " + path + ": " + std::generic_category().message(errno);
      return false;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return true;
}

std::string move_to_done(const std::string& dir, const std::string& name) {
  const std::string done = dir + "/done";
  make_dirs(done);
  std::string target = done + "/" + name;
  if (::access(target.c_str(), F_OK) == 0) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    target += "." + std::to_string(ms);
  }
  rename_new(dir + "/" + name, target);
  fsync_dir(done);
  fsync_dir(dir);
  return target;
}

}  // namespace touchpoint::post
