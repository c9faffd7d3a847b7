#pragma once
// Row builders and printers for the store conformance suite.

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace touchpoint::core::test {

inline ProfileRow profile_row(int64_t id, std::string attributes = "{}", int64_t merged_into = 0) {
  ProfileRow p;
  p.id = id;
  p.created_ms = 100 + id;
  p.updated_ms = 200 + id;
  p.attributes = std::move(attributes);
  p.state = R"({"v":1,"id":)" + std::to_string(id) + "}";
  p.merged_into = merged_into;
  return p;
}

inline IdentityRow identity_row(std::string kind, std::string value, int64_t profile, std::string source = "crm",
                                int64_t first_seen = 1000) {
  return IdentityRow{std::move(kind), std::move(value), profile, profile, std::move(source), first_seen};
}

inline RecordRow record_row(std::string id, std::string source, int64_t profile, int64_t ts = 1000,
                            std::string data = R"({"a":1})") {
  RecordRow r;
  r.id = std::move(id);
  r.type = "profile";
  r.source = std::move(source);
  r.pipeline = "p-" + r.source;
  r.key = "k-" + r.id;
  r.profile_id = profile;
  r.origin_profile = profile;
  r.ts_ms = ts;
  r.applied_ms = ts + 5;
  r.data = std::move(data);
  r.meta = R"({"m":true})";
  return r;
}

inline EventRow event_row(int64_t profile, int64_t at, std::string type, int64_t seq = 0) {
  EventRow e;
  e.profile_id = profile;
  e.at = at;
  e.event_type = std::move(type);
  e.record_seq = seq;
  return e;
}

inline SuppressionRow suppression_row(std::string list, std::string subject, std::string reason = "asked",
                                      std::vector<std::string> channels = {}, int64_t until = 0) {
  SuppressionRow s;
  s.list = std::move(list);
  s.subject = std::move(subject);
  s.reason = std::move(reason);
  s.channels = std::move(channels);
  s.until_ms = until;
  s.added_ms = 5000;
  s.source = "test";
  return s;
}

inline DeadLetter dead_letter(std::string record_id, std::string pipeline, std::string step,
                              std::string payload = R"({"id":"x"})", std::string reason = "bad") {
  DeadLetter d;
  d.record_id = std::move(record_id);
  d.pipeline = std::move(pipeline);
  d.step = std::move(step);
  d.error_class = "rejected";
  d.reason = std::move(reason);
  d.location = "inbox/a.csv:17";
  d.payload = std::move(payload);
  d.attempts = 1;
  d.first_ms = 10;
  d.last_ms = 20;
  return d;
}

inline OutboxItem outbox_item(std::string sink, std::string record_id, int64_t next_ms, std::string envelope = "") {
  OutboxItem o;
  o.sink = std::move(sink);
  o.pipeline = "p";
  o.record_id = std::move(record_id);
  o.envelope = envelope.empty() ? R"({"id":")" + o.record_id + R"("})" : std::move(envelope);
  o.next_ms = next_ms;
  o.first_ms = next_ms;
  return o;
}

inline std::vector<std::string> record_ids(const std::vector<RecordRow>& rows) {
  std::vector<std::string> out;
  for (const RecordRow& r : rows) out.push_back(r.id);
  return out;
}

inline std::vector<std::string> identity_texts(const std::vector<IdentityRow>& rows) {
  std::vector<std::string> out;
  for (const IdentityRow& r : rows) out.push_back(r.kind + ":" + r.value + "@" + std::to_string(r.profile_id));
  return out;
}

inline std::vector<std::string> subjects(const std::vector<SuppressionRow>& rows) {
  std::vector<std::string> out;
  for (const SuppressionRow& r : rows) out.push_back(r.list + "/" + r.subject);
  return out;
}

/// Every field of a profile row, for whole-row comparisons with readable failures.
inline std::string profile_text(const ProfileRow& p) {
  return "ProfileRow{id=" + std::to_string(p.id) + ", created=" + std::to_string(p.created_ms) +
         ", updated=" + std::to_string(p.updated_ms) + ", attributes=" + p.attributes + ", state=" + p.state +
         ", merged_into=" + std::to_string(p.merged_into) + "}";
}

}  // namespace touchpoint::core::test
