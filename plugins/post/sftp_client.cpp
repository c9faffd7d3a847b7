#include "sftp_client.hpp"

#include <curl/curl.h>

#include <chrono>
#include <cstring>
#include <mutex>

namespace touchpoint::post {
namespace {

CURL* handle(void* p) { return static_cast<CURL*>(p); }

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Slist {
  curl_slist* list = nullptr;
  ~Slist() { curl_slist_free_all(list); }
  void add(const std::string& s) {
    curl_slist* n = curl_slist_append(list, s.c_str());
    if (n == nullptr) throw std::bad_alloc();
    list = n;
  }
};

struct Reader {
  std::string_view data;
  size_t pos = 0;
};

size_t read_cb(char* buf, size_t size, size_t n, void* user) {
  auto* r = static_cast<Reader*>(user);
  const size_t len = std::min(size * n, r->data.size() - r->pos);
  std::memcpy(buf, r->data.data() + r->pos, len);
  r->pos += len;
  return len;
}

struct Sink {
  std::string* out;
  uint64_t max;
  bool too_large = false;
};

size_t write_cb(char* buf, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  const size_t len = size * n;
  if (s->out->size() + len > s->max) {
    s->too_large = true;
    return 0;  // aborts the transfer
  }
  s->out->append(buf, len);
  return len;
}

int key_cb(CURL*, const curl_khkey*, const curl_khkey*, curl_khmatch match, void* user) {
  auto* problem = static_cast<std::string*>(user);
  if (match == CURLKHMATCH_OK) return CURLKHSTAT_FINE;
  *problem = match == CURLKHMATCH_MISMATCH
                 ? "the server's host key does not match known_hosts (possible man-in-the-middle); nothing was sent"
                 : "the server is not in known_hosts; add its host key (ssh-keyscan) to trust it";
  return CURLKHSTAT_REJECT;
}

}  // namespace

SftpClient::SftpClient(const SftpConfig& config) : config_(config) {
  global_init();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw SftpError("curl_easy_init failed");
}

SftpClient::~SftpClient() { curl_easy_cleanup(handle(curl_)); }

void SftpClient::reset_handle() {
  CURL* h = handle(curl_);
  curl_easy_reset(h);  // keeps the connection cache
  hostkey_problem_.clear();
  error_[0] = '\0';
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "sftp");
  curl_easy_setopt(h, CURLOPT_USERNAME, config_.username.c_str());
  curl_easy_setopt(h, CURLOPT_SSH_AUTH_TYPES, static_cast<long>(CURLSSH_AUTH_PUBLICKEY));
  curl_easy_setopt(h, CURLOPT_SSH_PRIVATE_KEYFILE, config_.private_key_file.c_str());
  if (!config_.public_key_file.empty())
    curl_easy_setopt(h, CURLOPT_SSH_PUBLIC_KEYFILE, config_.public_key_file.c_str());
  if (!config_.passphrase.empty()) curl_easy_setopt(h, CURLOPT_KEYPASSWD, config_.passphrase.c_str());
  curl_easy_setopt(h, CURLOPT_SSH_KNOWNHOSTS, config_.known_hosts.c_str());
  curl_easy_setopt(h, CURLOPT_SSH_KEYFUNCTION, &key_cb);
  curl_easy_setopt(h, CURLOPT_SSH_KEYDATA, &hostkey_problem_);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.timeout_ms));
  // A stalled transfer fails after timeout_ms without progress; a large one may take longer.
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>(config_.timeout_ms / 1000)));
  curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, std::max(1L, static_cast<long>(config_.timeout_ms / 1000)));
  if (config_.max_send_bytes_per_s > 0)
    curl_easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE, static_cast<curl_off_t>(config_.max_send_bytes_per_s));
}

void SftpClient::perform(const std::string& what) {
  const CURLcode rc = curl_easy_perform(handle(curl_));
  if (rc == CURLE_OK) return;
  std::string msg = "sftp " + config_.host + ": " + what + " failed: ";
  if (!hostkey_problem_.empty()) {
    msg += hostkey_problem_;
  } else {
    msg += curl_easy_strerror(rc);
    if (error_[0] != '\0') msg += std::string(" (") + error_ + ")";
  }
  throw SftpError(msg);
}

void SftpClient::upload(const std::string& name, std::string_view content) {
  reset_handle();
  CURL* h = handle(curl_);
  const std::string tmp = "." + name + ".part";
  const std::string url = config_.host + config_.path + tmp;
  Reader reader{content, 0};
  Slist post;
  post.add("rename " + config_.path + tmp + " " + config_.path + name);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, &read_cb);
  curl_easy_setopt(h, CURLOPT_READDATA, &reader);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(content.size()));
  curl_easy_setopt(h, CURLOPT_FTP_CREATE_MISSING_DIRS, static_cast<long>(CURLFTP_CREATE_DIR));
  curl_easy_setopt(h, CURLOPT_POSTQUOTE, post.list);
  perform("upload of " + name);
}

void SftpClient::probe() { (void)list(); }

std::vector<RemoteFile> SftpClient::list() {
  reset_handle();
  CURL* h = handle(curl_);
  const std::string url = config_.host + config_.path;
  std::string body;
  Sink sink{&body, 64u * 1024u * 1024u};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &write_cb);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  perform("listing of " + config_.path);
  // libcurl passes on the server's "ls -l" lines: mode, links, owner, group, size, three
  // date fields, one blank, the name. Only regular files ('-') are returned.
  std::vector<RemoteFile> out;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string::npos) end = body.size();
    std::string_view line(body.data() + start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] != '-') continue;
    size_t pos = 0;
    std::string_view size_field;
    bool ok = true;
    for (int field = 0; field < 8 && ok; ++field) {
      while (pos < line.size() && line[pos] == ' ') ++pos;
      const size_t f = pos;
      while (pos < line.size() && line[pos] != ' ') ++pos;
      if (pos == f) ok = false;
      if (field == 4) size_field = line.substr(f, pos - f);
    }
    if (!ok || pos >= line.size()) continue;
    RemoteFile rf;
    rf.name = std::string(line.substr(pos + 1));
    for (char c : size_field) {
      if (c < '0' || c > '9') {
        ok = false;
        break;
      }
      rf.size = rf.size * 10 + static_cast<uint64_t>(c - '0');
    }
    if (ok && !rf.name.empty()) out.push_back(std::move(rf));
  }
  return out;
}

bool SftpClient::download(const std::string& name, uint64_t max, std::string& out) {
  reset_handle();
  CURL* h = handle(curl_);
  const std::string url = config_.host + config_.path + name;
  out.clear();
  Sink sink{&out, max};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &write_cb);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  try {
    perform("download of " + name);
  } catch (const SftpError&) {
    if (sink.too_large) return false;
    throw;
  }
  return true;
}

void SftpClient::move_to_done(const std::string& name) {
  auto attempt = [&](const std::string& target) {
    reset_handle();
    CURL* h = handle(curl_);
    const std::string url = config_.host + config_.path;
    Slist quote;
    quote.add("*mkdir " + config_.path + "done");  // '*': an existing done/ is fine
    quote.add("rename " + config_.path + name + " " + config_.path + "done/" + target);
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_QUOTE, quote.list);
    perform("move of " + name + " to done/");
  };
  try {
    attempt(name);
  } catch (const SftpError&) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    attempt(name + "." + std::to_string(ms));
  }
}

}  // namespace touchpoint::post
