#include "rest_sync.hpp"

#include <algorithm>

#include "tp_common/sha256.hpp"

namespace touchpoint::rest {
namespace {

// Bytes of ids remembered at one stamp, so the state fits a checkpoint
// (TP_MAX_CURSOR_BYTES, twice: boundary and at_high). More ids sharing one
// stamp are read again by the next sweep, and stored once by their record ids.
constexpr size_t kMaxIdBytesAtStamp = TP_MAX_CURSOR_BYTES / 3 - 1024;
constexpr size_t kMaxPageUrl = 4096;
constexpr size_t kMaxRemembered = 500'000;
constexpr size_t kMaxRejectRaw = 4096;

std::string origin_path(const std::string& base, const std::string& path) {
  const size_t scheme = base.find("://");
  const size_t end = base.find('/', scheme + 3);
  return base.substr(0, end) + path;
}

std::string id_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  return {};
}

void remember(std::vector<std::string>& ids, const std::string& id) {
  size_t bytes = 0;
  for (const std::string& k : ids) bytes += k.size() + 3;
  if (bytes + id.size() + 3 <= kMaxIdBytesAtStamp && std::find(ids.begin(), ids.end(), id) == ids.end())
    ids.push_back(id);
}

}  // namespace

void append_query(std::string& url, const RequestTemplate& request, const TemplateContext& ctx) {
  for (const auto& [name, t] : request.query) {
    if (t.is_single_placeholder() && t.value(ctx).is_null()) continue;
    add_query(url, name, t.render(ctx, {}, true));
  }
}

std::string excerpt(const std::string& text, size_t max) {
  std::string out = text.substr(0, max);
  for (char& c : out)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (text.size() > max) out += "...";
  return out;
}

