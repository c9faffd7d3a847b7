// Small RAII and type helpers over GMime/GObject, so the parser has no manual
// unref paths and no C-style casts.
#ifndef TP_EMAIL_INTAKE_GMIME_UTIL_HPP
#define TP_EMAIL_INTAKE_GMIME_UTIL_HPP

#include <gmime/gmime.h>

#include <memory>
#include <string>
#include <string_view>

namespace tp_email::intake::detail {

/// Initialises GMime once per process (thread-safe).
void ensure_gmime();

struct GObjectUnref {
  void operator()(void* p) const noexcept {
    if (p != nullptr) g_object_unref(p);
  }
};
template <typename T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

struct ParserOptionsFree {
  void operator()(GMimeParserOptions* p) const noexcept { g_mime_parser_options_free(p); }
};
using OptionsPtr = std::unique_ptr<GMimeParserOptions, ParserOptionsFree>;

/// Lenient options: broken charsets fall back to Latin-1, loose RFC 2047.
OptionsPtr lenient_options();

/// Parses bytes as a message; nullptr when GMime finds no message.
GPtr<GMimeMessage> parse_message(std::string_view bytes, GMimeParserOptions* options);

template <typename T>
T* as(GMimeObject* o, GType type) noexcept {
  if (o == nullptr || !G_TYPE_CHECK_INSTANCE_TYPE(o, type)) return nullptr;
  return reinterpret_cast<T*>(o);
}
inline GMimeObject* object(void* o) noexcept { return static_cast<GMimeObject*>(o); }

/// The decoded content of a leaf part (transfer encoding undone).
std::string part_content(GMimePart* part);

/// Whether the object's content type is type/subtype (case-insensitive).
bool is_type(GMimeObject* o, const char* type, const char* subtype);

inline std::string str_or_empty(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

}  // namespace tp_email::intake::detail

#endif
