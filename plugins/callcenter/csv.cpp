#include "csv.hpp"

namespace touchpoint::callcenter {

void append_csv_field(std::string& out, std::string_view value, char delimiter) {
  const bool quote = value.find_first_of(std::string{delimiter, '"', '\r', '\n'}) != std::string_view::npos ||
                     (!value.empty() && (value.front() == ' ' || value.back() == ' '));
  if (!quote) {
    out.append(value);
    return;
  }
  out.push_back('"');
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::vector<CsvRow> parse_csv(std::string_view text, char delimiter) {
  std::vector<CsvRow> rows;
  size_t i = 0, line = 1;
  const size_t n = text.size();
  auto skip_to_line_end = [&](size_t& pos) {
    while (pos < n && text[pos] != '\n') ++pos;
  };
  while (i < n) {
    CsvRow row;
    row.line = line;
    const size_t start = i;
    std::string field;
    bool row_done = false;
    while (!row_done) {
      field.clear();
      if (i < n && text[i] == '"') {
        ++i;
        bool closed = false;
        while (i < n) {
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (c == '\n') ++line;
          field.push_back(c);
          ++i;
        }
        if (!closed) {
          row.error = "unterminated quoted field (truncated file?)";
          break;
        }
        if (i < n && text[i] != delimiter && text[i] != '\n' &&
            !(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') && !(text[i] == '\r' && i + 1 == n)) {
          row.error = "text after a closing quote";
          skip_to_line_end(i);
        }
      } else {
        while (i < n && text[i] != delimiter && text[i] != '\n') {
          if (text[i] == '"') {
            row.error = "a quote inside an unquoted field";
            skip_to_line_end(i);
            break;
          }
          if (text[i] == '\r' && (i + 1 == n || text[i + 1] == '\n')) {
            ++i;
            continue;  // CRLF: the CR belongs to the line break
          }
          field.push_back(text[i]);
          ++i;
        }
      }
      if (!row.error.empty()) break;
      row.fields.push_back(field);
      if (i < n && text[i] == '\r') ++i;
      if (i >= n) {
        row_done = true;
      } else if (text[i] == delimiter) {
        ++i;
      } else if (text[i] == '\n') {
        ++i;
        ++line;
        row_done = true;
      }
    }
    if (!row.error.empty() && i < n && text[i] == '\n') {
      ++i;
      ++line;
    }
    row.raw = text.substr(start, i - start);
    // A blank line is no row.
    const bool blank = row.error.empty() && row.fields.size() == 1 && row.fields[0].empty();
    if (!blank) rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace touchpoint::callcenter
