// RFC 4180 CSV: quoting for the call lists written, and a reader for the
// disposition files that the call center returns.
#ifndef TOUCHPOINT_CALLCENTER_CSV_HPP
#define TOUCHPOINT_CALLCENTER_CSV_HPP

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace touchpoint::callcenter {

/// Appends one field, quoted when it holds the delimiter, a quote, CR or LF or leading/trailing spaces.
void append_csv_field(std::string& out, std::string_view value, char delimiter);

struct CsvRow {
  size_t line = 0;       ///< 1-based line where the row starts
  std::string_view raw;  ///< the row's bytes as in the input
  std::vector<std::string> fields;
  std::string error;  ///< non-empty: the row is malformed (fields incomplete)
};

/// Splits `text` into rows. Rows end at LF or CRLF outside quotes; a quoted field may span lines.
/// A malformed row (a quote inside an unquoted field, text after a closing quote, an unterminated
/// quote at the end of the input) gets an error and reading goes on at the next line.
std::vector<CsvRow> parse_csv(std::string_view text, char delimiter);

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_CSV_HPP
