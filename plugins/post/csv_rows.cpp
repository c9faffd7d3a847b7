#include "csv_rows.hpp"

namespace touchpoint::post {

CsvRows::CsvRows(std::string_view text, char delimiter, uint64_t max_field_bytes)
    : text_(text), delimiter_(delimiter), max_field_(max_field_bytes) {
  if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // a UTF-8 byte order mark
}

bool CsvRows::next(CsvRow& row) {
  // Skip empty lines.
  while (pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r')) {
    if (text_[pos_] == '\n') ++line_;
    ++pos_;
  }
  if (pos_ >= text_.size()) return false;
  const size_t start = pos_;
  const uint64_t line = line_;
  if (parse(row, !strict_)) return true;
  // Unterminated quote: fail the first line only and go on in strict mode.
  strict_ = true;
  pos_ = start;
  line_ = line;
  parse(row, false);
  row.error = "a quoted field is not closed (the file may be cut off)";
  row.fields.clear();
  return true;
}

bool CsvRows::parse(CsvRow& row, bool multiline) {
  row.fields.clear();
  row.error.clear();
  row.line = line_;
  row.terminated = true;
  const size_t start = pos_;
  std::string field;
  bool too_big = false;
  auto push = [&](std::string& f) {
    if (f.size() > max_field_) too_big = true;
    row.fields.push_back(std::move(f));
    f.clear();
  };
  auto add = [&](char c) {
    if (field.size() <= max_field_)
      field.push_back(c);  // stop growing; the row fails anyway
    else
      too_big = true;
  };
  size_t i = pos_;
  const size_t n = text_.size();
  for (;;) {
    if (i < n && text_[i] == '"') {  // quoted field
      ++i;
      bool closed = false;
      while (i < n) {
        const char c = text_[i];
        if (c == '"') {
          if (i + 1 < n && text_[i + 1] == '"') {
            add('"');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        if (c == '\n') {
          if (!multiline) break;
          ++line_;
        }
        add(c);
        ++i;
      }
      if (!closed) {
        if (multiline) return false;
        // Strict mode: the row ends at this line break, malformed.
        if (row.error.empty()) row.error = "a quoted field is not closed on its line";
      } else if (i < n && text_[i] != delimiter_ && text_[i] != '\n' && text_[i] != '\r') {
        if (row.error.empty()) row.error = "text after a closing quote";
        while (i < n && text_[i] != delimiter_ && text_[i] != '\n') ++i;
      }
    } else {
      while (i < n && text_[i] != delimiter_ && text_[i] != '\n') {
        if (text_[i] == '\r' && (i + 1 >= n || text_[i + 1] == '\n')) {
          ++i;
          continue;
        }
        add(text_[i]);
        ++i;
      }
    }
    if (i < n && text_[i] == '\r') ++i;
    push(field);
    if (i < n && text_[i] == delimiter_) {
      ++i;
      continue;
    }
    break;
  }
  size_t end = i;
  if (i < n && text_[i] == '\n') {
    ++i;
    ++line_;
  } else {
    row.terminated = false;
  }
  while (end > start && (text_[end - 1] == '\r' || text_[end - 1] == '\n')) --end;
  row.raw = text_.substr(start, end - start);
  pos_ = i;
  if (too_big && row.error.empty())
    row.error = "a field is larger than max_field_bytes (" + std::to_string(max_field_) + ")";
  if (!row.error.empty()) row.fields.clear();
  return true;
}

}  // namespace touchpoint::post
