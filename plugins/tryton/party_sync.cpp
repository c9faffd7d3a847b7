#include "party_sync.hpp"

#include <algorithm>
#include <ctime>

#include "tryton_rows.hpp"
#include "tryton_time.hpp"

namespace touchpoint::tryton {
namespace {

int64_t stamp_of(const Json& row) {
  return std::max(datetime_us(row.value("create_date", Json())).value_or(0),
                  datetime_us(row.value("write_date", Json())).value_or(0));
}

std::string text(const Json& row, const char* key) {
  auto it = row.find(key);
  return it != row.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t integer(const Json& v) { return v.is_number_integer() ? v.get<int64_t>() : 0; }

// Tryton orders contact mechanisms and addresses by sequence, then id.
bool before(const Json* a, const Json* b) {
  const int64_t sa = integer(a->value("sequence", Json())), sb = integer(b->value("sequence", Json()));
  const bool na = !a->value("sequence", Json()).is_number(), nb = !b->value("sequence", Json()).is_number();
  if (na != nb) return na;  // Tryton's sequence_ordered: NULLS FIRST
  if (sa != sb) return sa < sb;
  return integer(a->value("id", Json())) < integer(b->value("id", Json()));
}

Json domain_for(const SyncCursor& from, int64_t overlap_us) {
  Json d = Json::array({"AND", Json::array({"id", ">", from.last_id})});
  if (from.since_us > 0) {
    const Json t = datetime_json(std::max<int64_t>(0, from.since_us - overlap_us));
    Json any = Json::array({"OR"});
    for (const char* path : {"create_date", "write_date", "contact_mechanisms.create_date",
                             "contact_mechanisms.write_date", "addresses.create_date", "addresses.write_date"})
      any.push_back(Json::array({path, ">=", t}));
    d.push_back(std::move(any));
  }
  return d;
}

std::vector<int64_t> ids_in(const Json& rows, const char* key) {
  std::vector<int64_t> out;
  for (const Json& r : rows)
    if (auto it = r.find(key); it != r.end() && it->is_array())
      for (const Json& id : *it)
        if (id.is_number_integer()) out.push_back(id.get<int64_t>());
  return out;
}

}  // namespace

std::string encode_cursor(const SyncCursor& c) {
  return Json{{"v", 1},
              {"since_us", c.since_us},
              {"last_id", c.last_id},
              {"high_us", c.high_us},
              {"sweep_started_s", c.sweep_started_s}}
      .dump();
}

std::optional<SyncCursor> decode_cursor(std::string_view text) {
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("v", 0) != 1) return std::nullopt;
  SyncCursor c;
  for (auto [key, out] : {std::pair{"since_us", &c.since_us}, std::pair{"last_id", &c.last_id},
                          std::pair{"high_us", &c.high_us}, std::pair{"sweep_started_s", &c.sweep_started_s}}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() < 0) return std::nullopt;
    *out = it->get<int64_t>();
  }
  return c;
}

PartyView map_party(const Json& party, const std::vector<const Json*>& mechanisms,
                    const std::vector<const Json*>& addresses, const std::string& system) {
  PartyView v;
  v.id = integer(party.value("id", Json()));
  v.stamp_us = stamp_of(party);
  std::vector<const Json*> mech(mechanisms), addr(addresses);
  std::sort(mech.begin(), mech.end(), before);
  std::sort(addr.begin(), addr.end(), before);
  Json email, phone, address;
  for (const Json* m : mech) {
    v.stamp_us = std::max(v.stamp_us, stamp_of(*m));
    if (!is_active(*m)) continue;
    const std::string type = text(*m, "type"), value = text(*m, "value");
    if (value.empty()) continue;
    if (type == "email" && email.is_null()) email = value;
    if ((type == "phone" || type == "mobile") && phone.is_null()) phone = value;
  }
  for (const Json* a : addr) {
    v.stamp_us = std::max(v.stamp_us, stamp_of(*a));
    if (!is_active(*a) || !address.is_null()) continue;
    Json out = Json::object();
    for (auto [from, to] : {std::pair{"street", "street"}, std::pair{"postal_code", "zip"}, std::pair{"city", "city"}})
      if (std::string s = text(*a, from); !s.empty()) out[to] = s;
    if (auto c = a->find("country."); c != a->end() && c->is_object())
      if (std::string code = text(*c, "code"); !code.empty()) out["country"] = code;
    if (!out.empty()) address = std::move(out);
  }
  // null clears what this source said before: a removed e-mail is gone.
  v.data = Json{{"external_ids", Json{{system, std::to_string(v.id)}}},
                {"name", party.contains("name") && party["name"].is_string() ? party["name"] : Json()},
                {"email", email},
                {"phone", phone},
                {"address", address},
                {"tryton_active", is_active(party)}};
  if (std::string code = text(party, "code"); !code.empty()) v.data["tryton_code"] = code;
  return v;
}

