#include "segment_parser.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <new>
#include <vector>

#include "responses.hpp"
#include "tp_common/dom_parser_sizing.hpp"
#include "tp_common/json_diagnostics.hpp"
#include "tp_common/rfc3339.hpp"
#include "tp_common/sha256.hpp"

namespace touchpoint::webhook {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr size_t kMaxEventTypeBytes = 128;
// Values the store reads as short names (product, category, ...) are only
// promoted out of properties when they fit its limit; they stay in properties either way.
constexpr size_t kMaxPromotedBytes = 256;
// An anonymousId, groupId or previousId: an identity value, not a document.
constexpr size_t kMaxIdValueBytes = 1024;

const char* call_name(SegmentCall c) {
  switch (c) {
    case SegmentCall::identify:
      return "identify";
    case SegmentCall::track:
      return "track";
    case SegmentCall::page:
      return "page";
    case SegmentCall::screen:
      return "screen";
    case SegmentCall::group:
      return "group";
    case SegmentCall::alias:
      return "alias";
    case SegmentCall::batch:
      return "batch";
  }
  return "batch";
}

// A bad message: the request is answered with this.
struct Problem {
  std::string message;
  bool too_large = false;
};

// The members of one message that the mapping reads; absent or null ones are not set.
struct Message {
  std::optional<element> type, user_id, anonymous_id, message_id, timestamp, original_timestamp, sent_at, event, name,
      category, properties, traits, context, integrations, group_id, previous_id;
};

Message collect(object obj) {
  Message m;
  for (auto field : obj) {
    const std::string_view k = field.key;
    if (field.value.is_null()) continue;
    std::optional<element>* slot = nullptr;
    if (k == "type")
      slot = &m.type;
    else if (k == "userId")
      slot = &m.user_id;
    else if (k == "anonymousId")
      slot = &m.anonymous_id;
    else if (k == "messageId")
      slot = &m.message_id;
    else if (k == "timestamp")
      slot = &m.timestamp;
    else if (k == "originalTimestamp")
      slot = &m.original_timestamp;
    else if (k == "sentAt")
      slot = &m.sent_at;
    else if (k == "event")
      slot = &m.event;
    else if (k == "name")
      slot = &m.name;
    else if (k == "category")
      slot = &m.category;
    else if (k == "properties")
      slot = &m.properties;
    else if (k == "traits")
      slot = &m.traits;
    else if (k == "context")
      slot = &m.context;
    else if (k == "integrations")
      slot = &m.integrations;
    else if (k == "groupId")
      slot = &m.group_id;
    else if (k == "previousId")
      slot = &m.previous_id;
    if (slot != nullptr) *slot = field.value;
  }
  return m;
}

// A string, or an integer as its digits (SDKs send numeric user ids).
bool text_of(element v, std::string& out) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) {
    out.assign(s);
  } else if (v.type() == element_type::INT64) {
    out = std::to_string(v.get_int64().value_unsafe());
  } else if (v.type() == element_type::UINT64) {
    out = std::to_string(v.get_uint64().value_unsafe());
  } else {
    return false;
  }
  return true;
}

std::optional<std::string_view> short_string(const std::optional<element>& v) {
  std::string_view s;
  if (!v || v->get_string().get(s) != simdjson::SUCCESS || s.empty() || s.size() > kMaxPromotedBytes)
    return std::nullopt;
  return s;
}

}  // namespace

std::optional<SegmentCall> segment_call_of(std::string_view e) noexcept {
  if (e == "identify" || e == "i") return SegmentCall::identify;
  if (e == "track" || e == "t") return SegmentCall::track;
  if (e == "page" || e == "p") return SegmentCall::page;
  if (e == "screen" || e == "s") return SegmentCall::screen;
  if (e == "group" || e == "g") return SegmentCall::group;
  if (e == "alias" || e == "a") return SegmentCall::alias;
  if (e == "batch" || e == "import" || e == "b") return SegmentCall::batch;
  return std::nullopt;
}

