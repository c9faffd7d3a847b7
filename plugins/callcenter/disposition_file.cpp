#include "disposition_file.hpp"

#include <algorithm>

#include "csv.hpp"
#include "encoding.hpp"
#include "json_input.hpp"
#include "text.hpp"
#include "tp_common/sha256.hpp"

namespace touchpoint::callcenter {

namespace {

constexpr size_t kMaxLineBytes = 1024 * 1024;

std::string trim_lower(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t start = s.find_first_not_of(" \t");
  s = start == std::string::npos ? std::string() : s.substr(start);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void add_result(ParsedFile& out, const std::string& prefix, size_t row, std::string_view raw,
                std::variant<Disposition, DispositionError> result) {
  FileItem item;
  item.row = row;
  if (auto* d = std::get_if<Disposition>(&result)) {
    item.ok = true;
    item.id = prefix + std::to_string(row);
    item.data = std::move(d->data);
  } else {
    item.raw = escape_invalid_utf8(raw);
    item.reason = std::get<DispositionError>(result).message;
  }
  out.items.push_back(std::move(item));
}

void add_reject(ParsedFile& out, size_t row, std::string_view raw, std::string reason) {
  FileItem item;
  item.row = row;
  item.raw = escape_invalid_utf8(raw);
  item.reason = std::move(reason);
  out.items.push_back(std::move(item));
}

void parse_csv_file(ParsedFile& out, const std::string& prefix, std::string_view text, const DispositionDir& config,
                    const OutcomeMap& outcome_map) {
  std::vector<CsvRow> rows = parse_csv(text, config.delimiter);
  if (rows.empty()) return;
  if (!rows[0].error.empty() || !valid_utf8(rows[0].raw)) {
    out.file_error = "the header row is malformed: " + (rows[0].error.empty() ? "invalid UTF-8" : rows[0].error);
    return;
  }
  std::vector<std::string> header;
  for (const std::string& h : rows[0].fields) header.push_back(trim_lower(h));
  for (const char* required : {"contact_id", "outcome"})
    if (std::find(header.begin(), header.end(), required) == header.end()) {
      out.file_error = std::string("the header row has no '") + required + "' column";
      return;
    }
  for (size_t r = 1; r < rows.size(); ++r) {
    const CsvRow& row = rows[r];
    const std::string location_hint = " (line " + std::to_string(row.line) + ")";
    if (!row.error.empty()) {
      add_reject(out, r, row.raw, row.error + location_hint);
      continue;
    }
    if (size_t bad = invalid_utf8_at(row.raw); bad != std::string_view::npos) {
      add_reject(out, r, row.raw,
                 "invalid UTF-8 at byte " + std::to_string(bad) + " of the row" + location_hint +
                     "; a Latin-1 file needs dispositions.encoding: latin-1");
      continue;
    }
    if (row.fields.size() != header.size()) {
      add_reject(out, r, row.raw,
                 "the row has " + std::to_string(row.fields.size()) + " fields, the header " +
                     std::to_string(header.size()) + location_hint);
      continue;
    }
    Fields fields;
    for (size_t c = 0; c < header.size(); ++c)
      fields.insert_or_assign(header[c], FieldValue{FieldValue::Type::text, row.fields[c]});
    add_result(out, prefix, r, row.raw, build_disposition(fields, outcome_map));
  }
}

void parse_jsonl_file(ParsedFile& out, const std::string& prefix, std::string_view text,
                      const OutcomeMap& outcome_map) {
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (line.size() > kMaxLineBytes) {
      add_reject(out, line_no, line, "line is " + std::to_string(line.size()) + " bytes (at most 1 MiB)");
      continue;
    }
    auto parsed = parse_json_object(line);
    if (auto* e = std::get_if<JsonInputError>(&parsed)) {
      add_reject(out, line_no, line, e->message);
      continue;
    }
    add_result(out, prefix, line_no, line, build_disposition(std::get<Fields>(parsed), outcome_map));
  }
}

}  // namespace

std::string file_id_prefix(std::string_view name, std::string_view content) {
  const std::string digest = tp_common::sha256_hex(content).substr(0, 16);
  std::string shown(name);
  if (shown.size() > 160 || !valid_utf8(shown) || has_control(shown, false))
    shown = "h" + tp_common::sha256_hex(name).substr(0, 16);
  return "cc:" + shown + ":" + digest + ":";
}

ParsedFile parse_disposition_file(std::string_view name, std::string_view content, FileFormat format,
                                  const DispositionDir& config, const OutcomeMap& outcome_map) {
  ParsedFile out;
  const std::string prefix = file_id_prefix(name, content);
  std::string converted;
  std::string_view text = content;
  if (config.encoding == Encoding::latin1) {
    converted = latin1_to_utf8(content);
    text = converted;
  }
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte order mark
  if (format == FileFormat::csv) {
    parse_csv_file(out, prefix, text, config, outcome_map);
  } else {
    parse_jsonl_file(out, prefix, text, outcome_map);
  }
  return out;
}

}  // namespace touchpoint::callcenter
