#include "rest_config.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <touchpoint/plugin.hpp>

namespace touchpoint::rest {
namespace {

const std::vector<std::string> kReadVariables = {"cursor", "next", "offset", "page", "limit"};
const std::vector<std::string> kWriteVariables = {"record.id", "record.key", "record.type", "record.source", "data"};
const std::vector<std::string> kMapVariables = {"record.id", "cursor"};

[[noreturn]] void fail(const std::string& key, const std::string& what) { throw ConfigError(key + ": " + what); }

std::string join(const std::string& where, const std::string& key) { return where.empty() ? key : where + "." + key; }

void only_keys(const Json& obj, const std::string& where, std::initializer_list<std::string_view> allowed) {
  if (!obj.is_object()) fail(where, "must be a mapping");
  for (const auto& item : obj.items())
    if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end())
      fail(join(where, item.key()), "unknown key");
}

std::string text(const Json& obj, const char* key, const std::string& where, const char* dflt = nullptr) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (dflt == nullptr) fail(join(where, key), "is required");
    return dflt;
  }
  if (!it->is_string()) fail(join(where, key), "must be a string");
  return it->get<std::string>();
}

// Numbers also as digit strings: ${env:...} references always give strings.
double number(const Json& obj, const char* key, const std::string& where, double dflt, double lo, double hi) {
  auto it = obj.find(key);
  if (it == obj.end()) return dflt;
  double n = 0;
  if (it->is_number()) {
    n = it->get<double>();
  } else if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    size_t used = 0;
    try {
      n = std::stod(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != s.size()) fail(join(where, key), "must be a number");
  } else {
    fail(join(where, key), "must be a number");
  }
  if (!std::isfinite(n) || n < lo || n > hi)
    fail(join(where, key), "must be between " + std::to_string(static_cast<int64_t>(lo)) + " and " +
                               std::to_string(static_cast<int64_t>(hi)));
  return n;
}

int64_t integer(const Json& obj, const char* key, const std::string& where, int64_t dflt, int64_t lo, int64_t hi) {
  const double n = number(obj, key, where, static_cast<double>(dflt), static_cast<double>(lo), static_cast<double>(hi));
  if (n != std::floor(n)) fail(join(where, key), "must be a whole number");
  return static_cast<int64_t>(n);
}

bool boolean(const Json& obj, const char* key, const std::string& where, bool dflt) {
  auto it = obj.find(key);
  if (it == obj.end()) return dflt;
  if (!it->is_boolean()) fail(join(where, key), "must be true or false");
  return it->get<bool>();
}

std::string pointer(const Json& obj, const char* key, const std::string& where, const char* dflt = nullptr) {
  std::string p = text(obj, key, where, dflt);
  try {
    (void)Json::json_pointer(p);
  } catch (const Json::exception&) {
    fail(join(where, key),
         "must be a JSON pointer such as /results or /properties/email, not '" + p.substr(0, 80) + "'");
  }
  return p;
}

bool valid_header_name(const std::string& s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

bool no_line_breaks(const std::string& s) { return s.find_first_of("\r\n") == std::string::npos; }

std::vector<std::pair<std::string, std::string>> header_map(const Json& obj, const std::string& where) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!obj.is_object()) fail(where, "must be a mapping of header names to values");
  for (const auto& item : obj.items()) {
    if (!valid_header_name(item.key())) fail(join(where, item.key()), "is not a header name");
    if (!item.value().is_string() || !no_line_breaks(item.value().get<std::string>()))
      fail(join(where, item.key()), "must be a string on one line");
    out.emplace_back(item.key(), item.value().get<std::string>());
  }
  return out;
}

TextTemplate text_template(const std::string& value, const std::string& where, const std::vector<std::string>& vars) {
  try {
    return TextTemplate(value, vars);
  } catch (const TemplateError& e) {
    fail(where, e.what());
  }
}

JsonTemplate json_template(const Json& value, const std::string& where, const std::vector<std::string>& vars) {
  try {
    return JsonTemplate(value, vars);
  } catch (const TemplateError& e) {
    fail(where, e.what());
  }
}

