// Streaming RFC 4180 row reader with absolute byte offsets and line numbers.
//
// The reader is pure: it never touches a file. The caller feeds bytes (in any
// chunking), calls finish() once no more input follows, and pulls rows with
// next(). Bytes are not decoded: delimiter, quote, CR and LF are ASCII, so
// the reader works for every ASCII-compatible encoding; fields come back in
// the input encoding.
//
// Grammar and recovery rules (see README "Parsing"):
//  - Rows end at LF, CRLF or a lone CR outside quotes. Empty lines are skipped.
//  - A field starting with '"' is quoted: it may contain delimiters, line
//    breaks and "" (an escaped quote). When `trim` is on, blanks before the
//    opening and after the closing quote are ignored.
//  - A '"' inside an unquoted field is kept literally (tolerated).
//  - Text after a closing quote (`"ab"c`) makes the row malformed; the row
//    then ends at the next line break.
//  - A quote still open at end of input, or a row longer than max_row_bytes
//    (whether or not it ends later), makes only the row's first physical line
//    malformed; reading resumes on the line after it, so one stray quote does
//    not swallow the whole file. A row of one physical line longer than
//    max_row_bytes is malformed as a whole.
//  - Bounded work: such a failed row was scanned up to some offset (its
//    "horizon"). If a second row that starts before that horizon fails the
//    same way, quoted fields may no longer span lines until the horizon: a
//    line break inside quotes then ends the row as malformed (as over-long
//    when that first line alone is longer than max_row_bytes, as it is
//    without this rule). So every byte is scanned a bounded number of times,
//    whatever the input (without this, a file of lines like `a","x` would
//    be rescanned up to max_row_bytes from every line). The state travels in
//    the cursor (horizon(), strict()).
//  - A UTF-8 BOM at absolute offset 0 is skipped. Elsewhere it is data.
#ifndef TOUCHPOINT_CSV_CSV_READER_HPP
#define TOUCHPOINT_CSV_CSV_READER_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "limits.hpp"

namespace touchpoint::csv {

struct ReaderOptions {
  char delimiter = ',';
  /// Trim blanks (space, tab) around unquoted values and ignore them around quoted ones.
  bool trim = true;
  /// A row longer than this (line break included) is malformed.
  size_t max_row_bytes = kDefaultMaxRowBytes;
};

struct Row {
  std::vector<std::string> fields;  ///< raw field bytes, quotes removed; empty when malformed
  std::string raw;                  ///< the row's bytes without the line break (see raw_cut)
  bool raw_cut = false;             ///< raw holds only a prefix (rows of one over-long line)
  uint64_t offset = 0;              ///< absolute offset of the row's first byte
  uint64_t end_offset = 0;          ///< absolute offset after the row and its line break
  uint64_t line = 0;                ///< physical line (1-based) the row starts on
  uint64_t next_line = 0;           ///< physical line the following row starts on
  std::string error;                ///< non-empty: the row is malformed and `fields` is unusable
};

class RowReader {
 public:
  enum class Status { row, need_more, end };

  /// Starts reading at absolute byte `offset`, which is on physical line `line`, with the
  /// recovery state `horizon`/`strict` a cursor carried (see horizon()).
  explicit RowReader(ReaderOptions options, uint64_t offset = 0, uint64_t line = 1, uint64_t horizon = 0,
                     bool strict = false);

  /// Appends input bytes (must directly follow the bytes fed so far).
  void feed(std::string_view bytes);
  /// Declares the end of input.
  void finish() { finished_ = true; }
  bool finished() const { return finished_; }

  /// Produces the next row (Status::row), or asks for more input, or reports the end.
  Status next(Row& row);
  /// Skips blank lines and reports whether rows follow (row), the input is exhausted (end)
  /// or more input is needed to tell (need_more). Consumes nothing but blank lines.
  Status peek();

  /// Absolute offset of the first byte not consumed yet / its physical line.
  uint64_t offset() const { return base_ + pos_; }
  uint64_t line() const { return line_; }
  /// Recovery state at offset(): the offset up to which the last failed row was scanned (0:
  /// none ahead), and whether quoted fields are limited to one line until then.
  uint64_t horizon() const { return horizon_ > offset() ? horizon_ : 0; }
  bool strict() const { return horizon() != 0 && strict_; }
  /// Bytes fed but not yet consumed.
  size_t buffered() const { return buf_.size() - pos_; }
  const ReaderOptions& options() const { return options_; }

 private:
  enum class Parse { complete, need_more, oversize };
  Parse parse_row(Row& row);
  Status skip_blank_lines();
  Status continue_skip(Row& row);
  void compact();
  // A row starting at `start` failed after the reader scanned up to `scanned` (absolute).
  void note_failure(uint64_t start, uint64_t scanned);

  ReaderOptions options_;
  std::string buf_;
  uint64_t base_;  // absolute offset of buf_[0]
  size_t pos_ = 0;
  uint64_t line_;
  bool finished_ = false;
  bool bom_checked_;
  uint64_t horizon_;  // see horizon()
  bool strict_;
  // Skipping the remainder of an over-long physical line.
  bool skipping_ = false;
  Row skip_row_;
};

/// Guesses the delimiter from the first non-empty line of `head`: the most frequent of
/// ',', ';' and '\t' outside quotes (ties in that order); ',' when none occurs.
char detect_delimiter(std::string_view head);

}  // namespace touchpoint::csv

#endif  // TOUCHPOINT_CSV_CSV_READER_HPP
