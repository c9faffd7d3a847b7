#include "imap.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <touchpoint/plugin.hpp>
#include <vector>

namespace tp_email::intake {

namespace {

constexpr std::string_view kCursorTag = "imap:1 ";

struct Sink {
  std::string data;
  std::size_t limit = 0;
  bool truncated = false;
};

size_t on_body(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * nmemb;
  if (sink->data.size() + n > sink->limit) {
    // Keep the head for the reject and stop the download.
    sink->data.append(ptr, std::min(n, sink->limit - sink->data.size()));
    sink->truncated = true;
    return 0;
  }
  sink->data.append(ptr, n);
  return n;
}

std::uint64_t number_after(std::string_view text, std::string_view key) {
  const std::size_t at = text.find(key);
  if (at == std::string_view::npos) return 0;
  std::uint64_t v = 0;
  const char* first = text.data() + at + key.size();
  std::from_chars(first, text.data() + text.size(), v);
  return v;
}

std::vector<std::uint64_t> search_uids(std::string_view text) {
  std::vector<std::uint64_t> uids;
  const std::size_t at = text.find("* SEARCH");
  if (at == std::string_view::npos) return uids;
  std::size_t pos = at + 8;
  const std::size_t eol = std::min(text.find('\n', pos), text.size());
  while (pos < eol) {
    while (pos < eol && text[pos] == ' ') ++pos;
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data() + pos, text.data() + eol, v);
    if (ec != std::errc() || end == text.data() + pos) break;
    uids.push_back(v);
    pos = static_cast<std::size_t>(end - text.data());
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

std::string uid_set(const std::vector<std::uint64_t>& uids) {
  std::string s;
  for (std::uint64_t u : uids) {
    if (!s.empty()) s.push_back(',');
    s += std::to_string(u);
  }
  return s;
}

bool parse_cursor(std::string_view cursor, std::uint64_t& validity, std::vector<std::uint64_t>& uids) {
  if (cursor.substr(0, kCursorTag.size()) != kCursorTag) return false;
  cursor.remove_prefix(kCursorTag.size());
  auto [p, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), validity);
  if (ec != std::errc() || p == cursor.data() + cursor.size() || *p != ' ') return false;
  const char* end = cursor.data() + cursor.size();
  ++p;
  while (p < end) {
    std::uint64_t u = 0;
    auto [q, ec2] = std::from_chars(p, end, u);
    if (ec2 != std::errc() || u == 0) return false;
    uids.push_back(u);
    p = q;
    if (p < end && *p != ',') return false;
    if (p < end) ++p;
  }
  return true;
}

std::string quoted(const std::string& mailbox) { return "\"" + mailbox + "\""; }

}  // namespace

struct ImapReader::Curl {
  CURL* handle = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  Curl() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    handle = curl_easy_init();
    if (handle == nullptr) throw touchpoint::RetryableError("imap: curl_easy_init failed");
  }
  ~Curl() { curl_easy_cleanup(handle); }
  Curl(const Curl&) = delete;
  Curl& operator=(const Curl&) = delete;
};

ImapReader::ImapReader(ImapConfig cfg, std::size_t max_message_bytes)
    : cfg_(std::move(cfg)), max_message_bytes_(max_message_bytes), curl_(std::make_unique<Curl>()) {
  const std::size_t scheme_end = cfg_.url.find("://") + 3;
  const std::size_t host_end = cfg_.url.find('/', scheme_end);
  server_url_ = cfg_.url.substr(0, host_end + 1);
  std::string encoded = cfg_.url.substr(host_end + 1);
  while (!encoded.empty() && encoded.back() == '/') encoded.pop_back();
  int len = 0;
  char* decoded = curl_easy_unescape(curl_->handle, encoded.c_str(), static_cast<int>(encoded.size()), &len);
  if (decoded == nullptr) throw std::invalid_argument("intake.imap.url: bad mailbox name");
  mailbox_.assign(decoded, static_cast<std::size_t>(len));
  curl_free(decoded);
  if (mailbox_.find_first_of("\"\\\r\n") != std::string::npos)
    throw std::invalid_argument("intake.imap.url: mailbox name must not contain quotes, backslashes or line breaks");
}

ImapReader::~ImapReader() = default;

