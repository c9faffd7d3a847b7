#include "email_config.hpp"

#include <gmime/gmime.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <touchpoint/plugin.hpp>

#include "envelope.hpp"
#include "gmime_init.hpp"

namespace tp_email {

namespace {

using nlohmann::json;
using touchpoint::ConfigError;

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw ConfigError("email config: '" + key + "' " + what);
}

void only_keys(const json& obj, const std::string& prefix, std::initializer_list<const char*> allowed) {
  for (const auto& [k, v] : obj.items()) {
    bool known = false;
    for (const char* a : allowed) known = known || k == a;
    if (!known) fail(prefix + k, "is not a known key");
  }
}

const json* find(const json& obj, const char* key) {
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string get_string(const json& obj, const char* key, const std::string& path, bool required,
                       std::string fallback = {}) {
  const json* v = find(obj, key);
  if (v == nullptr) {
    if (required) fail(path, "is required");
    return fallback;
  }
  if (!v->is_string()) fail(path, "must be a string");
  return v->get<std::string>();
}

int64_t get_int(const json& obj, const char* key, const std::string& path, int64_t fallback, int64_t lo, int64_t hi) {
  const json* v = find(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_number_integer()) fail(path, "must be an integer");
  const int64_t n =
      v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : v->get<int64_t>();
  if (n < lo || n > hi) fail(path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return n;
}

bool get_bool(const json& obj, const char* key, const std::string& path, bool fallback) {
  const json* v = find(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) fail(path, "must be true or false");
  return v->get<bool>();
}

void require_mailbox(const std::string& address, const std::string& path) {
  if (!valid_mailbox(address)) fail(path, "is not a plain e-mail address (local@domain)");
}

bool no_controls(std::string_view s) {
  for (const char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

// "Bank <news@bank.example>" or "news@bank.example", parsed by GMime's RFC 5322 address parser.
Mailbox parse_from_string(const std::string& text) {
  ensure_gmime();
  if (!no_controls(text)) fail("from", "must not contain control characters");
  InternetAddressList* list = internet_address_list_parse(nullptr, text.c_str());
  if (list == nullptr || internet_address_list_length(list) != 1) {
    if (list != nullptr) g_object_unref(list);
    fail("from", "must be one address like \"Bank <news@bank.example>\"");
  }
  InternetAddress* ia = internet_address_list_get_address(list, 0);
  if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) {
    g_object_unref(list);
    fail("from", "must be a mailbox, not a group");
  }
  Mailbox m;
  const char* name = internet_address_get_name(ia);
  const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
  m.name = name != nullptr ? name : "";
  m.address = addr != nullptr ? addr : "";
  g_object_unref(list);
  return m;
}

Mailbox parse_from(const json& root) {
  const json* v = find(root, "from");
  if (v == nullptr) fail("from", "is required");
  Mailbox m;
  if (v->is_string()) {
    m = parse_from_string(v->get<std::string>());
  } else if (v->is_object()) {
    only_keys(*v, "from.", {"name", "address"});
    m.name = get_string(*v, "name", "from.name", false);
    m.address = get_string(*v, "address", "from.address", true);
    if (!no_controls(m.name)) fail("from.name", "must not contain control characters");
  } else {
    fail("from", "must be a string (\"Name <address>\") or an object {name, address}");
  }
  require_mailbox(m.address, v->is_object() ? "from.address" : "from");
  return m;
}

SmtpConfig parse_smtp(const json& s) {
  if (!s.is_object()) fail("smtp", "must be an object");
  only_keys(
      s, "smtp.",
      {"host", "port", "tls", "username", "password", "timeout_ms", "helo", "ca_file", "tls_verify", "connections"});
  SmtpConfig c;
  c.host = get_string(s, "host", "smtp.host", true);
  if (c.host.empty() || !no_controls(c.host) || c.host.find(' ') != std::string::npos)
    fail("smtp.host", "must be a host name or IP address");
  c.port = static_cast<uint16_t>(get_int(s, "port", "smtp.port", 587, 1, 65535));
  const std::string tls = get_string(s, "tls", "smtp.tls", false, "starttls");
  if (tls == "none") {
    c.tls = TlsMode::none;
  } else if (tls == "starttls") {
    c.tls = TlsMode::starttls;
  } else if (tls == "required") {
    c.tls = TlsMode::required;
  } else {
    fail("smtp.tls", "must be one of none, starttls, required");
  }
  c.username = get_string(s, "username", "smtp.username", false);
  c.password = get_string(s, "password", "smtp.password", false);
  if (c.username.empty() != c.password.empty())
    fail(c.username.empty() ? "smtp.username" : "smtp.password",
         "is required when the other of username/password is given");
  c.timeout_ms = static_cast<int>(get_int(s, "timeout_ms", "smtp.timeout_ms", 30000, 100, 600000));
  c.connections = static_cast<int>(get_int(s, "connections", "smtp.connections", 1, 1, 16));
  char hostname[256] = {};
  if (::gethostname(hostname, sizeof(hostname) - 1) != 0 || hostname[0] == '\0')
    std::snprintf(hostname, 10, "localhost");
  c.helo = get_string(s, "helo", "smtp.helo", false, hostname);
  if (c.helo.empty() || !no_controls(c.helo) || c.helo.find(' ') != std::string::npos)
    fail("smtp.helo", "must be a host name without spaces");
  c.ca_file = get_string(s, "ca_file", "smtp.ca_file", false);
  if (!c.ca_file.empty() && ::access(c.ca_file.c_str(), R_OK) != 0) fail("smtp.ca_file", "is not a readable file");
  c.tls_verify = get_bool(s, "tls_verify", "smtp.tls_verify", true);
  return c;
}

// An http(s) URL the hub puts into messages as it is (List-Unsubscribe, hrefs):
// no byte that would need escaping there; trailing slashes dropped.
std::string get_url_base(const json& obj, const std::string& path) {
  std::string url = get_string(obj, "url_base", path, true);
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) fail(path, "must be an http:// or https:// URL");
  for (const char ch : url)
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == '<' || ch == '>' || ch == '"' || ch == '\'' || ch == '&' ||
        ch == 0x7f)
      fail(path, "must not contain spaces, controls, quotes, '&' or angle brackets");
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.size() > 512) fail(path, "must be at most 512 bytes");
  return url;
}

UnsubscribeConfig parse_unsubscribe(const json& u) {
  if (!u.is_object()) fail("unsubscribe", "must be an object");
  only_keys(u, "unsubscribe.", {"url_base", "mailto", "secret", "listen"});
  UnsubscribeConfig c;
  c.url_base = get_url_base(u, "unsubscribe.url_base");
  c.mailto = get_string(u, "mailto", "unsubscribe.mailto", false);
  if (!c.mailto.empty()) require_mailbox(c.mailto, "unsubscribe.mailto");
  c.secret = get_string(u, "secret", "unsubscribe.secret", true);
  if (c.secret.size() < 16) fail("unsubscribe.secret", "must be at least 16 bytes");
  const std::string listen = get_string(u, "listen", "unsubscribe.listen", false);
  if (!listen.empty()) {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size() ||
        listen.find_first_not_of("0123456789", colon + 1) != std::string::npos || listen.size() - colon > 6)
      fail("unsubscribe.listen", "must be ADDRESS:PORT, e.g. 127.0.0.1:8090");
    const long port = std::stol(listen.substr(colon + 1));
    if (port > 65535) fail("unsubscribe.listen", "port must be between 0 and 65535");
    c.listen_address = listen.substr(0, colon);
    c.listen_port = static_cast<uint16_t>(port);
    c.listen = true;
  }
  return c;
}

