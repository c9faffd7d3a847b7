#include "cli/admin_client.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>

#include "admin/admin_server.hpp"

namespace touchpoint::cli {
namespace {

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

bool hub_running(const core::HubConfig& hub) {
  const std::string lock = (hub.data_dir / "touchpoint.lock").string();
  const int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

}  // namespace

std::optional<AdminClient> AdminClient::for_running_hub(const core::HubConfig& hub) {
  if (!hub_running(hub)) return std::nullopt;
  std::ifstream in(hub.data_dir / "admin.addr");
  std::string addr;
  std::getline(in, addr);
  if (addr.empty()) throw std::runtime_error("a hub runs on " + hub.data_dir.string() + " but admin.addr is missing");
  const std::string scheme = hub.admin_tls_cert_file.empty() ? "http://" : "https://";
  return AdminClient(scheme + addr, core::load_token(hub.admin_token_file.string()));
}

AdminClient::Response AdminClient::post(const std::string& path, const std::string& body) const {
  CURL* c = curl_easy_init();
  if (c == nullptr) throw std::runtime_error("cannot initialise libcurl");
  Response r;
  const std::string url = base_ + path;
  const std::string auth = "Authorization: Bearer " + token_;
  curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
  headers = curl_slist_append(headers, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
  // The hub's own certificate on the address it wrote itself; often self-signed.
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) throw std::runtime_error("cannot reach the hub at " + url + ": " + curl_easy_strerror(rc));
  return r;
}

long AdminClient::stream(const std::string& path, const ChunkFn& chunk) const {
  CURL* c = curl_easy_init();
  if (c == nullptr) throw std::runtime_error("cannot initialise libcurl");
  const std::string url = base_ + path;
  const std::string auth = "Authorization: Bearer " + token_;
  curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
  struct Sink {
    CURL* curl;
    const ChunkFn& fn;
  } sink{c, chunk};
  auto forward = +[](char* data, size_t size, size_t n, void* user) -> size_t {
    auto* s = static_cast<Sink*>(user);
    long status = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    s->fn(status, std::string_view(data, size * n));
    return size * n;
  };
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, forward);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  long status = 0;
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) throw std::runtime_error("cannot reach the hub at " + url + ": " + curl_easy_strerror(rc));
  return status;
}

}  // namespace touchpoint::cli
