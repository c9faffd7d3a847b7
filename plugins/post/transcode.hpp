// Character conversion between UTF-8 and ISO-8859-1 (latin-1) with iconv.
#ifndef TOUCHPOINT_POST_TRANSCODE_HPP
#define TOUCHPOINT_POST_TRANSCODE_HPP

#include <iconv.h>

#include <string>
#include <string_view>

namespace touchpoint::post {

/// True when `s` is well-formed UTF-8.
bool valid_utf8(std::string_view s);

/// One iconv direction. Not thread-safe; one per instance.
class Transcoder {
 public:
  /// from/to are iconv names ("UTF-8", "ISO-8859-1").
  Transcoder(const char* to, const char* from);
  ~Transcoder();
  Transcoder(const Transcoder&) = delete;
  Transcoder& operator=(const Transcoder&) = delete;

  /// Appends `in` converted to `out`. On failure returns false and describes the first
  /// character that cannot be converted in `error` (out then holds a partial result).
  bool convert(std::string_view in, std::string& out, std::string& error);

 private:
  iconv_t cd_;
  std::string from_;
  std::string to_;
};

}  // namespace touchpoint::post

#endif  // TOUCHPOINT_POST_TRANSCODE_HPP