RequestTemplate parse_request(const Json& j, const std::string& where, const std::vector<std::string>& vars,
                              const char* default_method, std::initializer_list<std::string_view> methods) {
  RequestTemplate r;
  r.method = text(j, "method", where, default_method);
  if (std::find(methods.begin(), methods.end(), r.method) == methods.end()) {
    std::string names;
    for (std::string_view m : methods) names += (names.empty() ? "" : ", ") + std::string(m);
    fail(join(where, "method"), "must be one of " + names + ", not '" + r.method.substr(0, 16) + "'");
  }
  const std::string path = text(j, "path", where);
  if (path.empty() || path[0] != '/') fail(join(where, "path"), "must start with '/' (it is relative to base_url)");
  if (!no_line_breaks(path)) fail(join(where, "path"), "must be on one line");
  r.path = text_template(path, join(where, "path"), vars);
  if (auto it = j.find("query"); it != j.end()) {
    if (!it->is_object()) fail(join(where, "query"), "must be a mapping of parameter names to values");
    for (const auto& item : it->items()) {
      const Json& v = item.value();
      if (!v.is_string() && !v.is_number() && !v.is_boolean())
        fail(join(join(where, "query"), item.key()), "must be a string or a number");
      r.query.emplace_back(item.key(), text_template(v.is_string() ? v.get<std::string>() : v.dump(),
                                                     join(join(where, "query"), item.key()), vars));
    }
  }
  if (auto it = j.find("headers"); it != j.end())
    for (auto& [name, value] : header_map(*it, join(where, "headers")))
      r.headers.emplace_back(name, text_template(value, join(join(where, "headers"), name), vars));
  if (auto it = j.find("body"); it != j.end()) {
    if (r.method == "GET") fail(join(where, "body"), "a GET request has no body");
    r.body = json_template(*it, join(where, "body"), vars);
  }
  return r;
}

AuthConfig parse_auth(const Json& j) {
  const std::string where = "auth";
  AuthConfig a;
  const std::string type = text(j, "type", where);
  if (type == "none") {
    only_keys(j, where, {"type"});
  } else if (type == "bearer") {
    only_keys(j, where, {"type", "token"});
    a.type = AuthConfig::Type::bearer;
    a.token = text(j, "token", where);
  } else if (type == "basic") {
    only_keys(j, where, {"type", "user", "password"});
    a.type = AuthConfig::Type::basic;
    a.user = text(j, "user", where);
    a.password = text(j, "password", where);
    if (a.user.find(':') != std::string::npos) fail("auth.user", "must not contain ':'");
  } else if (type == "api_key") {
    only_keys(j, where, {"type", "key", "header", "param"});
    a.type = AuthConfig::Type::api_key;
    a.key = text(j, "key", where);
    a.param = text(j, "param", where, "");
    a.header = text(j, "header", where, a.param.empty() ? "X-API-Key" : "");
    if (!a.header.empty() && !a.param.empty()) fail("auth", "give header or param, not both");
    if (!a.header.empty() && !valid_header_name(a.header)) fail("auth.header", "is not a header name");
  } else if (type == "oauth2_client_credentials") {
    only_keys(j, where, {"type", "token_url", "client_id", "client_secret", "scope", "client_auth"});
    a.type = AuthConfig::Type::oauth2;
    a.token_url = text(j, "token_url", where);
    a.client_id = text(j, "client_id", where);
    a.client_secret = text(j, "client_secret", where);
    a.scope = text(j, "scope", where, "");
    const std::string how = text(j, "client_auth", where, "body");
    if (how != "body" && how != "basic") fail("auth.client_auth", "must be body or basic");
    a.client_auth_basic = how == "basic";
    if (a.token_url.rfind("http://", 0) != 0 && a.token_url.rfind("https://", 0) != 0)
      fail("auth.token_url", "must be an http:// or https:// URL");
  } else {
    fail("auth.type",
         "must be none, bearer, basic, api_key or oauth2_client_credentials, not '" + type.substr(0, 32) + "'");
  }
  for (const std::string* s : {&a.token, &a.password, &a.key, &a.client_secret})
    if (!no_line_breaks(*s)) fail("auth", "a credential must be on one line");
  return a;
}

