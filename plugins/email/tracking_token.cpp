#include "tracking_token.hpp"

#include <openssl/evp.h>

#include <charconv>
#include <stdexcept>
#include <vector>

#include "token_mac.hpp"

namespace tp_email {

namespace {

using token_detail::kMacHexDigits;

constexpr std::size_t kMaxSentDigits = 12;

std::string open_message(std::string_view contact_id, std::string_view sent) {
  std::string m = "open\n";
  m.append(contact_id).append("\n").append(sent);
  return m;
}

std::string click_message(std::string_view contact_id, std::string_view sent, std::string_view url) {
  std::string m = "click\n";
  m.append(contact_id).append("\n").append(sent).append("\n").append(url);
  return m;
}

// OpenSSL's base64 (EVP_EncodeBlock/EVP_DecodeBlock) with the URL-safe
// alphabet of RFC 4648 section 5 and no padding.
std::string base64url(std::string_view bytes) {
  std::vector<unsigned char> out(4 * ((bytes.size() + 2) / 3) + 1);
  const int n =
      EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  std::string s(reinterpret_cast<const char*>(out.data()), static_cast<std::size_t>(n));
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}

bool decode_base64url(std::string_view text, std::string& out) {
  if (text.empty() || text.size() % 4 == 1) return false;
  std::string s(text);
  for (char& c : s) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return false;  // '+', '/', '=' and anything else are not ours
    }
  }
  const std::size_t pad = (4 - s.size() % 4) % 4;
  s.append(pad, '=');
  std::vector<unsigned char> buf(s.size() / 4 * 3 + 1);
  const int n =
      EVP_DecodeBlock(buf.data(), reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0 || static_cast<std::size_t>(n) < pad) return false;
  out.assign(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n) - pad);
  return true;
}

bool sent_digits(std::string_view s, int64_t& value) {
  if (s.empty() || s.size() > kMaxSentDigits || (s.size() > 1 && s[0] == '0')) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && end == s.data() + s.size();
}

void require(std::string_view secret, std::string_view contact_id, int64_t sent_unix_s) {
  if (secret.empty()) throw std::invalid_argument("tracking secret is empty");
  if (contact_id.empty()) throw std::invalid_argument("contact id is empty");
  if (sent_unix_s < 0 || sent_unix_s > 999'999'999'999) throw std::invalid_argument("send time out of range");
}

// Splits "{contact}.{sent}[.{url}].{mac}" and checks the parts' forms.
struct Parts {
  std::string_view contact_id, sent, url_b64, mac;
};

bool split(std::string_view token, bool with_url, Parts& p) {
  if (token.size() > kMaxTrackingTokenBytes) return false;
  const std::size_t last = token.rfind('.');
  if (last == std::string_view::npos) return false;
  p.mac = token.substr(last + 1);
  std::string_view rest = token.substr(0, last);
  const std::size_t first = rest.find('.');
  if (first == std::string_view::npos) return false;
  p.contact_id = rest.substr(0, first);
  rest = rest.substr(first + 1);
  if (with_url) {
    const std::size_t dot = rest.find('.');
    if (dot == std::string_view::npos) return false;
    p.sent = rest.substr(0, dot);
    p.url_b64 = rest.substr(dot + 1);
  } else {
    p.sent = rest;
  }
  return token_detail::is_contact_id(p.contact_id) && p.mac.size() == kMacHexDigits && token_detail::lower_hex(p.mac);
}

}  // namespace

bool trackable_url(std::string_view url) noexcept {
  if (url.empty() || url.size() > kMaxTrackedUrlBytes) return false;
  auto starts = [&](std::string_view scheme) {
    if (url.size() <= scheme.size()) return false;
    for (std::size_t i = 0; i < scheme.size(); ++i) {
      const char c = url[i];
      if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != scheme[i]) return false;
    }
    return true;
  };
  if (!starts("http://") && !starts("https://")) return false;
  for (const char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;  // no header splitting via Location
  return true;
}

std::string sign_open_token(std::string_view secret, std::string_view contact_id, int64_t sent_unix_s) {
  require(secret, contact_id, sent_unix_s);
  const std::string sent = std::to_string(sent_unix_s);
  std::string token(contact_id);
  token.append(".").append(sent).append(".");
  return token + token_detail::mac_hex(secret, open_message(contact_id, sent));
}

std::string sign_click_token(std::string_view secret, std::string_view contact_id, int64_t sent_unix_s,
                             std::string_view url) {
  require(secret, contact_id, sent_unix_s);
  if (!trackable_url(url)) throw std::invalid_argument("not a trackable http(s) URL");
  const std::string sent = std::to_string(sent_unix_s);
  std::string token(contact_id);
  token.append(".").append(sent).append(".").append(base64url(url)).append(".");
  return token + token_detail::mac_hex(secret, click_message(contact_id, sent, url));
}

TrackingToken check_open_token(std::string_view secret, std::string_view token) {
  TrackingToken r;
  Parts p;
  int64_t sent = 0;
  if (!split(token, false, p) || !sent_digits(p.sent, sent)) return r;
  r.check = TokenCheck::forged;
  if (secret.empty() ||
      !token_detail::mac_equal(token_detail::mac_hex(secret, open_message(p.contact_id, p.sent)), p.mac))
    return r;
  r.check = TokenCheck::ok;
  r.contact_id = std::string(p.contact_id);
  r.sent_unix_s = sent;
  return r;
}

TrackingToken check_click_token(std::string_view secret, std::string_view token) {
  TrackingToken r;
  Parts p;
  int64_t sent = 0;
  std::string url;
  if (!split(token, true, p) || !sent_digits(p.sent, sent) || !decode_base64url(p.url_b64, url) || !trackable_url(url))
    return r;
  r.check = TokenCheck::forged;
  if (secret.empty() ||
      !token_detail::mac_equal(token_detail::mac_hex(secret, click_message(p.contact_id, p.sent, url)), p.mac))
    return r;
  r.check = TokenCheck::ok;
  r.contact_id = std::string(p.contact_id);
  r.sent_unix_s = sent;
  r.url = std::move(url);
  return r;
}

}  // namespace tp_email