int compare_stamps(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const std::string x = a.is_string() ? a.get<std::string>() : dump_compact(a);
  const std::string y = b.is_string() ? b.get<std::string>() : dump_compact(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

std::string encode_state(const SyncState& s) {
  return dump_compact(Json{{"v", 1},
                           {"lower", s.lower},
                           {"boundary", s.boundary},
                           {"high", s.high},
                           {"at_high", s.at_high},
                           {"in_sweep", s.in_sweep},
                           {"page", s.page},
                           {"pages", s.pages}});
}

std::optional<SyncState> decode_state(std::string_view text) {
  const Json j = Json::parse(text, nullptr, false);
  if (!j.is_object() || j.value("v", 0) != 1) return std::nullopt;
  try {
    SyncState s;
    s.lower = j.at("lower");
    s.boundary = j.at("boundary").get<std::vector<std::string>>();
    s.high = j.at("high");
    s.at_high = j.at("at_high").get<std::vector<std::string>>();
    s.in_sweep = j.at("in_sweep").get<bool>();
    s.page = j.at("page");
    s.pages = j.at("pages").get<int64_t>();
    return s;
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

RestSync::RestSync(HttpClient& http, const Config& config) : config_(config), read_(*config.read), http_(http) {}

SyncState RestSync::initial() const {
  SyncState s;
  if (!read_.cursor_field.empty()) s.lower = s.high = read_.cursor_start;
  return s;
}

HttpRequest RestSync::build_request(const SyncState& s) const {
  const Pagination& p = read_.pagination;
  HttpRequest req;
  req.method = read_.request.method;
  req.headers.push_back("Accept: application/json");
  TemplateContext ctx;
  if (!read_.cursor_field.empty()) ctx.variables["cursor"] = s.lower;
  if (s.page.is_object() && s.page.contains("next")) ctx.variables["next"] = s.page["next"];
  if (p.type == Pagination::Type::offset || p.type == Pagination::Type::page) {
    const int64_t n = s.page.is_object() ? s.page.value("n", p.start) : p.start;
    ctx.variables[p.type == Pagination::Type::offset ? "offset" : "page"] = n;
    ctx.variables["limit"] = p.size;
  }
  for (const auto& [name, t] : read_.request.headers) req.headers.push_back(name + ": " + t.render(ctx, {}, true));

  if (s.page.is_object() && s.page.contains("url")) {
    // next_url / Link: the server's own URL for the next page, on the configured host only.
    const std::string url = s.page["url"].get<std::string>();
    req.url = url.rfind("/", 0) == 0 ? origin_path(config_.base_url, url) : url;
    if (!same_origin(req.url, config_.base_url))
      throw ApiRefused("rest: the next page's URL " + excerpt(url, 200) + " is not on " + config_.base_url +
                       "; not following it (the credentials would go with it)");
  } else {
    req.url = config_.base_url + read_.request.path.render(ctx, url_encode);
    append_query(req.url, read_.request, ctx);
    if (p.type == Pagination::Type::cursor && !p.param.empty() && ctx.variables.count("next"))
      add_query(req.url, p.param, text_of(ctx.variables["next"]));
    if (p.type == Pagination::Type::offset || p.type == Pagination::Type::page) {
      if (!p.param.empty())
        add_query(req.url, p.param, text_of(ctx.variables[p.type == Pagination::Type::offset ? "offset" : "page"]));
      if (!p.size_param.empty()) add_query(req.url, p.size_param, std::to_string(p.size));
    }
  }
  if (!read_.request.body.empty()) {
    req.body = dump_compact(read_.request.body.render(ctx));
    req.headers.push_back("Content-Type: application/json");
  }
  return req;
}

SyncPage RestSync::next_page(const SyncState& state) {
  SyncState n = state;
  if (!n.in_sweep) {
    n.in_sweep = true;
    n.page = Json();
    n.pages = 0;
    n.high = n.lower;
    n.at_high = n.boundary;
  }
  if (n.pages >= read_.max_pages_per_sweep)
    throw ApiRefused("rest: more than read.max_pages_per_sweep (" + std::to_string(read_.max_pages_per_sweep) +
                     ") pages in one sweep; the API's paging may be going round in circles");
  const HttpRequest req = build_request(n);
  const HttpResponse r = http_.perform(req);
  const std::string where = req.method + " " + req.url.substr(0, req.url.find('?'));
  if (r.status == 0) {
    if (r.too_large) throw ApiRefused("rest: " + where + ": " + r.error + "; ask for smaller pages");
    throw ApiUnavailable("rest: " + where + ": " + r.error);
  }
  if (r.status == 408 || r.status == 425 || r.status == 429 || r.status >= 500)
    throw ApiUnavailable("rest: " + where + " answered HTTP " + std::to_string(r.status) + ": " + excerpt(r.body));
  if (r.status == 401 || r.status == 403)
    throw AuthRefused("rest: " + where + " refused the credentials (HTTP " + std::to_string(r.status) +
                      "): " + excerpt(r.body));
  if (r.status < 200 || r.status >= 300)
    throw ApiRefused("rest: " + where + " answered HTTP " + std::to_string(r.status) + ": " + excerpt(r.body));
  const Json body = Json::parse(r.body, nullptr, false);
  if (body.is_discarded())
    throw ApiUnavailable("rest: " + where + " answered HTTP " + std::to_string(r.status) +
                         " without JSON: " + excerpt(r.body, 120));
  const Json::json_pointer records_at(read_.records);
  if (!body.contains(records_at) || !body.at(records_at).is_array())
    throw ApiRefused("rest: " + where + ": the answer has no list at read.records '" + read_.records +
                     "': " + excerpt(r.body, 200));
  const Json& items = body.at(records_at);

  SyncPage page;
  page.items = items.size();
  EmitUnit unit;
  size_t unit_bytes = 0;
  const Json::json_pointer id_at(read_.id);
  const bool incremental = !read_.cursor_field.empty();
  for (size_t i = 0; i < items.size(); ++i) {
    const Json& item = items[i];
    const std::string location = where + " " + read_.records + "/" + std::to_string(i);
    auto reject = [&](const std::string& reason) {
      // Each bad item is a dead letter once, not once per sweep.
      const std::string raw = dump_compact(item), key = "!" + tp_common::sha256_hex(raw).substr(0, 32);
      if (emitted_.count(key)) return;
      page.versions.emplace_back(key, key);
      unit.rejects.push_back(Reject{raw.substr(0, kMaxRejectRaw), reason, location});
    };
    if (!item.is_object()) {
      reject("an item that is not an object");
      continue;
    }
    const std::string id = item.contains(id_at) ? id_text(item.at(id_at)) : std::string();
    if (id.empty() || id.size() > 200) {
      reject("no id (a string or an integer of up to 200 bytes) at read.id '" + read_.id + "'");
      continue;
    }
    Record rec;
    Json stamp;
    if (incremental) {
      const Json::json_pointer at(read_.cursor_field);
      stamp = item.contains(at) ? item.at(at) : Json();
      if (!stamp.is_string() && !stamp.is_number()) {
        reject("no change stamp at read.cursor.field '" + read_.cursor_field + "'");
        continue;
      }
      if (stamp.is_string() && stamp.get_ref<const std::string&>().size() > 64) {
        reject("a change stamp longer than 64 bytes");
        continue;
      }
      if (compare_stamps(stamp, n.lower) == 0 &&
          std::find(n.boundary.begin(), n.boundary.end(), id) != n.boundary.end())
        continue;  // read by the sweep before, at the stamp it ended on
      const int c = compare_stamps(stamp, n.high);
      if (c > 0) {
        n.high = stamp;
        n.at_high = {id};
      } else if (c == 0) {
        remember(n.at_high, id);
      }
      rec.id = id + "@" + text_of(stamp);
    } else {
      // No change stamp: the same content gives the same id, and is stored once.
      rec.id = id + "@" + tp_common::sha256_hex(dump_compact(item)).substr(0, 16);
      if (auto it = emitted_.find(id); it != emitted_.end() && it->second == rec.id) continue;  // unchanged
      page.versions.emplace_back(id, rec.id);
    }
    rec.type = read_.type;
    Json data = item;
    if (!read_.map.empty()) {
      TemplateContext ctx;
      ctx.subject = &item;
      ctx.variables["record.id"] = id;
      if (incremental) ctx.variables["cursor"] = stamp;
      data = read_.map.render(ctx);
    }
    rec.data = dump_compact(data);
    if (rec.data.size() > TP_MAX_RECORD_BYTES) {
      reject("item " + id.substr(0, 64) + " is " + std::to_string(rec.data.size()) +
             " bytes as a record, more than the record limit of " + std::to_string(TP_MAX_RECORD_BYTES));
      continue;
    }
    const size_t bytes = rec.id.size() + rec.type.size() + rec.data.size() + TP_UNIT_RECORD_OVERHEAD;
    if (!unit.records.empty() && unit_bytes + bytes > TP_MAX_UNIT_BYTES / 2) {
      // Units before the last keep the old cursor: after a crash the page is read again.
      unit.cursor = encode_state(state);
      page.units.push_back(std::move(unit));
      unit = EmitUnit();
      unit_bytes = 0;
    }
    unit_bytes += bytes;
    unit.records.push_back(std::move(rec));
  }

  // Where the next page is, by the configured style.
  const Pagination& p = read_.pagination;
  Json next_page;
  switch (p.type) {
    case Pagination::Type::none:
      break;
    case Pagination::Type::cursor: {
      const Json::json_pointer at(p.next);
      const Json token = body.contains(at) ? body.at(at) : Json();
      if ((token.is_string() && !token.get_ref<const std::string&>().empty()) || token.is_number()) {
        if (dump_compact(token).size() > kMaxPageUrl)
          throw ApiRefused("rest: " + where + ": a next-page token longer than " + std::to_string(kMaxPageUrl));
        if (n.page.is_object() && n.page.value("next", Json()) == token)
          throw ApiRefused("rest: " + where + " gave the same next-page token twice (" +
                           excerpt(dump_compact(token), 80) + ")");
        next_page = {{"next", token}};
      }
      break;
    }
    case Pagination::Type::next_url: {
      const Json::json_pointer at(p.next);
      const Json url = body.contains(at) ? body.at(at) : Json();
      if (url.is_string() && !url.get_ref<const std::string&>().empty()) {
        if (url.get_ref<const std::string&>().size() > kMaxPageUrl)
          throw ApiRefused("rest: " + where + ": a next-page URL longer than " + std::to_string(kMaxPageUrl));
        next_page = {{"url", url}};
      }
      break;
    }
    case Pagination::Type::link: {
      auto it = r.headers.find("link");
      const std::string url = it == r.headers.end() ? std::string() : link_next(it->second);
      if (url.size() > kMaxPageUrl)
        throw ApiRefused("rest: " + where + ": a Link URL longer than " + std::to_string(kMaxPageUrl));
      if (!url.empty()) next_page = {{"url", url}};
      break;
    }
    case Pagination::Type::offset:
    case Pagination::Type::page:
      if (static_cast<int64_t>(items.size()) >= p.size) {
        const int64_t at = n.page.is_object() ? n.page.value("n", p.start) : p.start;
        next_page = {{"n", p.type == Pagination::Type::offset ? at + static_cast<int64_t>(items.size()) : at + 1}};
      }
      break;
  }
  ++n.pages;
  if (next_page.is_null()) {
    n.in_sweep = false;
    n.page = Json();
    n.lower = n.high;
    n.boundary = n.at_high;
    page.sweep_done = true;
  } else {
    n.page = next_page;
  }
  page.next = n;
  unit.cursor = encode_state(n);
  page.units.push_back(std::move(unit));
  return page;
}

void RestSync::accepted(const SyncPage& page) {
  for (const auto& [id, version] : page.versions)
    if (emitted_.size() < kMaxRemembered || emitted_.count(id)) emitted_[id] = version;
}

}  // namespace touchpoint::rest
