// CSV reader (plugins/csv/csv_reader.*) and what the csv connector does with
// its rows: decoding (encoding.*), header names and the record JSON
// (record_builder.*, json_util.*).
//
// Input: two option bytes, then the file.
// Invariants of RowReader:
//  - rows come in file order; between two rows (and after the last) there
//    are only line breaks (and a BOM at offset 0); `raw` is the file's bytes
//    at `offset`; `end_offset` is after the row's line break;
//  - `line` is 1 + the number of line breaks (LF, CRLF, lone CR) before the
//    row, `next_line` is the line of the next byte after the row;
//  - a row has fields exactly when it has no error; a row without quotes is
//    `raw` split at the delimiter (and trimmed when trim is on);
//  - after a row the reader stands at its end_offset/next_line;
//  - the rows do not depend on how the bytes are fed (any chunking), and a
//    reader resumed from the state saved after a row (offset, line, horizon,
//    strict), as the connector does from its cursor, reads exactly the rows
//    that follow.
// Then, as FileSource does: fields are decoded (utf-8, latin-1 or
// windows-1252), failures escaped with escape_invalid_utf8 (always valid
// UTF-8), the first good row becomes the header (normalize_header: unique,
// non-empty names), and RecordBuilder::build must produce exactly one JSON
// object with unique keys and only string leaves, and with max_bytes succeed
// exactly when that object fits.
#include <simdjson.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "csv_config.hpp"
#include "csv_reader.hpp"
#include "encoding.hpp"
#include "fuzz_util.hpp"
#include "record_builder.hpp"

using namespace touchpoint::csv;

namespace {

std::string show(const Row& r) {
  std::string s = "line " + std::to_string(r.line) + "->" + std::to_string(r.next_line) + " @" +
                  std::to_string(r.offset) + "-" + std::to_string(r.end_offset) + " err='" + r.error +
                  "' fields=" + std::to_string(r.fields.size()) + " raw=" + std::to_string(r.raw.size()) + " bytes" +
                  (r.raw_cut ? " (cut)" : "");
  return s;
}

bool same_row(const Row& a, const Row& b) {
  return a.fields == b.fields && a.raw == b.raw && a.raw_cut == b.raw_cut && a.offset == b.offset &&
         a.end_offset == b.end_offset && a.line == b.line && a.next_line == b.next_line && a.error == b.error;
}

// Rows equal but for `raw` of an over-long line (raw_cut: a prefix), where one raw is a
// prefix of the other: how much of the line was at hand depends on the chunking. A raw
// flagged as not cut must then be the longer one (the whole line).
bool same_but_cut_raw(const Row& a, const Row& b) {
  const Row& shorter = a.raw.size() < b.raw.size() ? a : b;
  const Row& longer = a.raw.size() < b.raw.size() ? b : a;
  return (a.raw_cut || b.raw_cut) && (shorter.raw_cut || shorter.raw.size() == longer.raw.size()) &&
         longer.raw.compare(0, shorter.raw.size(), shorter.raw) == 0 && a.fields == b.fields && a.offset == b.offset &&
         a.end_offset == b.end_offset && a.line == b.line && a.next_line == b.next_line && a.error == b.error;
}

void check_same_rows(const Row& a, const Row& b, const char* how, size_t i) {
  FUZZ_CHECK(same_row(a, b) || same_but_cut_raw(a, b), "row %zu differs %s:\n  %s\n  %s", i, how, show(a).c_str(),
             show(b).c_str());
}

struct ReadState {  // what a cursor saves after a row
  uint64_t offset, line, horizon;
  bool strict;
};

// Reads every row; `chunks` gives the feed sizes (cycled), empty: all at once.
std::vector<Row> read_all(std::string_view file, const ReaderOptions& opt, const std::vector<size_t>& chunks,
                          const ReadState& from = {0, 1, 0, false}, std::vector<ReadState>* states = nullptr) {
  RowReader reader(opt, from.offset, from.line, from.horizon, from.strict);
  std::vector<Row> rows;
  size_t fed = 0, c = 0;
  auto feed_more = [&] {
    if (fed == file.size()) {
      reader.finish();
      return;
    }
    size_t n = chunks.empty() ? file.size() - fed : std::min(chunks[c++ % chunks.size()], file.size() - fed);
    reader.feed(file.substr(fed, n));
    fed += n;
    if (fed == file.size() && (c & 1) == 0) reader.finish();  // sometimes with the last chunk, sometimes later
  };
  feed_more();
  for (size_t guard = 0;; ++guard) {
    FUZZ_CHECK(guard < 4 * file.size() + 64, "reader does not make progress");
    Row row;
    RowReader::Status s = reader.next(row);
    if (s == RowReader::Status::end) break;
    if (s == RowReader::Status::need_more) {
      FUZZ_CHECK(!reader.finished(), "need_more after finish()");
      feed_more();
      continue;
    }
    FUZZ_CHECK(reader.offset() == row.end_offset && reader.line() == row.next_line,
               "reader at %llu/%llu after a row ending at %llu/%llu", static_cast<unsigned long long>(reader.offset()),
               static_cast<unsigned long long>(reader.line()), static_cast<unsigned long long>(row.end_offset),
               static_cast<unsigned long long>(row.next_line));
    if (states != nullptr) states->push_back({reader.offset(), reader.line(), reader.horizon(), reader.strict()});
    rows.push_back(std::move(row));
  }
  FUZZ_CHECK(reader.offset() == from.offset + file.size(), "end at offset %llu of %llu",
             static_cast<unsigned long long>(reader.offset()),
             static_cast<unsigned long long>(from.offset + file.size()));
  return rows;
}

// Line breaks in s: CRLF counts once.
uint64_t breaks(std::string_view s) {
  uint64_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') ++n;
    if (s[i] == '\r') {
      ++n;
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    }
  }
  return n;
}

