#include "json_rpc.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>

#include "tp_common/base64.hpp"

namespace touchpoint::tryton {
namespace {

constexpr size_t kMaxResponseBytes = 256u << 20;  // a page of parties is far smaller; a hostile server is not
constexpr size_t kMaxErrorText = 512;

size_t on_data(char* ptr, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * n > kMaxResponseBytes) return 0;  // aborts the transfer
  body->append(ptr, size * n);
  return size * n;
}

size_t on_header(char* ptr, size_t size, size_t n, void* user) {
  const std::string_view line(ptr, size * n);
  if (line.size() > 5 && line.size() < 128 && (line[0] == 'D' || line[0] == 'd') &&
      (line.substr(0, 5) == "Date:" || line.substr(0, 5) == "date:")) {
    std::string value(line.substr(5));
    const time_t t = curl_getdate(value.c_str(), nullptr);
    if (t > 0) *static_cast<int64_t*>(user) = static_cast<int64_t>(t);
  }
  return size * n;
}

std::string bounded(std::string s) {
  if (s.size() > kMaxErrorText) s.resize(kMaxErrorText);
  return s;
}

// Errors that say "try again": the database was busy or a concurrent writer won.
bool transient_error_type(const std::string& type) {
  return type == "ConcurrencyException" || type == "DatabaseOperationalError" || type == "TooManyRequests" ||
         type == "RateLimitException";
}

// For an exception that is not one of its own (a locked database, a
// serialization failure, a bug), trytond answers [str(e), traceback]: not the
// request's fault, so it may pass.
bool crashed(const Json& error) {
  return error.is_array() && error.size() >= 2 && error[0].is_string() && error[1].is_string() &&
         error[1].get_ref<const std::string&>().find("Traceback") != std::string::npos;
}

}  // namespace

std::string tryton_error_text(const Json& error) {
  if (error.is_array() && error.size() >= 2) {
    const Json& args = error[1];
    if (args.is_array() && !args.empty() && args[0].is_string()) {
      std::string text = args[0].get<std::string>();
      if (args.size() > 1 && args[1].is_string() && !args[1].get<std::string>().empty())
        text += " (" + args[1].get<std::string>() + ")";
      return bounded(text);
    }
    if (args.is_string()) return bounded(args.get<std::string>());
  }
  return bounded(error.dump(-1, ' ', false, Json::error_handler_t::replace));
}

JsonRpcClient::JsonRpcClient(RpcEndpoint endpoint) : endpoint_(std::move(endpoint)) {
  post_url_ = endpoint_.url + "/" + endpoint_.database + "/";
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw std::runtime_error("tryton: curl_easy_init failed");
}

JsonRpcClient::~JsonRpcClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

long JsonRpcClient::post(const std::string& payload, bool with_session, std::string& body) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);  // keeps the connection cache: the next call reuses the socket
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  if (with_session) headers = curl_slist_append(headers, session_header_.c_str());
  std::array<char, CURL_ERROR_SIZE> error{};
  curl_easy_setopt(curl, CURLOPT_URL, post_url_.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(endpoint_.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(endpoint_.timeout_ms, 10'000)));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, endpoint_.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, endpoint_.verify_tls ? 2L : 0L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error.data());
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &server_time_s_);
  ++requests_;
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    const std::string why = error[0] != '\0' ? std::string(error.data()) : std::string(curl_easy_strerror(rc));
    throw TrytonUnavailable("tryton: " + endpoint_.url + ": " + why);
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

void JsonRpcClient::login() {
  const Json req{{"id", next_id_++},
                 {"method", "common.db.login"},
                 {"params", Json::array({endpoint_.user, Json{{"password", endpoint_.password}}})}};
  std::string body;
  const long status = post(req.dump(), false, body);
  if (status == 401 || status == 403)
    throw TrytonLoginRefused("tryton: login of user '" + endpoint_.user + "' to database '" + endpoint_.database +
                             "' refused (HTTP " + std::to_string(status) + ")");
  if (status == 429 || status >= 500) throw TrytonUnavailable("tryton: login answered HTTP " + std::to_string(status));
  if (status != 200)
    throw TrytonLoginRefused("tryton: login answered HTTP " + std::to_string(status) + " (is database '" +
                             endpoint_.database + "' there?)");
  const Json res = Json::parse(body, nullptr, false);
  if (res.is_discarded() || !res.is_object()) throw TrytonUnavailable("tryton: login answer is not JSON");
  if (auto e = res.find("error"); e != res.end() && !e->is_null() && crashed(*e))
    throw TrytonUnavailable("tryton: login failed on the server (a busy or locked database?)");
  if (auto e = res.find("error"); e != res.end() && !e->is_null())
    throw TrytonLoginRefused("tryton: login of user '" + endpoint_.user + "' to database '" + endpoint_.database +
                             "' refused: " + tryton_error_text(*e));
  const Json& r = res.value("result", Json());
  if (!r.is_array() || r.size() < 2 || !r[0].is_number_integer() || !r[1].is_string())
    throw TrytonLoginRefused("tryton: login of user '" + endpoint_.user + "' refused");
  session_header_ =
      "Authorization: Session " + tp_common::base64_encode(endpoint_.user + ":" + std::to_string(r[0].get<int64_t>()) +
                                                           ":" + r[1].get<std::string>());
}

Json JsonRpcClient::call(const std::string& method, const Json& params) {
  for (int attempt = 0;; ++attempt) {
    if (session_header_.empty()) login();
    const Json req{{"id", next_id_++}, {"method", method}, {"params", params}};
    std::string body;
    const long status = post(req.dump(-1, ' ', false, Json::error_handler_t::replace), true, body);
    if (status == 401 || status == 403) {
      session_header_.clear();  // expired or revoked: log in again, once
      if (attempt == 0) continue;
      throw TrytonLoginRefused("tryton: " + method + ": HTTP " + std::to_string(status) + " after a fresh login");
    }
    if (status == 429 || status >= 500)
      throw TrytonUnavailable("tryton: " + method + ": HTTP " + std::to_string(status));
    if (status != 200) throw TrytonError("HTTP", "tryton: " + method + ": HTTP " + std::to_string(status));
    Json res = Json::parse(body, nullptr, false);
    if (res.is_discarded() || !res.is_object())
      throw TrytonUnavailable("tryton: " + method + ": the answer is not a JSON object");
    if (auto e = res.find("error"); e != res.end() && !e->is_null()) {
      const std::string type = e->is_array() && !e->empty() && (*e)[0].is_string() ? (*e)[0].get<std::string>() : "";
      if (crashed(*e))
        throw TrytonUnavailable("tryton: " + method +
                                ": the server failed: " + bounded(type.substr(0, type.find('\n'))));
      const std::string text = "tryton: " + method + ": " + type + ": " + tryton_error_text(*e);
      if (transient_error_type(type)) throw TrytonUnavailable(text);
      throw TrytonError(type, text);
    }
    return res.contains("result") ? std::move(res["result"]) : Json();
  }
}

Json JsonRpcClient::model(const std::string& model, const std::string& verb, Json args, const Json& context) {
  if (!args.is_array()) args = Json::array({std::move(args)});
  args.push_back(context);
  return call("model." + model + "." + verb, args);
}

}  // namespace touchpoint::tryton
