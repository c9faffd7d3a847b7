// A LinkServer on an ephemeral loopback port, spoken to with libcurl, and the
// records it emitted. Shared by the unsubscribe and the click/open tests.
#ifndef TP_EMAIL_INTAKE_LINK_SERVER_FIXTURE_HPP
#define TP_EMAIL_INTAKE_LINK_SERVER_FIXTURE_HPP

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "link_server.hpp"

namespace tp_email::intake::test {

struct Reply {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  ///< lower-case names
};

inline constexpr const char* kLinkSecret = "unsubscribe-secret";
inline constexpr const char* kLinkContact = "c-3f9a0c1d2e4b5a6978877665";

class LinkServerTest : public ::testing::Test {
 protected:
  static constexpr const char* kSecret = kLinkSecret;
  static constexpr const char* kContact = kLinkContact;

  void SetUp() override { start(LinkServerConfig{}); }

  void start(LinkServerConfig cfg) {
    server_.reset();
    server_ = std::make_unique<LinkServer>(
        std::move(cfg), kSecret,
        [this](const touchpoint::Record& r) {
          std::lock_guard<std::mutex> lock(mutex_);
          emitted_.push_back(r);
          return accept_.load();
        },
        [this] { return now_.load(); });
  }

  /// GET (or POST with `post_body`, or `method`), never following redirects.
  Reply request(const std::string& path, const char* post_body = nullptr, const char* method = nullptr,
                const std::vector<std::string>& headers = {}) {
    CURL* h = curl_easy_init();
    Reply r;
    const std::string url = "http://127.0.0.1:" + std::to_string(server_->port()) + path;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    if (post_body != nullptr) curl_easy_setopt(h, CURLOPT_POSTFIELDS, post_body);
    if (method != nullptr) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (method != nullptr && std::string(method) == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_slist* list = nullptr;
    for (const std::string& header : headers) list = curl_slist_append(list, header.c_str());
    if (list != nullptr) curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(
        h, CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* u) {
          static_cast<std::string*>(u)->append(p, s * n);
          return s * n;
        });
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &LinkServerTest::on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.headers);
    EXPECT_EQ(curl_easy_perform(h), CURLE_OK) << path;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    return r;
  }
  static size_t on_header(char* p, size_t s, size_t n, void* u) {
    const std::string line(p, s * n);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::string value = line.substr(colon + 1);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      value.erase(0, value.find_first_not_of(' '));
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
      (*static_cast<std::map<std::string, std::string>*>(u))[name] = value;
    }
    return s * n;
  }
  std::vector<touchpoint::Record> emitted() {
    std::lock_guard<std::mutex> lock(mutex_);
    return emitted_;
  }

  std::mutex mutex_;
  std::vector<touchpoint::Record> emitted_;
  std::atomic<bool> accept_{true};
  std::atomic<int64_t> now_{1'764'590'400};  // 2025-12-01T12:00:00Z
  std::unique_ptr<LinkServer> server_;
};

}  // namespace tp_email::intake::test

#endif
