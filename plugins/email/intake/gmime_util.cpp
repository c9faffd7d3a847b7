#include "gmime_util.hpp"

#include <mutex>

namespace tp_email::intake::detail {

void ensure_gmime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

OptionsPtr lenient_options() {
  OptionsPtr options(g_mime_parser_options_new());
  static const char* fallback[] = {"utf-8", "iso-8859-1", nullptr};
  g_mime_parser_options_set_fallback_charsets(options.get(), fallback);
  g_mime_parser_options_set_rfc2047_compliance_mode(options.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_address_compliance_mode(options.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode(options.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  return options;
}

GPtr<GMimeMessage> parse_message(std::string_view bytes, GMimeParserOptions* options) {
  ensure_gmime();
  // The stream copies the bytes, so the view may die after this call.
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(bytes.empty() ? "" : bytes.data(), bytes.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  return GPtr<GMimeMessage>(g_mime_parser_construct_message(parser.get(), options));
}

std::string part_content(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return {};
  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  if (g_mime_data_wrapper_write_to_stream(content, out.get()) < 0) return {};
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(reinterpret_cast<GMimeStreamMem*>(out.get()));
  if (bytes == nullptr || bytes->len == 0) return {};
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

bool is_type(GMimeObject* o, const char* type, const char* subtype) {
  if (o == nullptr) return false;
  GMimeContentType* ct = g_mime_object_get_content_type(o);
  return ct != nullptr && g_mime_content_type_is_type(ct, type, subtype);
}

}  // namespace tp_email::intake::detail
