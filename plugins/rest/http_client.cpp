#include "http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <thread>

#include "tp_common/base64.hpp"

namespace touchpoint::rest {
namespace {

using Clock = std::chrono::steady_clock;

// Past this, a pause the server asks for is not waited out inside a call:
// the records go back as retryable and the source backs off instead.
constexpr auto kLongestWaitInCall = std::chrono::seconds(2);

struct Transfer {
  HttpResponse* response = nullptr;
  curl_slist* headers = nullptr;
  size_t limit = 0;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (t->response->body.size() + len > t->limit) {
    t->response->too_large = true;
    return 0;  // CURLE_WRITE_ERROR ends the transfer
  }
  t->response->body.append(data, len);
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  std::string line(data, len);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();  // a new answer (after a 100 Continue)
    return len;
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos || line.size() > 16384) return len;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string value = line.substr(colon + 1);
  value.erase(0, value.find_first_not_of(" \t"));
  t->response->headers[name] = value;
  return len;
}

int64_t parse_retry_after(const std::string& v) {
  if (v.empty()) return -1;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return v.size() > 9 ? 86400 : std::stoll(v);
  const time_t at = curl_getdate(v.c_str(), nullptr);
  if (at < 0) return -1;
  return std::max<int64_t>(0, static_cast<int64_t>(at) - static_cast<int64_t>(::time(nullptr)));
}

std::string origin_of(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return {};
  const size_t end = url.find_first_of("/?#", scheme + 3);
  std::string o = url.substr(0, end);
  std::transform(o.begin(), o.end(), o.begin(), [](unsigned char c) { return std::tolower(c); });
  return o;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

}  // namespace

std::string url_encode(const std::string& text) {
  std::string out;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

void add_query(std::string& url, const std::string& name, const std::string& value) {
  url += (url.find('?') == std::string::npos ? "?" : "&") + url_encode(name) + "=" + url_encode(value);
}

bool same_origin(const std::string& url, const std::string& base) {
  return !url.empty() && origin_of(url) == origin_of(base);
}

std::string link_next(const std::string& header) {
  size_t at = 0;
  while ((at = header.find('<', at)) != std::string::npos) {
    const size_t close = header.find('>', at);
    if (close == std::string::npos) return {};
    const std::string url = header.substr(at + 1, close - at - 1);
    const size_t next = header.find('<', close);
    std::string params = header.substr(close + 1, next == std::string::npos ? std::string::npos : next - close - 1);
    std::transform(params.begin(), params.end(), params.begin(), [](unsigned char c) { return std::tolower(c); });
    params.erase(std::remove(params.begin(), params.end(), ' '), params.end());
    if (params.find("rel=\"next\"") != std::string::npos || params.find("rel=next") != std::string::npos) return url;
    at = close;
  }
  return {};
}

// ------------------------------------------------------------------ Auth

void Auth::apply(HttpClient& http, HttpRequest& request) {
  switch (config_.type) {
    case AuthConfig::Type::none:
      break;
    case AuthConfig::Type::bearer:
      request.headers.push_back("Authorization: Bearer " + config_.token);
      break;
    case AuthConfig::Type::basic:
      request.headers.push_back("Authorization: Basic " +
                                tp_common::base64_encode(config_.user + ":" + config_.password));
      break;
    case AuthConfig::Type::api_key:
      if (!config_.header.empty()) {
        request.headers.push_back(config_.header + ": " + config_.key);
      } else {
        add_query(request.url, config_.param, config_.key);
      }
      break;
    case AuthConfig::Type::oauth2:
      if (token_.empty() || Clock::now() >= token_expires_) fetch_token(http);
      request.headers.push_back("Authorization: Bearer " + token_);
      break;
  }
}

bool Auth::refresh() {
  if (config_.type != AuthConfig::Type::oauth2 || token_.empty()) return false;
  token_.clear();
  return true;
}

void Auth::fetch_token(HttpClient& http) {
  HttpRequest req;
  req.method = "POST";
  req.url = config_.token_url;
  req.headers = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"};
  req.body = "grant_type=client_credentials";
  if (!config_.scope.empty()) req.body += "&scope=" + url_encode(config_.scope);
  if (config_.client_auth_basic) {
    req.headers.push_back("Authorization: Basic " + tp_common::base64_encode(url_encode(config_.client_id) + ":" +
                                                                             url_encode(config_.client_secret)));
  } else {
    req.body += "&client_id=" + url_encode(config_.client_id) + "&client_secret=" + url_encode(config_.client_secret);
  }
  const HttpResponse r = http.perform_plain(req);
  if (r.status == 0) throw std::runtime_error("rest: token endpoint " + config_.token_url + ": " + r.error);
  Json body = Json::parse(r.body, nullptr, false);
  if (r.status == 400 || r.status == 401 || r.status == 403) {
    std::string why = body.is_object() ? body.value("error", "") + " " + body.value("error_description", "") : "";
    throw AuthRefused("rest: the token endpoint refused client '" + config_.client_id + "' (HTTP " +
                      std::to_string(r.status) + "): " + why.substr(0, 300));
  }
  if (r.status < 200 || r.status >= 300 || !body.is_object() || !body.contains("access_token") ||
      !body["access_token"].is_string())
    throw std::runtime_error("rest: token endpoint " + config_.token_url + " answered HTTP " +
                             std::to_string(r.status) + " without an access_token");
  token_ = body["access_token"].get<std::string>();
  if (token_.find_first_of("\r\n") != std::string::npos) throw AuthRefused("rest: the access token has a line break");
  int64_t expires = 3600;
  if (auto it = body.find("expires_in"); it != body.end() && it->is_number_integer()) expires = it->get<int64_t>();
  // Renewed a little early, so a request never leaves with a token about to lapse.
  token_expires_ = Clock::now() + std::chrono::seconds(std::max<int64_t>(1, expires - 30));
  ++tokens_fetched_;
}

// ------------------------------------------------------------ HttpClient

HttpClient::HttpClient(const Config& config) : config_(config), auth_(config.auth) {
  static CurlGlobal global;
  multi_ = curl_multi_init();
  if (multi_ == nullptr) throw std::runtime_error("rest: curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(config.max_connections));
}

HttpClient::~HttpClient() {
  for (void* e : easy_) curl_easy_cleanup(static_cast<CURL*>(e));
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

HttpResponse HttpClient::perform_plain(const HttpRequest& request) { return run({request}).at(0); }

HttpResponse HttpClient::perform(HttpRequest request) {
  std::vector<HttpRequest> one;
  one.push_back(std::move(request));
  return perform_all(std::move(one)).at(0);
}

std::vector<HttpResponse> HttpClient::perform_all(std::vector<HttpRequest> requests) {
  std::vector<HttpRequest> sent = requests;
  for (HttpRequest& r : sent) auth_.apply(*this, r);
  std::vector<HttpResponse> out = run(sent);
  // A token that expired early (or was revoked): one new token, one more try.
  std::vector<size_t> again;
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i].status == 401) again.push_back(i);
  if (!again.empty() && auth_.refresh()) {
    std::vector<HttpRequest> retry;
    for (size_t i : again) {
      retry.push_back(requests[i]);
      auth_.apply(*this, retry.back());
    }
    std::vector<HttpResponse> second = run(retry);
    for (size_t k = 0; k < again.size(); ++k) out[again[k]] = std::move(second[k]);
  }
  return out;
}

void HttpClient::note_pause(const HttpResponse& r) {
  if ((r.status == 429 || r.status == 503) && r.retry_after_s >= 0) {
    const auto until = Clock::now() + std::chrono::seconds(std::min<int64_t>(r.retry_after_s, 3600));
    paused_until_ = std::max(paused_until_, until);
  }
}

std::vector<HttpResponse> HttpClient::run(const std::vector<HttpRequest>& requests) {
  auto* multi = static_cast<CURLM*>(multi_);
  std::vector<HttpResponse> out(requests.size());
  std::vector<Transfer> transfers(requests.size());
  const size_t width = static_cast<size_t>(config_.max_connections);
  while (easy_.size() < std::min(width, requests.size())) easy_.push_back(curl_easy_init());
  std::vector<CURL*> idle;
  for (size_t i = 0; i < std::min(width, requests.size()); ++i) idle.push_back(static_cast<CURL*>(easy_[i]));
  const std::chrono::nanoseconds interval =
      config_.requests_per_second > 0
          ? std::chrono::nanoseconds(static_cast<int64_t>(1e9 / config_.requests_per_second))
          : std::chrono::nanoseconds(0);

  size_t next = 0, running = 0;
  while (next < requests.size() || running > 0) {
    // Start what the connection limit, the rate and a server's pause allow.
    auto wait = std::chrono::milliseconds(1000);
    while (next < requests.size() && !idle.empty()) {
      const auto now = Clock::now();
      if (paused_until_ > now + kLongestWaitInCall) {
        out[next].error =
            "the server asked for a pause (Retry-After) of " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(paused_until_ - now).count()) + " s";
        ++next;
        continue;
      }
      const auto due = std::max(paused_until_, next_slot_);
      if (due > now) {
        wait = std::min(
            wait, std::chrono::duration_cast<std::chrono::milliseconds>(due - now) + std::chrono::milliseconds(1));
        break;
      }
      next_slot_ = now + interval;  // due was not later than now
      CURL* e = idle.back();
      idle.pop_back();
      const HttpRequest& rq = requests[next];
      Transfer& t = transfers[next];
      t.response = &out[next];
      t.limit = static_cast<size_t>(config_.max_response_bytes);
      curl_easy_reset(e);  // keeps the connection cache
      curl_easy_setopt(e, CURLOPT_URL, rq.url.c_str());
      curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
      curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout_ms));
      curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.connect_timeout_ms));
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, config_.verify_tls ? 1L : 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, config_.verify_tls ? 2L : 0L);
      if (!config_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, config_.ca_file.c_str());
      curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
      curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
      curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
      curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
      curl_easy_setopt(e, CURLOPT_PRIVATE, reinterpret_cast<char*>(next));
      if (rq.method == "GET") {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
      } else {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(rq.body.size()));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq.body.data());
        if (rq.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq.method.c_str());
      }
      t.headers = curl_slist_append(t.headers, "Expect:");
      for (const auto& [name, value] : config_.headers)
        t.headers = curl_slist_append(t.headers, (name + ": " + value).c_str());
      for (const std::string& h : rq.headers) t.headers = curl_slist_append(t.headers, h.c_str());
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
      curl_multi_add_handle(multi, e);
      ++requests_;
      ++running;
      ++next;
    }
    int still = 0;
    curl_multi_perform(multi, &still);
    int left = 0;
    bool finished = false;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* e = msg->easy_handle;
      char* priv = nullptr;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
      const size_t i = reinterpret_cast<size_t>(priv);
      HttpResponse& r = out[i];
      if (msg->data.result == CURLE_OK) {
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
        auto ra = r.headers.find("retry-after");
        r.retry_after_s = ra == r.headers.end() ? -1 : parse_retry_after(ra->second);
        note_pause(r);
      } else {
        r.status = 0;
        r.error = r.too_large ? "the answer is larger than max_response_bytes (" +
                                    std::to_string(config_.max_response_bytes) + ")"
                              : std::string(curl_easy_strerror(msg->data.result));
        r.body.clear();
      }
      curl_multi_remove_handle(multi, e);
      curl_slist_free_all(transfers[i].headers);
      transfers[i].headers = nullptr;
      idle.push_back(e);
      --running;
      finished = true;
    }
    if (running > 0 && !finished)
      curl_multi_poll(multi, nullptr, 0, static_cast<int>(wait.count()), nullptr);
    else if (running == 0 && next < requests.size() && idle.size() > 0)
      std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(1000)));
  }
  return out;
}

}  // namespace touchpoint::rest
