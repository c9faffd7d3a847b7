#include "tp_common/base64.hpp"

#include <openssl/evp.h>

#include <limits>

namespace tp_common {

namespace {

const unsigned char* bytes_of(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

bool is_alphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  if (bytes.empty()) return {};
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  // EVP_EncodeBlock writes a terminating NUL after the output: reserve room for it.
  out.resize(out.size() + 1);
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes_of(bytes), static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() > static_cast<size_t>(std::numeric_limits<int>::max()) / 2) return std::nullopt;
  // Strict validation first: EVP_DecodeBlock skips surrounding whitespace and
  // does not report how much of the last quantum was padding.
  size_t data_len = text.size();
  while (data_len > 0 && text[data_len - 1] == '=') --data_len;
  size_t padding = text.size() - data_len;
  if (padding > 2) return std::nullopt;
  for (size_t i = 0; i < data_len; ++i)
    if (!is_alphabet(text[i])) return std::nullopt;
  if (data_len % 4 == 1) return std::nullopt;
  if (padding != 0 && text.size() % 4 != 0) return std::nullopt;
  if (data_len == 0) return std::string();

  std::string padded(text.substr(0, data_len));
  padded.append((4 - data_len % 4) % 4, '=');
  size_t pad_count = padded.size() - data_len;
  std::string out(padded.size() / 4 * 3 + 1, '\0');
  int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes_of(padded), static_cast<int>(padded.size()));
  if (n < 0 || static_cast<size_t>(n) < pad_count) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad_count);
  return out;
}

}  // namespace tp_common
