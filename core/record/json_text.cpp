#include "record/json_text.hpp"

#include <simdjson.h>

#include <array>
#include <charconv>
#include <optional>

namespace touchpoint::core {
namespace {

/// 0: copy; 1: a two-character escape; 2: \u00XX; 3: a byte >= 0x80 (UTF-8).
constexpr std::array<unsigned char, 256> kClass = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<size_t>(c)] = 2;
  for (unsigned char c : {'\b', '\t', '\n', '\f', '\r', '"', '\\'}) t[c] = 1;
  for (int c = 0x80; c < 0x100; ++c) t[static_cast<size_t>(c)] = 3;
  return t;
}();

char short_escape(unsigned char c) {
  switch (c) {
    case '\b':
      return 'b';
    case '\t':
      return 't';
    case '\n':
      return 'n';
    case '\f':
      return 'f';
    case '\r':
      return 'r';
    default:
      return static_cast<char>(c);  // '"' and '\\'
  }
}

/// nlohmann's own serializer, for what the fast path leaves to it: numbers
/// with a fraction, invalid UTF-8, binary. Made only when needed (it queries
/// the locale and allocates its buffers).
class Fallback {
 public:
  explicit Fallback(std::string& out) : out_(out) {}
  void dump(const Json& v) {
    if (!serializer_)
      serializer_.emplace(nlohmann::detail::output_adapter<char>(out_), ' ', Json::error_handler_t::replace);
    serializer_->dump(v, false, false, 0);
  }

 private:
  std::string& out_;
  std::optional<nlohmann::detail::serializer<Json>> serializer_;
};

void string_literal(std::string& out, std::string_view s, Fallback& fallback) {
  bool high = false;
  bool escapes = false;
  for (unsigned char c : s) {
    const unsigned char k = kClass[c];
    high |= k == 3;
    escapes |= k == 1 || k == 2;
  }
  if (high && !simdjson::validate_utf8(s.data(), s.size())) {
    fallback.dump(Json(s));  // U+FFFD exactly where nlohmann puts it
    return;
  }
  out.push_back('"');
  if (!escapes) {
    out.append(s);
  } else {
    static constexpr char kHex[] = "0123456789abcdef";
    size_t run = 0;  // start of the bytes not yet copied
    for (size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      const unsigned char k = kClass[c];
      if (k != 1 && k != 2) continue;
      out.append(s.data() + run, i - run);
      run = i + 1;
      if (k == 1) {
        out.push_back('\\');
        out.push_back(short_escape(c));
      } else {
        const char u[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(u, sizeof u);
      }
    }
    out.append(s.data() + run, s.size() - run);
  }
  out.push_back('"');
}

template <typename Int>
void integer(std::string& out, Int n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

void value(std::string& out, const Json& v, Fallback& fallback) {
  switch (v.type()) {
    case Json::value_t::object: {
      if (v.empty()) {
        out.append("{}");
        return;
      }
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : v.get_ref<const Json::object_t&>()) {
        if (!first) out.push_back(',');
        first = false;
        string_literal(out, key, fallback);
        out.push_back(':');
        value(out, item, fallback);
      }
      out.push_back('}');
      return;
    }
    case Json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const Json& item : v.get_ref<const Json::array_t&>()) {
        if (!first) out.push_back(',');
        first = false;
        value(out, item, fallback);
      }
      out.push_back(']');
      return;
    }
    case Json::value_t::string:
      string_literal(out, v.get_ref<const std::string&>(), fallback);
      return;
    case Json::value_t::number_integer:
      integer(out, v.get<Json::number_integer_t>());
      return;
    case Json::value_t::number_unsigned:
      integer(out, v.get<Json::number_unsigned_t>());
      return;
    case Json::value_t::boolean:
      out.append(v.get<bool>() ? "true" : "false");
      return;
    case Json::value_t::null:
      out.append("null");
      return;
    default:  // floats, binary, discarded
      fallback.dump(v);
      return;
  }
}

}  // namespace

void append_json(std::string& out, const Json& v) {
  Fallback fallback(out);
  value(out, v, fallback);
}

void append_json_string(std::string& out, std::string_view s) {
  Fallback fallback(out);
  string_literal(out, s, fallback);
}

std::string json_text(const Json& v) {
  std::string out;
  append_json(out, v);
  return out;
}

}  // namespace touchpoint::core
