// Splits a whole CSV file (in memory) into rows, RFC 4180 style.
//
// Rows end at LF or CRLF outside quotes; empty lines are skipped. A field starting with '"'
// is quoted and may hold delimiters, line breaks and "" (one quote). A row fails when a
// field exceeds max_field_bytes, text follows a closing quote, or a quote is still open at
// the end of the file. In the last case only the row's first line fails and the rest of
// the file is read with quoted fields limited to one line, so one stray quote (or a file
// cut in the middle of a quoted field) costs one row, not the rest of the file.
#ifndef TOUCHPOINT_POST_CSV_ROWS_HPP
#define TOUCHPOINT_POST_CSV_ROWS_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace touchpoint::post {

struct CsvRow {
  std::vector<std::string> fields;
  std::string_view raw;    ///< the row's bytes without its line break
  uint64_t line = 0;       ///< physical line (1-based) the row starts on
  bool terminated = true;  ///< false: the file ended without a line break after this row
  std::string error;       ///< non-empty: the row is malformed
};

class CsvRows {
 public:
  CsvRows(std::string_view text, char delimiter, uint64_t max_field_bytes);
  /// The next row; false at the end of the text.
  bool next(CsvRow& row);

 private:
  bool parse(CsvRow& row, bool multiline);

  std::string_view text_;
  char delimiter_;
  uint64_t max_field_;
  size_t pos_ = 0;
  uint64_t line_ = 1;
  bool strict_ = false;  // after an unterminated quote: quoted fields end at the line break
};

}  // namespace touchpoint::post

#endif  // TOUCHPOINT_POST_CSV_ROWS_HPP