Pagination parse_pagination(const Json& j) {
  const std::string where = "read.pagination";
  Pagination p;
  const std::string type = text(j, "type", where);
  if (type == "none") {
    only_keys(j, where, {"type"});
  } else if (type == "cursor") {
    only_keys(j, where, {"type", "next", "param"});
    p.type = Pagination::Type::cursor;
    p.next = pointer(j, "next", where);
    p.param = text(j, "param", where, "");  // "": the request's templates use {{next}}
  } else if (type == "next_url") {
    only_keys(j, where, {"type", "next"});
    p.type = Pagination::Type::next_url;
    p.next = pointer(j, "next", where);
  } else if (type == "link") {
    only_keys(j, where, {"type"});
    p.type = Pagination::Type::link;
  } else if (type == "offset" || type == "page") {
    only_keys(j, where, {"type", "param", "size_param", "size", "start"});
    p.type = type == "offset" ? Pagination::Type::offset : Pagination::Type::page;
    p.param = text(j, "param", where, type == "offset" ? "offset" : "page");
    p.size_param = text(j, "size_param", where, type == "offset" ? "limit" : "per_page");
    p.size = integer(j, "size", where, 100, 1, 100000);
    p.start = integer(j, "start", where, type == "offset" ? 0 : 1, 0, 1000000);
  } else {
    fail("read.pagination.type",
         "must be none, cursor, next_url, link, offset or page, not '" + type.substr(0, 32) + "'");
  }
  return p;
}

ReadConfig parse_read(const Json& j) {
  const std::string where = "read";
  only_keys(j, where,
            {"method", "path", "query", "headers", "body", "records", "type", "id", "cursor", "pagination", "map",
             "max_pages_per_sweep"});
  ReadConfig r;
  r.request = parse_request(j, where, kReadVariables, "GET", {"GET", "POST"});
  r.records = pointer(j, "records", where, "");
  r.type = text(j, "type", where, "profile");
  if (r.type.empty() || r.type.size() > 64) fail("read.type", "must be a record type such as profile or event");
  r.id = pointer(j, "id", where);
  if (r.id.empty()) fail("read.id", "must point into the item, such as /id");
  if (auto it = j.find("cursor"); it != j.end()) {
    only_keys(*it, "read.cursor", {"field", "start"});
    r.cursor_field = pointer(*it, "field", "read.cursor");
    if (r.cursor_field.empty()) fail("read.cursor.field", "must point into the item, such as /updatedAt");
    auto start = it->find("start");
    if (start == it->end() || !(start->is_string() || start->is_number()))
      fail("read.cursor.start", "is required: the first sweep's lower bound (a date or a number)");
    r.cursor_start = *start;
  }
  if (auto it = j.find("pagination"); it != j.end()) r.pagination = parse_pagination(*it);
  if (auto it = j.find("map"); it != j.end()) {
    if (!it->is_object()) fail("read.map", "must be a mapping (the record's data)");
    r.map = json_template(*it, "read.map", kMapVariables);
  }
  r.max_pages_per_sweep = integer(j, "max_pages_per_sweep", where, r.max_pages_per_sweep, 1, 10'000'000);
  return r;
}