std::string segment_event_type(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (out.size() >= kMaxEventTypeBytes) break;
    if (c >= 'A' && c <= 'Z') {
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? std::string("track") : out;
}

struct SegmentParser::Impl {
  simdjson::dom::parser parser;
  simdjson::internal::string_builder<> builder;
  size_t depth = 0;

  const SegmentOptions* options = nullptr;
  ParsedBatch* out = nullptr;
  std::string_view body;
  std::string body_hash;
  std::string data, meta;  // the record being built
  // The batch's own context, integrations and sentAt, shared by its messages.
  std::optional<element> batch_context, batch_integrations, batch_sent_at;

  template <typename Value>  // dom::element or dom::object
  std::string_view minify(Value v) {
    builder.clear();
    builder.append(v);
    return builder.str();
  }

  Slice append(std::string_view s) {
    Slice slice{out->arena.size(), s.size()};
    out->arena.append(s);
    return slice;
  }

  static void member(std::string& to, std::string_view key) {
    if (to.back() != '{') to.push_back(',');
    append_json_string(to, key);
    to.push_back(':');
  }
  void member_json(std::string& to, std::string_view key, element v) {
    member(to, key);
    to.append(minify(v));
  }
  static void member_text(std::string& to, std::string_view key, std::string_view text) {
    member(to, key);
    append_json_string(to, text);
  }

  // The message's context over the batch's: its own members win, the
  // batch's fill in the rest (shallow, as Segment merges them).
  void merged_object(std::string& to, std::string_view key, const std::optional<element>& own,
                     const std::optional<element>& shared) {
    object mine, theirs;
    const bool has_mine = own && own->get_object().get(mine) == simdjson::SUCCESS;
    const bool has_theirs = shared && shared->get_object().get(theirs) == simdjson::SUCCESS;
    if (!has_mine && !has_theirs) return;
    if (!has_theirs) return member_json(to, key, *own);
    if (!has_mine) return member_json(to, key, *shared);
    member(to, key);
    to.push_back('{');
    bool first = true;
    std::vector<std::string_view> seen;
    for (auto f : mine) {
      if (!first) to.push_back(',');
      first = false;
      append_json_string(to, f.key);
      to.push_back(':');
      to.append(minify(f.value));
      seen.push_back(f.key);
    }
    for (auto f : theirs) {
      if (std::find(seen.begin(), seen.end(), f.key) != seen.end()) continue;
      if (!first) to.push_back(',');
      first = false;
      append_json_string(to, f.key);
      to.push_back(':');
      to.append(minify(f.value));
    }
    to.push_back('}');
  }

  static std::optional<Problem> expect_object(const std::optional<element>& v, const std::string& where,
                                              const char* field) {
    if (v && !v->is_object()) return Problem{where + "." + field + " must be an object"};
    return std::nullopt;
  }

  // An RFC 3339 time member, or nullopt when absent; a Problem when it is not one.
  static std::optional<Problem> time_of(const std::optional<element>& v, const std::string& where, const char* field,
                                        std::optional<int64_t>& ms) {
    ms.reset();
    if (!v) return std::nullopt;
    std::string_view s;
    if (v->get_string().get(s) == simdjson::SUCCESS) ms = tp_common::parse_rfc3339_ms(s);
    if (!ms) return Problem{where + "." + field + " must be an ISO 8601 date-time string"};
    return std::nullopt;
  }

  std::optional<Problem> add_message(object obj, SegmentCall call, const std::string& where) {
    const SegmentOptions& o = *options;
    const size_t index = out->records.size();
    if (index >= o.max_records)
      return Problem{"too many messages in one request (max " + std::to_string(o.max_records) + ")"};
    const size_t message_bytes = minify(obj).size();
    if (message_bytes > o.max_message_bytes)
      return Problem{where + " is " + std::to_string(message_bytes) + " bytes; at most " +
                     std::to_string(o.max_message_bytes) + " are accepted per message (max_message_bytes)"};
    Message m = collect(obj);
    if (call == SegmentCall::batch) {
      std::string_view t;
      if (!m.type || m.type->get_string().get(t) != simdjson::SUCCESS)
        return Problem{where + ".type must be identify, track, page, screen, group or alias"};
      std::optional<SegmentCall> c = segment_call_of(t);
      if (!c || *c == SegmentCall::batch || t.size() == 1)
        return Problem{where + ".type must be identify, track, page, screen, group or alias, not '" +
                       std::string(t.substr(0, 64)) + "'"};
      call = *c;
    }

    // Who: userId is the key, anonymousId an identity of its own.
    // (Empty means absent, as in Segment.)
    std::string user_id, anonymous_id;
    if (m.user_id && !text_of(*m.user_id, user_id)) return Problem{where + ".userId must be a string"};
    if (m.anonymous_id && !text_of(*m.anonymous_id, anonymous_id))
      return Problem{where + ".anonymousId must be a string"};
    if (!user_id.empty() && user_id.size() > TP_MAX_KEY_BYTES)
      return Problem{where + ".userId is " + std::to_string(user_id.size()) + " bytes; at most " +
                     std::to_string(TP_MAX_KEY_BYTES) + " are accepted"};
    if (!anonymous_id.empty() && anonymous_id.size() > kMaxIdValueBytes)
      return Problem{where + ".anonymousId is " + std::to_string(anonymous_id.size()) + " bytes; at most " +
                     std::to_string(kMaxIdValueBytes) + " are accepted"};
    if (user_id.empty() && anonymous_id.empty()) return Problem{where + " needs a userId or an anonymousId"};

    std::string_view message_id;
    if (m.message_id) {
      if (m.message_id->get_string().get(message_id) != simdjson::SUCCESS)
        return Problem{where + ".messageId must be a string"};
      if (message_id.size() > TP_MAX_ID_BYTES)
        return Problem{where + ".messageId is " + std::to_string(message_id.size()) + " bytes; at most " +
                       std::to_string(TP_MAX_ID_BYTES) + " are accepted"};
    }
    for (auto [v, field] : {std::pair{&m.properties, "properties"}, std::pair{&m.traits, "traits"},
                            std::pair{&m.context, "context"}, std::pair{&m.integrations, "integrations"}})
      if (auto p = expect_object(*v, where, field)) return p;

    // When: timestamp as given; else originalTimestamp corrected by the
    // client's clock skew (sentAt against our clock); else arrival.
    std::optional<int64_t> timestamp, original, sent_at;
    if (auto p = time_of(m.timestamp, where, "timestamp", timestamp)) return p;
    if (auto p = time_of(m.original_timestamp, where, "originalTimestamp", original)) return p;
    if (auto p = time_of(m.sent_at ? m.sent_at : batch_sent_at, where, "sentAt", sent_at)) return p;
    int64_t ts = o.received_ms;
    if (timestamp) {
      ts = *timestamp;
    } else if (original) {
      ts = sent_at ? o.received_ms - (*sent_at - *original) : *original;
    }

    ParsedRecord r;
    r.ts_ms = ts;
    data.assign("{");
    const char* record_type = "event";
    auto anonymous_identity = [&](std::string_view value) {
      member(data, "external_ids");
      data.push_back('{');
      append_json_string(data, o.anonymous_system);
      data.push_back(':');
      append_json_string(data, value);
      data.push_back('}');
    };
    std::vector<std::string_view> dropped;  // traits the store would read as identity links
    switch (call) {
      case SegmentCall::identify: {
        record_type = "profile";
        object traits;
        if (m.traits && m.traits->get_object().get(traits) == simdjson::SUCCESS) {
          for (auto f : traits) {
            if (f.key == "external_ids" || f.key == "customer") {
              dropped.push_back(f.key);
              continue;
            }
            member_json(data, f.key, f.value);
          }
        }
        if (!anonymous_id.empty()) anonymous_identity(anonymous_id);
        break;
      }
      case SegmentCall::track: {
        std::string_view event;
        if (!m.event || m.event->get_string().get(event) != simdjson::SUCCESS || event.empty())
          return Problem{where + ".event must be a non-empty string (the event's name)"};
        std::string type;
        if (o.event_types != nullptr) {
          if (auto it = o.event_types->find(event); it != o.event_types->end()) type = it->second;
        }
        if (type.empty()) type = segment_event_type(event);
        member_text(data, "event_type", type);
        member_text(data, "event", event);
        member_text(data, "channel", "web");
        object props;
        if (m.properties && m.properties->get_object().get(props) == simdjson::SUCCESS) {
          element v;
          if (props.at_key("revenue").get(v) == simdjson::SUCCESS && v.is_number()) member_json(data, "revenue", v);
          for (const char* key : {"currency", "category"}) {
            std::optional<element> value;
            if (props.at_key(key).get(v) == simdjson::SUCCESS) value = v;
            if (auto s = short_string(value)) member_text(data, key, *s);
          }
          for (const char* key : {"product_id", "sku", "product"}) {
            std::optional<element> value;
            if (props.at_key(key).get(v) == simdjson::SUCCESS) value = v;
            if (auto s = short_string(value)) {
              member_text(data, "product", *s);
              break;
            }
          }
        }
        object ctx;
        element campaign, campaign_name;
        if (m.context && m.context->get_object().get(ctx) == simdjson::SUCCESS &&
            ctx.at_key("campaign").get(campaign) == simdjson::SUCCESS && campaign.is_object() &&
            campaign.get_object().value_unsafe().at_key("name").get(campaign_name) == simdjson::SUCCESS) {
          if (auto s = short_string(campaign_name)) member_text(data, "campaign", *s);
        }
        if (m.properties) member_json(data, "properties", *m.properties);
        if (!anonymous_id.empty()) anonymous_identity(anonymous_id);
        break;
      }
      case SegmentCall::page:
      case SegmentCall::screen: {
        member_text(data, "event_type", "web_visit");
        member_text(data, "channel", "web");
        const bool page = call == SegmentCall::page;
        if (m.name) {
          std::string_view name;
          if (m.name->get_string().get(name) != simdjson::SUCCESS) return Problem{where + ".name must be a string"};
          member_text(data, page ? "page" : "screen", name);
        }
        if (auto s = short_string(m.category)) member_text(data, "category", *s);
        object props;
        if (page && m.properties && m.properties->get_object().get(props) == simdjson::SUCCESS) {
          for (const char* key : {"url", "path", "title", "referrer"}) {
            element v;
            if (props.at_key(key).get(v) == simdjson::SUCCESS && v.is_string()) member_json(data, key, v);
          }
        }
        if (m.properties) member_json(data, "properties", *m.properties);
        if (!anonymous_id.empty()) anonymous_identity(anonymous_id);
        break;
      }
      case SegmentCall::group: {
        record_type = "group";
        std::string group_id;
        if (!m.group_id || !text_of(*m.group_id, group_id) || group_id.empty() || group_id.size() > kMaxIdValueBytes)
          return Problem{where + ".groupId must be a non-empty string of at most " + std::to_string(kMaxIdValueBytes) +
                         " bytes"};
        member_text(data, "group_id", group_id);
        if (m.traits) member_json(data, "traits", *m.traits);
        if (!anonymous_id.empty()) anonymous_identity(anonymous_id);
        break;
      }
      case SegmentCall::alias: {
        record_type = "profile";
        std::string previous;
        if (!m.previous_id || !text_of(*m.previous_id, previous) || previous.empty() ||
            previous.size() > kMaxIdValueBytes)
          return Problem{where + ".previousId must be a non-empty string of at most " +
                         std::to_string(kMaxIdValueBytes) + " bytes"};
        if (user_id.empty()) return Problem{where + ": an alias needs a userId (the id previousId becomes)"};
        anonymous_identity(previous);
        break;
      }
      case SegmentCall::batch:
        break;  // resolved above
    }
    data.push_back('}');

    meta.assign("{\"segment\":{");
    member_text(meta, "type", call_name(call));
    if (!message_id.empty()) member_text(meta, "messageId", message_id);
    for (auto [v, field] : {std::pair{&m.timestamp, "timestamp"}, std::pair{&m.original_timestamp, "originalTimestamp"},
                            std::pair{&m.sent_at, "sentAt"}})
      if (*v) member_json(meta, field, **v);
    member(meta, "receivedAt");
    meta.append(std::to_string(o.received_ms));
    merged_object(meta, "context", m.context, batch_context);
    merged_object(meta, "integrations", m.integrations, batch_integrations);
    if (!dropped.empty()) {
      member(meta, "dropped_traits");
      meta.push_back('[');
      for (size_t i = 0; i < dropped.size(); ++i) {
        if (i > 0) meta.push_back(',');
        append_json_string(meta, dropped[i]);
      }
      meta.push_back(']');
    }
    meta.append("}}");

    if (data.size() + meta.size() > o.max_record_bytes)
      return Problem{where + ": the record is " + std::to_string(data.size() + meta.size()) +
                         " bytes; the host accepts at most " + std::to_string(o.max_record_bytes) +
                         " (TP_MAX_RECORD_BYTES)",
                     true};
    if (!message_id.empty()) {
      r.id = append(message_id);
    } else {
      // No messageId: the same body retried yields the same ids.
      if (body_hash.empty()) body_hash = tp_common::sha256_hex(body).substr(0, 32);
      r.id = append(body_hash + ":" + std::to_string(index));
    }
    r.type = append(record_type);
    if (!user_id.empty()) r.key = append(user_id);
    r.data = append(data);
    r.meta = append(meta);
    out->unit_bytes +=
        r.id.length + r.type.length + r.key.length + r.data.length + r.meta.length + TP_UNIT_RECORD_OVERHEAD;
    if (out->unit_bytes > o.max_unit_bytes)
      return Problem{"the messages of this body are more than " + std::to_string(o.max_unit_bytes) +
                         " bytes as one unit (TP_MAX_UNIT_BYTES); send smaller batches",
                     true};
    out->records.push_back(r);
    return std::nullopt;
  }

  std::optional<ParseError> run(std::string_view text, std::string& write_key) {
    body = text;
    body_hash.clear();
    batch_context.reset();
    batch_integrations.reset();
    batch_sent_at.reset();
    write_key.clear();
    element root;
    simdjson::error_code err = parser.parse(text.data(), text.size(), false).get(root);
    if (err != simdjson::SUCCESS) {
      std::optional<JsonProblem> problem = find_json_problem(text, options->max_depth);
      if (problem) return ParseError{"malformed JSON: " + problem->reason, problem->offset, false};
      return ParseError{std::string("malformed JSON: ") + simdjson::error_message(err), 0, false};
    }
    object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS) return ParseError{"the body must be a JSON object", 0, false};
    element key;
    if (obj.at_key("writeKey").get(key) == simdjson::SUCCESS && !key.is_null()) {
      std::string_view s;
      if (key.get_string().get(s) != simdjson::SUCCESS) return ParseError{"writeKey must be a string", 0, false};
      write_key.assign(s);
    }
    auto fail = [](Problem p) { return ParseError{std::move(p.message), 0, false, p.too_large}; };
    if (options->call != SegmentCall::batch) {
      if (auto p = add_message(obj, options->call, call_name(options->call))) return fail(std::move(*p));
      return std::nullopt;
    }
    element batch, v;
    if (obj.at_key("batch").get(batch) != simdjson::SUCCESS || !batch.is_array())
      return ParseError{"a batch body needs \"batch\": an array of messages", 0, false};
    for (auto [slot, field] : {std::pair{&batch_context, "context"}, std::pair{&batch_integrations, "integrations"},
                               std::pair{&batch_sent_at, "sentAt"}})
      if (obj.at_key(field).get(v) == simdjson::SUCCESS && !v.is_null()) *slot = v;
    if (auto p = expect_object(batch_context, "the batch", "context")) return fail(std::move(*p));
    if (auto p = expect_object(batch_integrations, "the batch", "integrations")) return fail(std::move(*p));
    simdjson::dom::array messages = batch.get_array().value_unsafe();
    out->records.reserve(std::min(messages.size(), options->max_records));
    size_t index = 0;
    for (element item : messages) {
      const std::string where = "batch[" + std::to_string(index) + "]";
      object message;
      if (item.get_object().get(message) != simdjson::SUCCESS) return fail(Problem{where + " is not a JSON object"});
      if (auto p = add_message(message, SegmentCall::batch, where)) return fail(std::move(*p));
      ++index;
    }
    return std::nullopt;
  }
};

SegmentParser::SegmentParser() : impl_(std::make_unique<Impl>()) {}
SegmentParser::~SegmentParser() = default;

std::optional<ParseError> SegmentParser::parse_padded(std::string_view body, const SegmentOptions& options,
                                                      ParsedBatch& out, std::string& write_key) {
  Impl& i = *impl_;
  size_dom_parser(i.parser, i.depth, options.max_depth);
  i.options = &options;
  i.out = &out;
  out.clear();
  out.format = BodyFormat::json;
  return i.run(body, write_key);
}

std::optional<ParseError> SegmentParser::parse(std::string_view body, const SegmentOptions& options, ParsedBatch& out,
                                               std::string& write_key) {
  simdjson::padded_string padded(body);
  return parse_padded(std::string_view(padded.data(), padded.size()), options, out, write_key);
}

}  // namespace touchpoint::webhook
