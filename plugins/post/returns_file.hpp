// Turns one return file of the letter shop into response records and rejects.
//
// Each good row becomes a `response` record (docs/channels.md, kind letter_returned) with the
// id "post-return:<first 16 hex digits of the file's SHA-256>:<line>", so reading the same
// file again, under any name, yields the same ids. Bad rows and bad files become rejects.
#ifndef TOUCHPOINT_POST_RETURNS_FILE_HPP
#define TOUCHPOINT_POST_RETURNS_FILE_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "post_config.hpp"
#include "sdk.hpp"

namespace touchpoint::post {

/// One row's result: a record or a reject, at a physical line of the file.
struct ReturnItem {
  uint64_t line = 0;
  bool is_record = false;
  Record record;
  Reject reject;
};

struct ParsedReturnFile {
  std::string name;
  std::string hash;  ///< first 16 hex digits of SHA-256 of the bytes
  std::vector<ReturnItem> items;
};

/// Parses `bytes` (the whole file). Never throws for bad input: every problem is a reject.
ParsedReturnFile parse_return_file(const ReturnsConfig& config, const std::string& name, std::string_view bytes);

/// A reject for a whole file (unsafe name, unreadable, too large).
Reject file_reject(const std::string& name, std::string_view raw, const std::string& reason);

/// True for names the source accepts: 1 to 200 bytes of A-Z a-z 0-9 . _ + -, not starting
/// with '.'. Everything else (path separators, "..", blanks, control characters) is refused.
bool safe_file_name(std::string_view name);

/// `s` made printable for a reject or log line: invalid UTF-8 and control bytes as \xNN,
/// cut to `max` bytes.
std::string printable(std::string_view s, size_t max);

}  // namespace touchpoint::post

#endif  // TOUCHPOINT_POST_RETURNS_FILE_HPP
