#include "maildir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <touchpoint/plugin.hpp>
#include <utility>
#include <vector>

namespace tp_email::intake {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kCursorTag = "maildir:1";

bool plain_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ',' || c == ':' || c == '=' || c == '-';
}

std::string pct_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (plain_char(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool pct_decode(std::string_view s, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return false;
    const int hi = hex(s[i + 1]);
    const int lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

// A name from a cursor must be one file inside new/ or cur/, nothing else.
bool safe_name(const std::string& name) {
  return !name.empty() && name.front() != '.' && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

bool has_seen_flag(std::string_view name) {
  const std::size_t info = name.rfind(":2,");
  return info != std::string_view::npos && name.substr(info + 3).find('S') != std::string_view::npos;
}

struct Entry {
  std::string sub;  // "new" or "cur"
  std::string name;
  char action = 's';  // 's': processed, to cur/ with S; 'x': oversize, to oversize/
};

std::vector<Entry> parse_cursor(std::string_view cursor) {
  std::vector<Entry> out;
  if (cursor.substr(0, kCursorTag.size()) != kCursorTag) return out;
  std::size_t pos = kCursorTag.size();
  while (pos < cursor.size()) {
    if (cursor[pos] == '\n') ++pos;
    const std::size_t eol = cursor.find('\n', pos);
    std::string_view line = cursor.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? cursor.size() : eol;
    // "s new/NAME"
    if (line.size() < 7 || line[1] != ' ') continue;
    Entry e;
    e.action = line[0];
    const std::size_t slash = line.find('/', 2);
    if (slash == std::string_view::npos) continue;
    e.sub = std::string(line.substr(2, slash - 2));
    if ((e.sub != "new" && e.sub != "cur") || (e.action != 's' && e.action != 'x')) continue;
    if (!pct_decode(line.substr(slash + 1), e.name) || !safe_name(e.name)) continue;
    out.push_back(std::move(e));
  }
  return out;
}

// Reads the file, or only its head when it is over the limit. False when it
// is gone or not a regular file (a symlink is never followed).
bool read_file(const fs::path& path, std::size_t max_bytes, MailItem& item) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return false;
  }
  item.size = static_cast<std::size_t>(st.st_size);
  item.oversize = item.size > max_bytes;
  const std::size_t want = item.oversize ? kMaxRawBytes : item.size;
  item.bytes.resize(want);
  std::size_t got = 0;
  while (got < want) {
    const ssize_t n = ::read(fd, item.bytes.data() + got, want - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  item.bytes.resize(got);
  return true;
}

void rename_or_throw(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) == 0 || errno == ENOENT) return;  // ENOENT: already moved
  throw touchpoint::RetryableError("maildir: cannot move " + from.filename().string() + ": " + std::strerror(errno));
}

}  // namespace

MaildirReader::MaildirReader(fs::path dir, std::size_t max_message_bytes)
    : dir_(std::move(dir)), max_message_bytes_(max_message_bytes) {}

std::string MaildirReader::seen_name(std::string_view name) {
  const std::size_t info = name.rfind(":2,");
  if (info == std::string_view::npos) return std::string(name) + ":2,S";
  std::string flags(name.substr(info + 3));
  if (flags.find('S') == std::string::npos) flags.push_back('S');
  std::sort(flags.begin(), flags.end());  // Maildir wants the flags in ASCII order
  return std::string(name.substr(0, info)) + ":2," + flags;
}

MailBatch MaildirReader::fetch(std::size_t max_items) {
  std::vector<std::pair<std::string, std::string>> candidates;  // (name, sub)
  for (const char* sub : {"new", "cur"}) {
    std::error_code ec;
    fs::directory_iterator it(dir_ / sub, ec);
    if (ec) throw touchpoint::RetryableError("maildir: cannot read " + (dir_ / sub).string() + ": " + ec.message());
    for (const fs::directory_entry& e : it) {
      std::string name = e.path().filename().string();
      if (name.empty() || name.front() == '.') continue;
      if (std::string_view(sub) == "cur" && has_seen_flag(name)) continue;
      if (in_flight_.count(std::string(sub) + "/" + name) != 0) continue;
      candidates.emplace_back(std::move(name), sub);
    }
  }
  std::sort(candidates.begin(), candidates.end());

  MailBatch batch;
  batch.cursor = std::string(kCursorTag);
  std::size_t bytes = 0;
  for (const auto& [name, sub] : candidates) {
    if (batch.items.size() >= max_items || bytes >= kPollByteBudget) break;
    const std::string line = "\n" + std::string(1, 's') + " " + sub + "/" + pct_encode(name);
    if (batch.cursor.size() + line.size() > kMaxCursorBytes) break;
    MailItem item;
    if (!read_file(dir_ / sub / name, max_message_bytes_, item)) continue;
    item.location = "maildir:" + sub + "/" + pct_encode(name);
    batch.cursor += line;
    if (item.oversize) batch.cursor[batch.cursor.size() - line.size() + 1] = 'x';
    bytes += item.bytes.size();
    in_flight_.insert(sub + "/" + name);
    batch.items.push_back(std::move(item));
  }
  return batch;
}

void MaildirReader::commit(std::string_view cursor) {
  for (const Entry& e : parse_cursor(cursor)) {
    const fs::path from = dir_ / e.sub / e.name;
    if (e.action == 'x') {
      std::error_code ec;
      fs::create_directories(dir_ / "oversize", ec);
      rename_or_throw(from, dir_ / "oversize" / e.name);
    } else {
      rename_or_throw(from, dir_ / "cur" / seen_name(e.name));
    }
    in_flight_.erase(e.sub + "/" + e.name);
  }
}

void MaildirReader::release(std::string_view cursor) {
  for (const Entry& e : parse_cursor(cursor)) in_flight_.erase(e.sub + "/" + e.name);
}

}  // namespace tp_email::intake