bool only_breaks(std::string_view s) { return s.find_first_not_of("\r\n") == std::string_view::npos; }

std::string trimmed(std::string_view s, char d) {
  auto blank = [d](char c) { return (c == ' ' || c == '\t') && c != d; };
  size_t b = 0, e = s.size();
  while (b < e && blank(s[b])) ++b;
  while (e > b && blank(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

// Returns false when the rows show the (ignored) known issue, which also makes them depend on chunking.
bool check_rows(std::string_view file, const ReaderOptions& opt, const std::vector<Row>& rows) {
  const bool bom = file.substr(0, 3) == "\xEF\xBB\xBF";
  uint64_t prev_end = bom ? 3 : 0;
  uint64_t line_shift = 0;  // line breaks swallowed by a known, ignored finding
  bool known = false;
  for (const Row& r : rows) {
    uint64_t inner = 0;
    if (r.raw_cut) {
      // A cut raw belongs to a row of one physical line: no line break before its end, none in raw.
      std::string_view body = file.substr(r.offset, r.end_offset - r.offset);
      size_t tail = body.size() >= 2 && body.substr(body.size() - 2) == "\r\n"      ? 2
                    : !body.empty() && (body.back() == '\n' || body.back() == '\r') ? 1
                                                                                    : 0;
      inner = breaks(body.substr(0, body.size() - tail));
      const bool break_in_raw = r.raw.find_first_of("\r\n") != std::string::npos;
      FUZZ_CHECK_KNOWN("csv-oversize-row-eats-lone-cr", inner == 0 && !break_in_raw,
                       "an over-long line row spans %llu more line break(s), raw %s a line break: %s",
                       static_cast<unsigned long long>(inner), break_in_raw ? "holds" : "without", show(r).c_str());
      known = known || inner != 0 || break_in_raw;
    }
    FUZZ_CHECK(r.offset >= prev_end && r.end_offset > r.offset && r.end_offset <= file.size(), "bad offsets: %s",
               show(r).c_str());
    FUZZ_CHECK(only_breaks(file.substr(prev_end, r.offset - prev_end)), "skipped non-blank bytes before %s",
               show(r).c_str());
    FUZZ_CHECK(r.raw.size() <= r.end_offset - r.offset && file.compare(r.offset, r.raw.size(), r.raw) == 0,
               "raw is not the file's bytes: %s", show(r).c_str());
    // A BOM is not a line, so counting starts after it.
    FUZZ_CHECK(r.line + line_shift == 1 + breaks(file.substr(bom ? 3 : 0, r.offset - (bom ? 3 : 0))), "line number: %s",
               show(r).c_str());
    line_shift += inner;
    FUZZ_CHECK(r.next_line + line_shift == 1 + breaks(file.substr(bom ? 3 : 0, r.end_offset - (bom ? 3 : 0))) ||
                   // a row ending at end of input without a line break
                   (r.end_offset == file.size() && r.next_line + line_shift == 2 + breaks(file.substr(bom ? 3 : 0))),
               "next_line: %s", show(r).c_str());
    FUZZ_CHECK(r.error.empty() != r.fields.empty(), "fields vs error: %s", show(r).c_str());
    if (!r.raw_cut) {
      std::string_view tail = file.substr(r.offset + r.raw.size(), r.end_offset - r.offset - r.raw.size());
      FUZZ_CHECK(tail.empty() || tail == "\n" || tail == "\r" || tail == "\r\n", "row break: %s", show(r).c_str());
    }
    if (r.error.empty()) {
      FUZZ_CHECK(!r.raw_cut, "a good row with a cut raw: %s", show(r).c_str());
      if (r.raw.find('"') == std::string::npos) {
        std::vector<std::string> expect;
        size_t start = 0;
        for (;;) {
          size_t d = r.raw.find(opt.delimiter, start);
          std::string_view f =
              std::string_view(r.raw).substr(start, d == std::string::npos ? std::string::npos : d - start);
          expect.push_back(opt.trim ? trimmed(f, opt.delimiter) : std::string(f));
          if (d == std::string::npos) break;
          start = d + 1;
        }
        FUZZ_CHECK(expect == r.fields, "unquoted row not split at the delimiter: %s", show(r).c_str());
      }
    }
    prev_end = r.end_offset;
  }
  FUZZ_CHECK(only_breaks(file.substr(prev_end)), "non-blank bytes after the last row");
  return !known;
}

Decoder& decoder(int which) {
  static Decoder utf8("utf-8"), latin1("latin-1"), cp1252("windows-1252");
  return which == 0 ? utf8 : which == 1 ? latin1 : cp1252;
}

bool valid_json_object(const std::string& json, std::string& why) {
  static simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (auto err = parser.parse(json).get(e); err) {
    why = simdjson::error_message(err);
    return false;
  }
  // Unique keys per object, string leaves only.
  std::vector<simdjson::dom::element> todo{e};
  while (!todo.empty()) {
    simdjson::dom::element cur = todo.back();
    todo.pop_back();
    if (!cur.is_object()) {
      if (!cur.is_string()) {
        why = "a leaf is not a string";
        return false;
      }
      continue;
    }
    std::set<std::string_view> keys;
    const simdjson::dom::object object = cur.get_object().value_unsafe();
    for (auto field : object) {
      if (!keys.insert(field.key).second) {
        why = "duplicate key '" + std::string(field.key) + "'";
        return false;
      }
      todo.push_back(field.value);
    }
  }
  if (!e.is_object()) {
    why = "not an object";
    return false;
  }
  return true;
}

void build_records(const std::vector<Row>& rows, int enc, int mapping) {
  Decoder& dec = decoder(enc);
  std::vector<std::string> names;
  std::unique_ptr<RecordBuilder> builder;
  std::string out;
  for (const Row& row : rows) {
    std::string raw, error;
    if (!dec.to_utf8(row.raw, raw, error)) {
      std::string esc = escape_invalid_utf8(row.raw);
      FUZZ_CHECK(valid_utf8(esc), "escape_invalid_utf8 output is not valid UTF-8");
    }
    if (!row.error.empty()) continue;
    std::vector<std::string> values(row.fields.size());
    bool ok = true;
    for (size_t i = 0; i < row.fields.size() && ok; ++i) {
      error.clear();
      ok = dec.to_utf8(row.fields[i], values[i], error);
      if (ok)
        FUZZ_CHECK(valid_utf8(values[i]), "%s decoded to invalid UTF-8", dec.name().c_str());
      else
        FUZZ_CHECK(!error.empty(), "decode failure without a message");
    }
    if (!ok) continue;
    if (!builder) {
      for (std::string& v : values) v = trimmed(v, '\0');
      names = normalize_header(values);
      FUZZ_CHECK(names.size() == values.size(), "normalize_header changed the column count");
      std::set<std::string> unique(names.begin(), names.end());
      FUZZ_CHECK(unique.size() == names.size(), "normalize_header left duplicate names");
      FUZZ_CHECK(unique.count("") == 0, "normalize_header left an empty name");
      Config config;
      config.inbox = "/nonexistent/inbox";
      if (mapping >= 1) {
        // Map some of the header's own names (and one missing) to nested paths, as a pipeline would.
        static const char* kPaths[] = {"email", "address.city", "address.zip", "phone", "name.first"};
        for (size_t i = 0; i < names.size() && i < 5; ++i)
          config.columns.push_back({names[i], split_path(kPaths[(i + static_cast<size_t>(mapping)) % 5])});
        config.columns.push_back({"Not In The File", split_path("missing.path")});
        config.only_mapped = mapping == 2;
      }
      std::vector<std::string> warnings;
      builder = std::make_unique<RecordBuilder>(names, config, warnings);
      continue;
    }
    if (values.size() != builder->column_count()) continue;  // rejected by the connector
    out.clear();
    FUZZ_CHECK(builder->build(values, out), "build failed without a size limit");
    std::string why;
    FUZZ_CHECK(valid_json_object(out, why), "record builder output is not a valid JSON object (%s): %s", why.c_str(),
               out.substr(0, 300).c_str());
    // With a limit: true exactly when the whole object fits, and then the same bytes.
    const size_t limit = out.size() - (out.size() > 2 ? values.size() % 3 : 0);
    std::string capped;
    const bool fits = builder->build(values, capped, limit);
    FUZZ_CHECK_KNOWN("csv-build-limit-empty-nested", fits == (out.size() <= limit),
                     "build(max_bytes=%zu) says %d for %zu bytes: %s", limit, fits, out.size(), out.c_str());
    if (fits) FUZZ_CHECK(capped == out, "build with a limit wrote other bytes");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t a = data[0], b = data[1];
  const std::string_view file(reinterpret_cast<const char*>(data) + 2, size - 2);

  static constexpr char kDelims[] = {',', ';', '\t', 0};  // 0: detect, as for delimiter: auto
  static constexpr size_t kMaxRow[] = {size_t{64} << 20, 1024, 64, 8};
  ReaderOptions opt;
  opt.delimiter = kDelims[a & 3];
  if (opt.delimiter == 0) {
    opt.delimiter = detect_delimiter(file);
    FUZZ_CHECK(opt.delimiter == ',' || opt.delimiter == ';' || opt.delimiter == '\t', "detect_delimiter: %d",
               opt.delimiter);
  }
  opt.trim = (a & 4) != 0;
  opt.max_row_bytes = kMaxRow[(a >> 3) & 3];
  const int enc = ((a >> 5) & 3) % 3;
  const int mapping = (a >> 7) & 1 ? 1 + (b & 1) : 0;

  std::vector<ReadState> states;
  const std::vector<Row> rows = read_all(file, opt, {}, {0, 1, 0, false}, &states);
  const bool comparable = check_rows(file, opt, rows);

  // Any chunking gives the same rows.
  if (comparable) {
    std::vector<size_t> chunks;
    uint32_t x = b * 2654435761u + 1;
    for (int i = 0; i < 7; ++i) {
      x = x * 1103515245u + 12345u;
      chunks.push_back(1 + (x >> 16) % (b % 5 == 0 ? 3 : 97));
    }
    const std::vector<Row> chunked = read_all(file, opt, chunks);
    if (check_rows(file, opt, chunked)) {
      FUZZ_CHECK(chunked.size() == rows.size(), "%zu rows fed in chunks, %zu at once", chunked.size(), rows.size());
      for (size_t i = 0; i < rows.size(); ++i) check_same_rows(rows[i], chunked[i], "when fed in chunks", i);
    }
  }

  // Resume after one row from the state a cursor saves there.
  if (comparable && !rows.empty()) {
    const size_t k = b % rows.size();
    const ReadState& at = states[k];
    const std::vector<Row> rest = read_all(file.substr(at.offset), opt, {}, at);
    FUZZ_CHECK(rest.size() == rows.size() - k - 1, "resumed after row %zu: %zu rows, expected %zu", k, rest.size(),
               rows.size() - k - 1);
    for (size_t i = 0; i < rest.size(); ++i) check_same_rows(rows[k + 1 + i], rest[i], "after resuming", k + 1 + i);
  }

  build_records(rows, enc, mapping);
  return 0;
}