TrackingConfig parse_tracking(const json& t) {
  if (!t.is_object()) fail("tracking", "must be an object");
  only_keys(t, "tracking.",
            {"url_base", "clicks", "opens", "consent_attribute", "machine_user_agents", "machine_within_seconds"});
  TrackingConfig c;
  c.enabled = true;
  c.url_base = get_url_base(t, "tracking.url_base");
  c.clicks = get_bool(t, "clicks", "tracking.clicks", true);
  c.opens = get_bool(t, "opens", "tracking.opens", true);
  c.consent_attribute = get_string(t, "consent_attribute", "tracking.consent_attribute", false);
  if (c.consent_attribute.size() > 128 || !no_controls(c.consent_attribute))
    fail("tracking.consent_attribute", "must be an attribute name of at most 128 bytes");
  if (const json* agents = find(t, "machine_user_agents")) {
    if (!agents->is_array() || agents->size() > 200)
      fail("tracking.machine_user_agents", "must be a list of at most 200 strings");
    c.machine_user_agents.clear();
    for (const json& a : *agents) {
      if (!a.is_string() || a.get_ref<const std::string&>().empty() || a.get_ref<const std::string&>().size() > 128 ||
          !no_controls(a.get_ref<const std::string&>()))
        fail("tracking.machine_user_agents", "must hold strings of 1 to 128 printable bytes");
      std::string lower = a.get<std::string>();
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      c.machine_user_agents.push_back(std::move(lower));
    }
  }
  c.machine_within_seconds =
      get_int(t, "machine_within_seconds", "tracking.machine_within_seconds", c.machine_within_seconds, 0, 86400);
  return c;
}

}  // namespace