WriteConfig parse_write(const Json& j) {
  const std::string where = "write";
  only_keys(j, where, {"method", "path", "query", "headers", "body", "types", "skip_unless", "batch"});
  WriteConfig w;
  w.request = parse_request(j, where, kWriteVariables, "PUT", {"PUT", "PATCH", "POST", "DELETE"});
  if (auto it = j.find("types"); it != j.end()) {
    if (!it->is_array()) fail("write.types", "must be a list of record types");
    for (const Json& t : *it) {
      if (!t.is_string() || t.get<std::string>().empty()) fail("write.types", "must be a list of record types");
      w.types.push_back(t.get<std::string>());
    }
  }
  if (auto it = j.find("skip_unless"); it != j.end()) {
    const Json list = it->is_string() ? Json::array({*it}) : *it;
    if (!list.is_array()) fail("write.skip_unless", "must be a JSON pointer or a list of them");
    for (const Json& p : list) {
      const Json holder = {{"p", p}};
      w.skip_unless.push_back(pointer(holder, "p", "write.skip_unless"));
    }
  }
  if (auto it = j.find("batch"); it != j.end()) {
    const std::string b = "write.batch";
    only_keys(*it, b, {"max_records", "body", "results", "ok", "reason"});
    BatchConfig batch;
    batch.max_records = integer(*it, "max_records", b, batch.max_records, 1, 10000);
    auto body = it->find("body");
    if (body == it->end() || !body->is_object()) fail(b + ".body", "is required: the request body around {{records}}");
    if (body->dump().find("{{records}}") == std::string::npos) fail(b + ".body", "must hold {{records}}");
    batch.body = json_template(*body, b + ".body", {"records", "count"});
    batch.results = pointer(*it, "results", b, "");
    batch.ok = pointer(*it, "ok", b);
    batch.reason = pointer(*it, "reason", b, "");
    if (w.request.body.empty()) fail("write.body", "is required with batch: the item of one record");
    if (w.request.path.has_placeholders())
      fail("write.path", "takes no placeholders with batch: one request holds many records");
    for (const auto& [name, t] : w.request.query)
      if (t.has_placeholders()) fail("write.query." + name, "takes no placeholders with batch");
    w.batch = std::move(batch);
  }
  return w;
}

}  // namespace

Config parse_config(std::string_view json) {
  Json j;
  try {
    j = Json::parse(json);
  } catch (const Json::exception& e) {
    throw ConfigError(std::string("rest: the config is not JSON: ") + e.what());
  }
  only_keys(j, "",
            {"base_url", "auth", "headers", "timeout_ms", "connect_timeout_ms", "verify_tls", "ca_file",
             "requests_per_second", "max_connections", "max_response_bytes", "max_backoff_ms", "read", "write"});
  Config c;
  c.base_url = text(j, "base_url", "");
  if (c.base_url.rfind("http://", 0) != 0 && c.base_url.rfind("https://", 0) != 0)
    fail("base_url", "must be an http:// or https:// URL");
  if (!no_line_breaks(c.base_url) || c.base_url.find_first_of("?# ") != std::string::npos)
    fail("base_url", "must be a URL without query, fragment or spaces");
  while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
  if (auto it = j.find("auth"); it != j.end()) c.auth = parse_auth(*it);
  if (auto it = j.find("headers"); it != j.end()) c.headers = header_map(*it, "headers");
  c.timeout_ms = integer(j, "timeout_ms", "", c.timeout_ms, 100, 600'000);
  c.connect_timeout_ms = integer(j, "connect_timeout_ms", "", c.connect_timeout_ms, 100, 600'000);
  c.verify_tls = boolean(j, "verify_tls", "", true);
  c.ca_file = text(j, "ca_file", "", "");
  c.requests_per_second = number(j, "requests_per_second", "", 0, 0, 100000);
  c.max_connections = integer(j, "max_connections", "", c.max_connections, 1, 64);
  c.max_response_bytes = integer(j, "max_response_bytes", "", c.max_response_bytes, 1024, int64_t{1} << 32);
  c.max_backoff_ms = integer(j, "max_backoff_ms", "", c.max_backoff_ms, 1000, 3'600'000);
  if (auto it = j.find("read"); it != j.end()) c.read = parse_read(*it);
  if (auto it = j.find("write"); it != j.end()) c.write = parse_write(*it);
  if (!c.read && !c.write) fail("read", "a rest connector needs read (a source), write (a sink) or both");
  return c;
}

}  // namespace touchpoint::rest