std::string ImapReader::run(const std::string& url, const std::string& custom, std::size_t limit, bool* truncated) {
  CURL* h = curl_->handle;
  Sink sink;
  sink.limit = limit;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, custom.empty() ? nullptr : custom.c_str());
  curl_easy_setopt(h, CURLOPT_USERNAME, cfg_.username.c_str());
  curl_easy_setopt(h, CURLOPT_PASSWORD, cfg_.password.c_str());
  curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(cfg_.tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
  if (!cfg_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, cfg_.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "imap,imaps");
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cfg_.timeout_ms);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cfg_.timeout_ms);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_->error);
  curl_->error[0] = '\0';
  const CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_WRITE_ERROR && sink.truncated && truncated != nullptr) {
    *truncated = true;
    return std::move(sink.data);
  }
  if (rc != CURLE_OK) {
    std::string why = curl_->error[0] != '\0' ? curl_->error : curl_easy_strerror(rc);
    throw touchpoint::RetryableError("imap: " + (custom.empty() ? std::string("FETCH") : custom.substr(0, 16)) +
                                     " failed: " + why);
  }
  if (truncated != nullptr) *truncated = false;
  return std::move(sink.data);
}

std::uint64_t ImapReader::uidvalidity() {
  const std::string status = run(server_url_, "STATUS " + quoted(mailbox_) + " (UIDVALIDITY)", 64 * 1024, nullptr);
  const std::uint64_t v = number_after(status, "UIDVALIDITY ");
  if (v == 0) throw touchpoint::RetryableError("imap: the server sent no UIDVALIDITY for the mailbox");
  return v;
}

MailBatch ImapReader::fetch(std::size_t max_items) {
  const std::uint64_t validity = uidvalidity();
  if (validity != validity_) {
    // A new mailbox under the old name: UIDs handed out before mean nothing now.
    in_flight_.clear();
    validity_ = validity;
  }
  // On a reused connection the mailbox stays selected; NOOP makes the server
  // look for messages delivered since.
  run(cfg_.url, "NOOP", 1024 * 1024, nullptr);
  const std::string found =
      run(cfg_.url, "UID SEARCH UNKEYWORD " + std::string(kProcessedKeyword), 16 * 1024 * 1024, nullptr);
  MailBatch batch;
  std::vector<std::uint64_t> taken;
  std::size_t bytes = 0;
  for (std::uint64_t uid : search_uids(found)) {
    if (batch.items.size() >= max_items || bytes >= kPollByteBudget) break;
    if (in_flight_.count(uid) != 0) continue;
    if (kCursorTag.size() + 21 + uid_set(taken).size() + 21 > kMaxCursorBytes) break;
    const std::string where = ";UIDVALIDITY=" + std::to_string(validity) + "/;UID=" + std::to_string(uid);
    bool truncated = false;
    MailItem item;
    item.bytes = run(cfg_.url + where, "", max_message_bytes_, &truncated);
    item.size = item.bytes.size();
    item.oversize = truncated;
    if (truncated) item.bytes.resize(std::min(item.bytes.size(), kMaxRawBytes));
    item.location = "imap:" + mailbox_ + where;
    bytes += item.bytes.size();
    taken.push_back(uid);
    in_flight_.insert(uid);
    batch.items.push_back(std::move(item));
  }
  batch.cursor = std::string(kCursorTag) + std::to_string(validity) + " " + uid_set(taken);
  return batch;
}

void ImapReader::commit(std::string_view cursor) {
  std::uint64_t validity = 0;
  std::vector<std::uint64_t> uids;
  if (!parse_cursor(cursor, validity, uids) || uids.empty()) return;
  for (std::uint64_t u : uids) in_flight_.erase(u);
  if (validity != uidvalidity()) return;  // the mailbox was recreated; its new UIDs are other messages
  const std::string set = uid_set(uids);
  run(cfg_.url, "UID STORE " + set + " +FLAGS.SILENT (\\Seen " + std::string(kProcessedKeyword) + ")", 1024 * 1024,
      nullptr);
  if (!cfg_.move_to.empty()) run(cfg_.url, "UID MOVE " + set + " " + quoted(cfg_.move_to), 1024 * 1024, nullptr);
}

void ImapReader::release(std::string_view cursor) {
  std::uint64_t validity = 0;
  std::vector<std::uint64_t> uids;
  if (!parse_cursor(cursor, validity, uids)) return;
  for (std::uint64_t u : uids) in_flight_.erase(u);
}

}  // namespace tp_email::intake