SyncPage PartySync::next_page(const SyncCursor& from) {
  const Json context{{"active_test", false}};  // inactive parties and mechanisms are changes too
  const Json parties = rpc_.model("party.party", "search_read",
                                  Json::array({domain_for(from, config_.overlap_seconds * 1'000'000), 0,
                                               config_.page_size, Json::array({Json::array({"id", "ASC"})}),
                                               Json::array({"name", "code", "active", "create_date", "write_date",
                                                            "contact_mechanisms", "addresses"})}),
                                  context);
  if (!parties.is_array()) throw TrytonUnavailable("tryton: party.party.search_read did not answer a list");
  SyncPage page;
  page.next = from;
  // The server's clock as it answered the sweep's first query, before any later call.
  if (from.last_id == 0)
    page.next.sweep_started_s =
        rpc_.server_time_s() > 0 ? rpc_.server_time_s() : static_cast<int64_t>(std::time(nullptr));
  Json mechanisms = Json::array(), addresses = Json::array();
  if (const std::vector<int64_t> ids = ids_in(parties, "contact_mechanisms"); !ids.empty())
    mechanisms = rpc_.model(
        "party.contact_mechanism", "read",
        Json::array({ids, Json::array({"party", "type", "value", "active", "sequence", "create_date", "write_date"})}),
        context);
  if (const std::vector<int64_t> ids = ids_in(parties, "addresses"); !ids.empty())
    addresses = rpc_.model("party.address", "read",
                           Json::array({ids, Json::array({"party", "street", "postal_code", "city", "country.code",
                                                          "active", "sequence", "create_date", "write_date"})}),
                           context);
  std::map<int64_t, std::vector<const Json*>> mech_of, addr_of;
  for (const Json& m : mechanisms) mech_of[integer(m.value("party", Json()))].push_back(&m);
  for (const Json& a : addresses) addr_of[integer(a.value("party", Json()))].push_back(&a);

  size_t unit_bytes = 0;
  bool cut = false;
  for (const Json& p : parties) {
    if (!p.is_object()) continue;
    PartyView v =
        map_party(p, mech_of[integer(p.value("id", Json()))], addr_of[integer(p.value("id", Json()))], config_.system);
    if (v.id <= 0) continue;
    if (auto it = emitted_.find(v.id); it != emitted_.end() && it->second == v.stamp_us) {
      page.next.last_id = std::max(page.next.last_id, v.id);
      page.next.high_us = std::max(page.next.high_us, v.stamp_us);
      continue;  // an overlap re-read
    }
    Record r;
    r.id = "party:" + std::to_string(v.id) + "@" + std::to_string(v.stamp_us);
    r.type = "profile";
    r.ts_ms = v.stamp_us / 1000;
    r.data = v.data.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (r.data.size() > TP_MAX_RECORD_BYTES) {
      page.rejects.push_back(Reject{r.data.substr(0, 4096),
                                    "party " + std::to_string(v.id) + " is " + std::to_string(r.data.size()) +
                                        " bytes as a profile, more than the record limit of " +
                                        std::to_string(TP_MAX_RECORD_BYTES),
                                    "party.party," + std::to_string(v.id)});
    } else {
      // A unit has a size limit of its own: a page of very large parties ends
      // early, and the next page starts after the last party kept.
      const size_t bytes = r.id.size() + r.data.size() + TP_UNIT_RECORD_OVERHEAD;
      if (!page.records.empty() && unit_bytes + bytes > TP_MAX_UNIT_BYTES / 2) {
        cut = true;
        break;
      }
      unit_bytes += bytes;
      page.records.push_back(std::move(r));
    }
    page.next.last_id = std::max(page.next.last_id, v.id);
    page.next.high_us = std::max(page.next.high_us, v.stamp_us);
    page.versions.emplace_back(v.id, v.stamp_us);
  }
  if (!cut && parties.size() < static_cast<size_t>(config_.page_size)) {
    // The sweep is complete: start the next one at the newest change seen,
    // but not after the moment this sweep began.
    SyncCursor next;
    int64_t bound = page.next.high_us;
    if (page.next.sweep_started_s > 0) bound = std::min(bound, page.next.sweep_started_s * 1'000'000);
    next.since_us = std::max(from.since_us, bound);
    next.high_us = next.since_us;
    page.next = next;
    page.sweep_done = true;
  }
  return page;
}

void PartySync::accepted(const SyncPage& page) {
  for (const auto& [id, stamp] : page.versions) emitted_[id] = stamp;
  if (page.sweep_done) {
    // What the next sweep can re-read is within the overlap of its bound; older entries go.
    const int64_t keep_from = page.next.since_us - config_.overlap_seconds * 1'000'000;
    std::erase_if(emitted_, [&](const auto& kv) { return kv.second < keep_from; });
  }
}

}  // namespace touchpoint::tryton
