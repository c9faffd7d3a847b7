#include "mime_message.hpp"

#include <gmime/gmime.h>

#include <stdexcept>

#include "gmime_init.hpp"

namespace tp_email {

namespace {

// A GObject reference released at scope exit.
template <typename T>
struct Ref {
  T* p;
  explicit Ref(T* x) : p(x) {
    if (p == nullptr) throw std::runtime_error("GMime: out of memory");
  }
  ~Ref() { g_object_unref(p); }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
};

// GMime takes C strings: a NUL byte would silently cut the rest off, so drop them.
std::string without_nul(const std::string& s) {
  if (s.find('\0') == std::string::npos) return s;
  std::string out;
  out.reserve(s.size());
  for (const char c : s)
    if (c != '\0') out.push_back(c);
  return out;
}

void add_mailbox(InternetAddressList* list, const Mailbox& m) {
  const std::string name = without_nul(m.name);
  InternetAddress* ia = internet_address_mailbox_new(name.empty() ? nullptr : name.c_str(), m.address.c_str());
  internet_address_set_charset(ia, "utf-8");
  internet_address_list_add(list, ia);
  g_object_unref(ia);
}

// The text goes in as UTF-8 bytes and is labelled utf-8 (g_mime_text_part_set_text would
// re-encode it to the "best" charset, ISO-8859-1 for German).
GMimeTextPart* text_part(const char* subtype, const std::string& body) {
  GMimeTextPart* part = g_mime_text_part_new_with_subtype(subtype);
  const std::string text = without_nul(body);
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(text.data(), text.size());
  GMimeDataWrapper* content = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_object_unref(stream);
  g_mime_part_set_content(GMIME_PART(part), content);
  g_object_unref(content);
  g_mime_text_part_set_charset(part, "utf-8");
  g_mime_part_set_content_encoding(GMIME_PART(part), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  return part;
}

// Sets a header whose value GMime must not touch: its folding of an unstructured value
// turns a long URL into RFC 2047 encoded-words, which no client reads as a List-Unsubscribe
// URL. `folded` is already valid header text (folded at the ", " between entries).
void set_raw_header(GMimeObject* obj, const char* name, const std::string& folded) {
  g_mime_object_set_header(obj, name, "", nullptr);
  GMimeHeader* h = g_mime_header_list_get_header(g_mime_object_get_header_list(obj), name);
  const std::string raw = " " + folded + "\n";
  g_mime_header_set_raw_value(h, raw.c_str());
}

}  // namespace

std::string build_mime_message(const MessageParts& in) {
  ensure_gmime();
  Ref<GMimeMessage> msg(g_mime_message_new(TRUE));
  GMimeObject* obj = GMIME_OBJECT(msg.p);

  add_mailbox(g_mime_message_get_from(msg.p), in.from);
  add_mailbox(g_mime_message_get_addresses(msg.p, GMIME_ADDRESS_TYPE_TO), in.to);
  g_mime_message_set_subject(msg.p, without_nul(in.subject).c_str(), "utf-8");
  GDateTime* date = g_date_time_new_from_unix_utc(in.date_unix_s);
  g_mime_message_set_date(msg.p, date);
  g_date_time_unref(date);
  g_mime_message_set_message_id(msg.p, in.message_id.c_str());
  g_mime_object_set_header(obj, "MIME-Version", "1.0", nullptr);
  if (!in.list_unsubscribe.empty()) {
    std::string folded = in.list_unsubscribe;
    for (size_t pos = 0; (pos = folded.find(">, <", pos)) != std::string::npos; pos += 3)
      folded.replace(pos, 4, ">,\n <");
    set_raw_header(obj, "List-Unsubscribe", folded);
    g_mime_object_set_header(obj, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click", nullptr);
  }
  g_mime_object_set_header(obj, "X-Touchpoint-Contact", in.contact_id.c_str(), nullptr);

  if (in.has_html) {
    Ref<GMimeMultipart> alt(g_mime_multipart_new_with_subtype("alternative"));
    Ref<GMimeTextPart> plain(text_part("plain", in.text));
    Ref<GMimeTextPart> html(text_part("html", in.html));
    g_mime_multipart_add(alt.p, GMIME_OBJECT(plain.p));
    g_mime_multipart_add(alt.p, GMIME_OBJECT(html.p));
    g_mime_message_set_mime_part(msg.p, GMIME_OBJECT(alt.p));
  } else {
    Ref<GMimeTextPart> plain(text_part("plain", in.text));
    g_mime_message_set_mime_part(msg.p, GMIME_OBJECT(plain.p));
  }

  GMimeFormatOptions* format = g_mime_format_options_clone(nullptr);
  g_mime_format_options_set_newline_format(format, GMIME_NEWLINE_FORMAT_DOS);
  Ref<GMimeStream> stream(g_mime_stream_mem_new());
  const ssize_t written = g_mime_object_write_to_stream(obj, format, stream.p);
  g_mime_format_options_free(format);
  if (written < 0) throw std::runtime_error("GMime could not serialise the message");
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream.p));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

}  // namespace tp_email