std::vector<std::string> TrackingConfig::default_machine_user_agents() {
  // Link scanners of mail gateways, HTTP libraries and crawlers fetch links
  // and images without a person; Gmail's and Yahoo's image proxies fetch on a
  // real open and are not listed.
  return {"bot",        "crawler",   "spider",     "preview",        "scanner",  "barracuda",      "mimecast",
          "proofpoint", "safelinks", "python-",    "curl/",          "wget/",    "go-http-client", "java/",
          "okhttp",     "libwww",    "httpclient", "headlesschrome", "phantomjs"};
}

EmailConfig parse_email_config(std::string_view text) {
  json root;
  try {
    root = json::parse(text.empty() ? std::string_view("{}") : text);
  } catch (const json::exception& e) {
    throw ConfigError(std::string("email config: not valid JSON: ") + e.what());
  }
  if (!root.is_object()) throw ConfigError("email config: must be a JSON object");
  only_keys(root, "",
            {"smtp", "from", "return_path", "message_id_domain", "templates", "default_template", "unsubscribe",
             "rate_per_second", "max_message_bytes", "intake", "tracking"});
  EmailConfig c;
  if (const json* in = find(root, "intake")) {
    if (!in->is_object()) fail("intake", "must be an object");
    c.intake_json = in->dump();
  }
  if (const json* u = find(root, "unsubscribe")) c.unsubscribe = parse_unsubscribe(*u);
  if (const json* t = find(root, "tracking")) {
    c.tracking = parse_tracking(*t);
    if (find(root, "unsubscribe") == nullptr)
      fail("tracking", "needs 'unsubscribe': its secret signs the click and open links");
  }
  if (c.unsubscribe.listen && !c.intake_json)
    fail("unsubscribe.listen", "needs 'intake': the endpoint belongs to the instance that reads responses");
  const json* smtp = find(root, "smtp");
  if (smtp == nullptr) {
    if (!c.intake_json) throw ConfigError("email config: needs 'smtp' (to send) or 'intake' (to read responses)");
    for (const char* k : {"from", "return_path", "message_id_domain", "templates", "default_template",
                          "rate_per_second", "max_message_bytes"})
      if (find(root, k) != nullptr) fail(k, "needs 'smtp' (it configures sending)");
    return c;
  }
  c.has_sink = true;
  c.smtp = parse_smtp(*smtp);
  c.from = parse_from(root);
  c.return_path = get_string(root, "return_path", "return_path", true);
  require_mailbox(c.return_path, "return_path");
  const std::string default_domain = c.from.address.substr(c.from.address.rfind('@') + 1);
  c.message_id_domain = get_string(root, "message_id_domain", "message_id_domain", false, default_domain);
  if (!valid_mailbox("x@" + c.message_id_domain)) fail("message_id_domain", "must be a domain name");
  c.templates = get_string(root, "templates", "templates", true);
  if (::access(c.templates.c_str(), R_OK | X_OK) != 0) fail("templates", "is not a readable directory: " + c.templates);
  c.default_template = get_string(root, "default_template", "default_template", false);
  if (find(root, "unsubscribe") == nullptr) fail("unsubscribe", "is required (List-Unsubscribe for marketing mail)");
  if (const json* r = find(root, "rate_per_second")) {
    if (!r->is_number()) fail("rate_per_second", "must be a number");
    c.rate_per_second = r->get<double>();
    if (!std::isfinite(c.rate_per_second) || c.rate_per_second < 0 || c.rate_per_second > 100000)
      fail("rate_per_second", "must be between 0 (unlimited) and 100000");
  }
  c.max_message_bytes =
      static_cast<uint64_t>(get_int(root, "max_message_bytes", "max_message_bytes", 10485760, 1024, int64_t{1} << 31));
  return c;
}

}  // namespace tp_email
