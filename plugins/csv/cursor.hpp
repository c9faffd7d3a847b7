// The source position handed to the host with every unit (tp_emit.cursor).
//
//   {"file":"a.csv","size":123,"mtime":1700000000123456789,"offset":80,"line":5,"eof":false}
//
// file/size/mtime identify the file (mtime in nanoseconds since the epoch);
// offset is the byte offset after the last consumed row and line the physical
// line the next row starts on; eof marks the unit that finished the file.
// A file name that is not valid UTF-8 is written as "file_hex" (its bytes in
// hex) instead of "file". After malformed rows the reader's recovery state
// follows as "horizon" and "strict" (see RowReader::horizon()); both are
// left out when there is none.
#ifndef TOUCHPOINT_CSV_CURSOR_HPP
#define TOUCHPOINT_CSV_CURSOR_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace touchpoint::csv {

struct Cursor {
  std::string file;
  uint64_t size = 0;
  int64_t mtime = 0;
  uint64_t offset = 0;
  uint64_t line = 1;
  bool eof = false;
  uint64_t horizon = 0;  ///< RowReader recovery state at offset (0: none)
  bool strict = false;

  bool operator==(const Cursor&) const = default;
};

std::string to_json(const Cursor& c);

/// Parses a cursor produced by to_json. Returns nullopt (and a reason in *error) when
/// `json` is not such a cursor.
std::optional<Cursor> parse_cursor(std::string_view json, std::string* error = nullptr);

}  // namespace touchpoint::csv

#endif  // TOUCHPOINT_CSV_CURSOR_HPP
