#include "rest_export.hpp"

#include <curl/curl.h>
#include <simdjson.h>

#include <mutex>
#include <stdexcept>

#include "text.hpp"
#include "tp_common/sha256.hpp"

namespace touchpoint::callcenter {

namespace {

namespace dom = simdjson::dom;

constexpr size_t kMaxResponseBytes = 1024 * 1024;
constexpr size_t kMaxMessageBytes = 300;

struct Body {
  std::string data;
  bool overflow = false;
};

size_t on_data(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* body = static_cast<Body*>(user);
  const size_t n = size * nmemb;
  if (body->data.size() + n > kMaxResponseBytes) {
    body->overflow = true;
    return 0;  // aborts the transfer: a call-list API has no business sending megabytes back
  }
  body->data.append(ptr, n);
  return n;
}

std::string scalar_text(dom::element e) {
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  if (e.is_int64() || e.is_uint64()) return simdjson::minify(e);
  return {};
}

// Provider ids end up in the hub's store and logs: printable, bounded.
std::string clean_id(std::string s) {
  if (s.size() > 200 || !valid_utf8(s) || has_control(s, false)) return {};
  return s;
}

}  // namespace

void parse_success_body(std::string_view body, RestResult& result) {
  dom::parser parser;
  dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) return;
  dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) return;
  dom::element e;
  if (obj.at_key("list_id").get(e) == simdjson::SUCCESS || obj.at_key("id").get(e) == simdjson::SUCCESS)
    result.list_id = clean_id(scalar_text(e));
  dom::array entries;
  if (obj.at_key("entries").get_array().get(entries) != simdjson::SUCCESS) return;
  for (dom::element entry : entries) {
    dom::element contact, id, error;
    if (entry.at_key("contact_id").get(contact) != simdjson::SUCCESS) continue;
    const std::string cid = scalar_text(contact);
    if (cid.empty()) continue;
    if (entry.at_key("error").get(error) == simdjson::SUCCESS && !error.is_null()) {
      std::string_view text;
      result.entry_errors[cid] =
          excerpt(error.get_string().get(text) == simdjson::SUCCESS ? text : "refused", kMaxMessageBytes);
      continue;
    }
    if (entry.at_key("id").get(id) == simdjson::SUCCESS) {
      std::string value = clean_id(scalar_text(id));
      if (!value.empty()) result.entry_ids[cid] = std::move(value);
    }
  }
}

std::string error_message_of(std::string_view body) {
  dom::parser parser;
  dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) == simdjson::SUCCESS) {
    std::string_view s;
    if (root["message"].get_string().get(s) == simdjson::SUCCESS) return excerpt(s, kMaxMessageBytes);
    if (root["error"].get_string().get(s) == simdjson::SUCCESS) return excerpt(s, kMaxMessageBytes);
    if (root["error"]["message"].get_string().get(s) == simdjson::SUCCESS) return excerpt(s, kMaxMessageBytes);
  }
  return excerpt(body, kMaxMessageBytes);
}

RestExporter::RestExporter(HttpTarget config) : config_(std::move(config)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw std::runtime_error("callcenter: curl_easy_init failed");
}

RestExporter::~RestExporter() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

RestResult RestExporter::post(const std::vector<const CallEntry*>& entries) {
  std::string body = "[";
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) body.push_back(',');
    body += to_json(*entries[i]);
  }
  body.push_back(']');

  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  Body response;
  char error[CURL_ERROR_SIZE] = {0};
  // A retried batch of the same contacts carries the same key, so the provider can drop the repeat.
  const std::string idempotency = "Idempotency-Key: " + tp_common::sha256_hex(body).substr(0, 32);
  curl_slist* headers = nullptr;
  for (const std::string& h : {std::string("Content-Type: application/json"), std::string("Accept: application/json"),
                               idempotency, config_.auth_header})
    if (!h.empty()) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, config_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, config_.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);

  RestResult result;
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && response.overflow)) {
    result.kind = RestResult::Kind::retryable;
    result.message = "call list POST failed: " + std::string(error[0] ? error : curl_easy_strerror(rc));
    return result;
  }
  const std::string prefix = "call list POST: HTTP " + std::to_string(status);
  if (status >= 200 && status < 300) {
    result.kind = RestResult::Kind::sent;
    if (!response.overflow) parse_success_body(response.data, result);
    return result;
  }
  const std::string detail = response.data.empty() ? std::string() : ": " + error_message_of(response.data);
  result.message = prefix + detail;
  result.kind =
      status == 408 || status == 429 || status >= 500 ? RestResult::Kind::retryable : RestResult::Kind::permanent;
  return result;
}

}  // namespace touchpoint::callcenter
