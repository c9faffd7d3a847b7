// Character encoding: iconv conversion to UTF-8 and strict UTF-8 validation.
#ifndef TOUCHPOINT_CSV_ENCODING_HPP
#define TOUCHPOINT_CSV_ENCODING_HPP

#include <iconv.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace touchpoint::csv {

/// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points above
/// U+10FFFF). On failure `*bad_offset` receives the offset of the first offending byte.
bool valid_utf8(std::string_view s, size_t* bad_offset = nullptr);

/// `s` with every byte that is not part of a well-formed UTF-8 sequence written as "\xNN".
std::string escape_invalid_utf8(std::string_view s);

/// Cuts `s` (valid UTF-8) to at most `max` bytes without splitting a UTF-8 sequence.
void cut_utf8(std::string& s, size_t max);

/// Cuts a message (valid UTF-8) to at most `max` bytes (max >= 3), ending it with "..." when cut.
void cut_message(std::string& s, size_t max);

/// Converts field bytes from one ASCII-compatible, stateless encoding to UTF-8.
/// Not thread-safe (holds an iconv descriptor); one per instance thread.
class Decoder {
 public:
  /// `encoding` is "utf-8" or any iconv name ("latin-1" is accepted as ISO-8859-1).
  /// Throws touchpoint::ConfigError for unknown or unsupported (non ASCII-compatible,
  /// stateful) encodings.
  explicit Decoder(std::string_view encoding);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  /// The iconv name used ("UTF-8" for UTF-8 input).
  const std::string& name() const { return name_; }
  bool is_utf8() const { return cd_ == nullptr; }

  /// Appends `in` converted to UTF-8 to `out`. Returns false and describes the problem
  /// in `error` when `in` is not valid in the source encoding (out is then unspecified).
  bool to_utf8(std::string_view in, std::string& out, std::string& error);

 private:
  bool convert(std::string_view in, std::string& out, std::string& error);

  std::string name_;
  iconv_t cd_ = nullptr;  // nullptr for UTF-8 input
};

}  // namespace touchpoint::csv

#endif  // TOUCHPOINT_CSV_ENCODING_HPP
