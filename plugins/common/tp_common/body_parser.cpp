#include "tp_common/body_parser.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <new>

#include "tp_common/dom_parser_sizing.hpp"
#include "tp_common/json_diagnostics.hpp"
#include "tp_common/rfc3339.hpp"
#include "tp_common/sha256.hpp"

namespace tp_common {

static_assert(kBodyPadding >= simdjson::SIMDJSON_PADDING, "kBodyPadding must cover simdjson's padding");

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && is_ws(s[i])) ++i;
  return i;
}

// The members of one object that matter for a record; a has_* flag is false
// when the member is absent or JSON null.
struct Members {
  element data, id, type, key, ts, meta, flat_id, flat_key, message_id;
  bool has_data = false, has_id = false, has_type = false, has_key = false, has_ts = false, has_meta = false,
       has_flat_id = false, has_flat_key = false, has_message_id = false;
};

}  // namespace

bool is_valid_record_type(std::string_view type, size_t max_bytes) noexcept {
  if (type.empty() || type.size() > max_bytes) return false;
  return std::all_of(type.begin(), type.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

struct BodyParser::Impl {
  simdjson::dom::parser parser;
  simdjson::internal::string_builder<> builder;  // what simdjson::to_string uses, kept for reuse
  size_t depth = 0;

  // Per-call state.
  const ParseOptions* options = nullptr;
  ParsedBatch* out = nullptr;
  Slice default_type;
  std::string_view whole_body;  // for its hash
  std::string body_hash;        // computed when the first record needs it
  std::string key_hash;         // SHA-256 of the idempotency key, when needed
  bool key_printable = true;

  void prepare(const ParseOptions& opts, ParsedBatch& batch) {
    size_dom_parser(parser, depth, opts.max_depth);
    options = &opts;
    out = &batch;
    batch.clear();
    default_type = append(opts.default_type);
    body_hash.clear();
    key_hash.clear();
    key_printable = std::all_of(opts.idempotency_key.begin(), opts.idempotency_key.end(),
                                [](char c) { return c >= 0x20 && c <= 0x7e; });
  }

  Slice append(std::string_view s) {
    Slice slice{out->arena.size(), s.size()};
    out->arena.append(s);
    return slice;
  }

  // The minified JSON of `value`, valid until the next call.
  template <typename Value>  // dom::element or dom::object
  std::string_view minify(Value value) {
    builder.clear();
    builder.append(value);
    return builder.str();
  }

  // A string or integer member as text; false for other types.
  bool append_text(element value, Slice& slice) {
    switch (value.type()) {
      case element_type::STRING:
        slice = append(value.get_string().value_unsafe());
        return true;
      case element_type::INT64:
      case element_type::UINT64: {
        char buf[24];
        auto res = value.type() == element_type::INT64
                       ? std::to_chars(buf, buf + sizeof(buf), value.get_int64().value_unsafe())
                       : std::to_chars(buf, buf + sizeof(buf), value.get_uint64().value_unsafe());
        slice = append(std::string_view(buf, static_cast<size_t>(res.ptr - buf)));
        return true;
      }
      default:
        return false;
    }
  }

  Members collect(object obj) const {
    Members m;
    const ParseOptions& o = *options;
    auto take = [](element v, element& slot, bool& present) {
      slot = v;
      present = true;
    };
    for (auto field : obj) {
      std::string_view k = field.key;
      element v = field.value;
      if (v.is_null()) continue;
      if (k == "data") {
        if (v.is_object()) take(v, m.data, m.has_data);
      } else if (k == "id") {
        take(v, m.id, m.has_id);
      } else if (k == "type") {
        take(v, m.type, m.has_type);
      } else if (k == "key") {
        take(v, m.key, m.has_key);
      } else if (k == "ts") {
        take(v, m.ts, m.has_ts);
      } else if (k == "meta") {
        take(v, m.meta, m.has_meta);
      } else if (k == "messageId") {
        take(v, m.message_id, m.has_message_id);
      }
      if (k == o.id_field) take(v, m.flat_id, m.has_flat_id);
      if (!o.key_field.empty() && k == o.key_field) take(v, m.flat_key, m.has_flat_key);
    }
    return m;
  }

  struct RecordProblem {
    std::string message;
    bool too_large = false;
  };

  static RecordProblem over_limit(size_t index, std::string_view what, size_t bytes, size_t limit,
                                  std::string_view macro) {
    return RecordProblem{"record " + std::to_string(index) + ": " + std::string(what) + " is " + std::to_string(bytes) +
                         " bytes; the host accepts at most " + std::to_string(limit) + " (" + std::string(macro) + ")"};
  }

  static std::string field_name(std::string_view what, std::string_view field) {
    return std::string(what) + " (field '" + std::string(field) + "')";
  }

  // "<base>:<index>" for a record without an explicit id (see ParseOptions).
  Slice derived_id(size_t index) {
    char digits[24];
    auto res = std::to_chars(digits, digits + sizeof(digits), index);
    const std::string_view number(digits, static_cast<size_t>(res.ptr - digits));
    const std::string_view key = options->idempotency_key;
    std::string_view base;
    if (key.empty()) {
      if (body_hash.empty()) body_hash = tp_common::sha256_hex(whole_body).substr(0, 32);
      base = body_hash;
    } else if (key_printable && key.size() + 1 + number.size() <= options->max_id_bytes) {
      base = key;
    } else {
      if (key_hash.empty()) key_hash = tp_common::sha256_hex(key);
      base = key_hash;
    }
    Slice slice{out->arena.size(), base.size() + 1 + number.size()};
    out->arena.append(base);
    out->arena.push_back(':');
    out->arena.append(number);
    return slice;
  }

  // Appends the record for `obj`; returns the problem when it is unusable.
  std::optional<RecordProblem> add_record(object obj) {
    const ParseOptions& o = *options;
    const size_t index = out->records.size();
    if (index >= o.max_records)
      return RecordProblem{"too many records in one request (max " + std::to_string(o.max_records) + ")"};
    Members m = collect(obj);
    ParsedRecord r;
    r.type = default_type;
    std::string_view id_from = "id", key_from = "key";  // the member each came from, for messages
    bool key_in_data = false;                           // an envelope's key taken from data.<key_field>
    if (m.has_data) {
      if (m.has_id && !append_text(m.id, r.id)) return RecordProblem{"envelope 'id' must be a string"};
      if (m.has_type) {
        std::string_view t;
        if (m.type.get_string().get(t) != simdjson::SUCCESS) return RecordProblem{"envelope 'type' must be a string"};
        if (t.size() > o.max_type_bytes)
          return over_limit(index, "'type'", t.size(), o.max_type_bytes, "TP_MAX_TYPE_BYTES");
        if (!t.empty() && !is_valid_record_type(t, o.max_type_bytes))
          return RecordProblem{"record " + std::to_string(index) + ": 'type' must use only a-z, 0-9, '_', '.', '-'"};
        if (!t.empty()) r.type = append(t);
      }
      if (m.has_key && !append_text(m.key, r.key)) return RecordProblem{"envelope 'key' must be a string"};
      if (r.key.length == 0 && !o.key_field.empty()) {
        // No key in the envelope: the configured key field of its data, as
        // for a plain object.
        element v;
        if (m.data.get_object().value_unsafe().at_key(o.key_field).get(v) == simdjson::SUCCESS && !v.is_null() &&
            append_text(v, r.key))
          key_in_data = true;
      }
      if (m.has_ts) {
        std::optional<int64_t> ts;
        std::string_view text;
        if (m.ts.is_int64()) {
          ts = m.ts.get_int64().value_unsafe();
        } else if (m.ts.get_string().get(text) == simdjson::SUCCESS) {
          ts = tp_common::parse_rfc3339_ms(text);
        }
        if (!ts) return RecordProblem{"envelope 'ts' must be integer milliseconds or an RFC 3339 date-time"};
        r.ts_ms = *ts;
      }
      if (m.has_meta && !m.meta.is_object()) return RecordProblem{"envelope 'meta' must be an object"};
    } else {
      if (m.has_flat_id && append_text(m.flat_id, r.id)) {
        id_from = o.id_field;
      } else if (m.has_message_id) {
        std::string_view mid;
        if (m.message_id.get_string().get(mid) == simdjson::SUCCESS) {
          r.id = append(mid);
          id_from = "messageId";
        }
      }
      if (m.has_flat_key) {
        (void)append_text(m.flat_key, r.key);
        key_from = o.key_field;
      }
    }
    const bool derived = r.id.length == 0;
    if (derived) r.id = derived_id(index);
    if (r.id.length > o.max_id_bytes)  // a derived id only with lowered limits
      return over_limit(index, derived ? std::string("the derived id") : field_name("the id", id_from), r.id.length,
                        o.max_id_bytes, "TP_MAX_ID_BYTES");
    if (r.key.length > o.max_key_bytes)
      return over_limit(index,
                        field_name("the key", key_in_data ? "data." + std::string(o.key_field) : std::string(key_from)),
                        r.key.length, o.max_key_bytes, "TP_MAX_KEY_BYTES");

    // Payloads are checked against the record limit before they are copied
    // into the arena.
    auto too_big = [&](size_t bytes) {
      RecordProblem p = over_limit(index, "data + meta", bytes, o.max_record_bytes, "TP_MAX_RECORD_BYTES");
      p.too_large = true;
      return p;
    };
    if (m.has_data && m.has_meta) {
      std::string_view meta = minify(m.meta);
      if (meta.size() > o.max_record_bytes) return too_big(meta.size());
      r.meta = append(meta);
    }
    std::string_view data = m.has_data ? minify(m.data) : minify(obj);
    if (data.size() > o.max_record_bytes - r.meta.length) return too_big(data.size() + r.meta.length);
    r.data = append(data);

    out->unit_bytes +=
        r.id.length + r.type.length + r.key.length + r.data.length + r.meta.length + TP_UNIT_RECORD_OVERHEAD;
    if (out->unit_bytes > o.max_unit_bytes)
      return RecordProblem{"the records of this body are more than " + std::to_string(o.max_unit_bytes) +
                               " bytes as one unit (reached at record " + std::to_string(index) +
                               "), over the host's limit (TP_MAX_UNIT_BYTES: all record fields plus " +
                               std::to_string(TP_UNIT_RECORD_OVERHEAD) +
                               " bytes per record); split it into smaller requests",
                           true};
    out->records.push_back(r);
    return std::nullopt;
  }

  ParseError document_error(simdjson::error_code err, std::string_view text, size_t base) const {
    std::optional<JsonProblem> problem = find_json_problem(text, options->max_depth);
    if (problem) return ParseError{"malformed JSON: " + problem->reason, base + problem->offset, false};
    // The checker accepted what simdjson refused: report simdjson's reason.
    return ParseError{std::string("malformed JSON: ") + simdjson::error_message(err), base, false};
  }

  std::optional<ParseError> parse_document(std::string_view body, size_t first) {
    element root;
    simdjson::error_code err = parser.parse(body.data(), body.size(), false).get(root);
    if (err != simdjson::SUCCESS) return document_error(err, body, 0);
    if (root.is_object()) {
      out->format = BodyFormat::json;
      if (auto e = add_record(root.get_object().value_unsafe()))
        return ParseError{std::move(e->message), first, false, e->too_large};
      return std::nullopt;
    }
    if (!root.is_array()) {
      return ParseError{"the body must be a JSON object, an array of JSON objects or NDJSON", first, false};
    }
    out->format = BodyFormat::json_array;
    simdjson::dom::array array = root.get_array().value_unsafe();
    out->records.reserve(array.size() < options->max_records ? array.size() : options->max_records);
    size_t index = 0;
    for (element item : array) {
      std::optional<RecordProblem> e;
      if (!item.is_object()) {
        e = RecordProblem{"array element " + std::to_string(index) + " is not a JSON object"};
      } else {
        e = add_record(item.get_object().value_unsafe());
      }
      if (e) {
        size_t at = array_element_offset(body, first, index);
        return ParseError{std::move(e->message), at == std::string_view::npos ? first : at, false, e->too_large};
      }
      ++index;
    }
    return std::nullopt;
  }

  // With `bad_line`, a line that is not a usable record is reported and
  // skipped (a stream); without, it ends the parse (a request).
  std::optional<ParseError> parse_ndjson(std::string_view body, const BadLine* bad_line = nullptr) {
    out->format = BodyFormat::ndjson;
    size_t line_no = 0;
    size_t pos = 0;
    while (pos < body.size()) {
      ++line_no;
      size_t end = body.find('\n', pos);
      if (end == std::string_view::npos) end = body.size();
      std::string_view line = body.substr(pos, end - pos);
      pos = end + 1;
      if (skip_ws(line, 0) == line.size()) continue;
      std::optional<ParseError> problem;
      element value;
      // The line is followed by the rest of the body and its padding, so it
      // is padded too: no copy.
      simdjson::error_code err = parser.parse(line.data(), line.size(), false).get(value);
      if (err != simdjson::SUCCESS) {
        ParseError e = document_error(err, line, 0);
        problem = ParseError{e.message + " at column " + std::to_string(e.position + 1)};
      } else if (!value.is_object()) {
        problem = ParseError{"expected a JSON object"};
      } else {
        const size_t unit_bytes = out->unit_bytes;
        if (auto e = add_record(value.get_object().value_unsafe())) {
          problem = ParseError{std::move(e->message), 0, false, e->too_large};
          out->unit_bytes = unit_bytes;  // a skipped record does not count
        }
      }
      if (!problem) continue;
      if (bad_line == nullptr)
        return ParseError{"line " + std::to_string(line_no) + ": " + problem->message, line_no, true,
                          problem->too_large};
      (*bad_line)(line_no, line, problem->message);
    }
    return std::nullopt;
  }

  std::optional<ParseError> run(std::string_view body) {
    whole_body = body;
    size_t first = skip_ws(body, 0);
    if (first == body.size()) return ParseError{"empty body", 0, false};
    if (body[first] == '{') {
      // NDJSON when the first line is a complete object and more follows;
      // otherwise one (possibly pretty-printed) document.
      size_t nl = body.find('\n', first);
      if (nl != std::string_view::npos && skip_ws(body, nl + 1) != body.size()) {
        element head;
        if (parser.parse(body.data(), nl, false).get(head) == simdjson::SUCCESS && head.is_object())
          return parse_ndjson(body);
      }
    }
    return parse_document(body, first);
  }
};

BodyParser::BodyParser() : impl_(std::make_unique<Impl>()) {}
BodyParser::~BodyParser() = default;

std::optional<ParseError> BodyParser::parse_padded(std::string_view body, const ParseOptions& options,
                                                   ParsedBatch& out) {
  impl_->prepare(options, out);
  return impl_->run(body);
}

void BodyParser::parse_stream_padded(std::string_view lines, const ParseOptions& options, ParsedBatch& out,
                                     const BadLine& bad_line) {
  impl_->prepare(options, out);
  impl_->whole_body = lines;
  (void)impl_->parse_ndjson(lines, &bad_line);
}

std::optional<ParseError> BodyParser::parse(std::string_view body, const ParseOptions& options, ParsedBatch& out) {
  simdjson::padded_string padded(body);
  return parse_padded(std::string_view(padded.data(), padded.size()), options, out);
}

}  // namespace tp_common
