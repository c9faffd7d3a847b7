#include "returns_file.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "csv_rows.hpp"
#include "sha256.hpp"
#include "transcode.hpp"

namespace touchpoint::post {
namespace {

constexpr size_t kMaxRaw = 64 * 1024;

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_contact_id(std::string_view s) {
  if (s.size() != 26 || s.substr(0, 2) != "c-") return false;
  return std::all_of(s.begin() + 2, s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool digits(std::string_view s, size_t from, size_t n) {
  if (from + n > s.size()) return false;
  for (size_t i = from; i < from + n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

int num(std::string_view s, size_t from, size_t n) {
  int v = 0;
  for (size_t i = from; i < from + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

bool valid_ymd(int y, int m, int d) {
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1900 || m < 1 || m > 12 || d < 1 || d > kDays[m - 1]) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return !(m == 2 && d == 29 && !leap);
}

// The return date as RFC 3339 text: YYYY-MM-DD, DD.MM.YYYY or full RFC 3339 date-time.
std::optional<std::string> parse_date(std::string_view s) {
  char buf[32];
  if (s.size() == 10 && digits(s, 0, 4) && s[4] == '-' && digits(s, 5, 2) && s[7] == '-' && digits(s, 8, 2)) {
    if (!valid_ymd(num(s, 0, 4), num(s, 5, 2), num(s, 8, 2))) return std::nullopt;
    return std::string(s) + "T00:00:00Z";
  }
  if (s.size() == 10 && digits(s, 0, 2) && s[2] == '.' && digits(s, 3, 2) && s[5] == '.' && digits(s, 6, 4)) {
    const int y = num(s, 6, 4), m = num(s, 3, 2), d = num(s, 0, 2);
    if (!valid_ymd(y, m, d)) return std::nullopt;
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT00:00:00Z", y, m, d);
    return std::string(buf);
  }
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (s.size() < 20 || s.size() > 35 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) ||
      s[16] != ':' || !digits(s, 17, 2))
    return std::nullopt;
  if (!valid_ymd(num(s, 0, 4), num(s, 5, 2), num(s, 8, 2)) || num(s, 11, 2) > 23 || num(s, 14, 2) > 59 ||
      num(s, 17, 2) > 60)
    return std::nullopt;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const size_t f = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == f) return std::nullopt;
  }
  if (i + 1 == s.size() && (s[i] == 'Z' || s[i] == 'z')) return std::string(s);
  if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && digits(s, i + 1, 2) && s[i + 3] == ':' &&
      digits(s, i + 4, 2) && num(s, i + 1, 2) <= 23 && num(s, i + 4, 2) <= 59)
    return std::string(s);
  return std::nullopt;
}

class FileParser {
 public:
  FileParser(const ReturnsConfig& c, const std::string& name, std::string_view bytes)
      : config_(c), name_(name), bytes_(bytes) {
    if (c.encoding == Encoding::latin1) from_latin1_ = std::make_unique<Transcoder>("UTF-8", "ISO-8859-1");
  }

  ParsedReturnFile run() {
    ParsedReturnFile out;
    out.name = name_;
    out.hash = sha256_hex(bytes_).substr(0, 16);
    hash_ = out.hash;
    if (bytes_.empty()) {
      out.items.push_back(file_item(0, "", "empty file: no header, no rows"));
      return out;
    }
    CsvRows rows(bytes_, config_.delimiter, config_.max_field_bytes);
    CsvRow row;
    if (!rows.next(row)) {
      out.items.push_back(file_item(0, printable(bytes_, 256), "the file holds only blank lines"));
      return out;
    }
    std::string problem;
    if (!header(row, problem)) {
      out.items.push_back(file_item(row.line, printable(row.raw, kMaxRaw), problem));
      return out;
    }
    while (rows.next(row)) out.items.push_back(item(row));
    return out;
  }

 private:
  ReturnItem file_item(uint64_t line, std::string raw, const std::string& why) {
    ReturnItem it;
    it.line = line;
    it.reject = Reject{std::move(raw), why, name_};
    return it;
  }

  ReturnItem row_reject(const CsvRow& row, const std::string& why) {
    ReturnItem it;
    it.line = row.line;
    it.reject = Reject{printable(row.raw, kMaxRaw), why, name_ + ":" + std::to_string(row.line)};
    return it;
  }

  bool to_utf8(const std::string& in, std::string& out, std::string& error) {
    out.clear();
    if (from_latin1_) return from_latin1_->convert(in, out, error);
    if (!valid_utf8(in)) {
      error = "not valid UTF-8";
      return false;
    }
    out = in;
    return true;
  }

  bool header(const CsvRow& row, std::string& problem) {
    if (!row.error.empty()) {
      problem = "unreadable header row: " + row.error;
      return false;
    }
    std::map<std::string, ReturnField> known;
    if (config_.columns.empty()) {
      for (ReturnField f : {ReturnField::contact_id, ReturnField::reason, ReturnField::new_street, ReturnField::new_zip,
                            ReturnField::new_city, ReturnField::new_country, ReturnField::date})
        known[std::string(return_field_name(f))] = f;
    } else {
      known = config_.columns;
    }
    columns_.assign(row.fields.size(), std::nullopt);
    bool id = false, reason = false;
    for (size_t i = 0; i < row.fields.size(); ++i) {
      std::string text, error;
      if (!to_utf8(row.fields[i], text, error)) continue;
      auto it = known.find(trim(text));
      if (it == known.end()) continue;
      for (const auto& c : columns_)
        if (c == it->second) {
          problem = "header names column \"" + printable(text, 200) + "\" twice";
          return false;
        }
      columns_[i] = it->second;
      id = id || it->second == ReturnField::contact_id;
      reason = reason || it->second == ReturnField::reason;
    }
    if (!id || !reason) {
      problem = "the header has no contact_id or no reason column (see returns.columns)";
      return false;
    }
    return true;
  }

  ReturnItem item(const CsvRow& row) {
    if (!row.error.empty()) return row_reject(row, row.error);
    if (row.fields.size() != columns_.size()) {
      if (!row.terminated && row.fields.size() < columns_.size())
        return row_reject(row, "truncated last line: " + std::to_string(row.fields.size()) + " of " +
                                   std::to_string(columns_.size()) + " fields and no line break");
      return row_reject(row, "row has " + std::to_string(row.fields.size()) + " fields, the header has " +
                                 std::to_string(columns_.size()));
    }
    std::map<ReturnField, std::string> v;
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (!columns_[i]) continue;
      std::string text, error;
      if (!to_utf8(row.fields[i], text, error))
        return row_reject(row, std::string("column ") + std::string(return_field_name(*columns_[i])) + ": " + error);
      v[*columns_[i]] = trim(text);
    }
    const std::string& contact = v[ReturnField::contact_id];
    if (!is_contact_id(contact))
      return row_reject(row,
                        "contact_id \"" + printable(contact, 80) + "\" is not a contact id (c- and 24 hex digits)");
    const std::string code = v[ReturnField::reason];
    std::string reason;
    if (auto it = config_.reason_map.find(lower(code)); it != config_.reason_map.end()) {
      reason = it->second;
    } else if (is_return_reason(lower(code))) {
      reason = lower(code);
    } else {
      return row_reject(row, "unknown reason code \"" + printable(code, 80) + "\" (add it to returns.reason_map)");
    }
    nlohmann::json detail = {{"reason", reason}};
    if (lower(code) != reason) detail["code"] = code;
    const std::string& street = v[ReturnField::new_street];
    const std::string& zip = v[ReturnField::new_zip];
    const std::string& city = v[ReturnField::new_city];
    const std::string& country = v[ReturnField::new_country];
    if (reason == "moved" && !(street.empty() && zip.empty() && city.empty() && country.empty())) {
      if (street.empty() || zip.empty() || city.empty())
        return row_reject(row, "incomplete new address: new_street, new_zip and new_city are all required");
      for (const std::string* s : {&street, &zip, &city, &country})
        for (unsigned char c : *s)
          if (c < 0x20 || c == 0x7F) return row_reject(row, "the new address contains control characters");
      nlohmann::json addr = {{"street", street}, {"zip", zip}, {"city", city}};
      if (!country.empty()) addr["country"] = country;
      detail["new_address"] = std::move(addr);
    }
    nlohmann::json data = {{"contact_id", contact}, {"channel", "post"}, {"kind", "letter_returned"}};
    if (const std::string& date = v[ReturnField::date]; !date.empty()) {
      auto at = parse_date(date);
      if (!at) return row_reject(row, "date \"" + printable(date, 80) + "\" is not YYYY-MM-DD, DD.MM.YYYY or RFC 3339");
      data["at"] = *at;
    }
    data["detail"] = std::move(detail);
    // The same return reported twice in one file is one event: the second row is a reject.
    std::string fingerprint = contact + '\x1f' + reason + '\x1f' + street + '\x1f' + zip + '\x1f' + city + '\x1f' +
                              country + '\x1f' + v[ReturnField::date];
    if (auto [it, fresh] = seen_.emplace(std::move(fingerprint), row.line); !fresh)
      return row_reject(row, "duplicate of line " + std::to_string(it->second));
    ReturnItem it;
    it.line = row.line;
    it.is_record = true;
    it.record.id = "post-return:" + hash_ + ":" + std::to_string(row.line);
    it.record.type = "response";
    it.record.data = data.dump();
    nlohmann::json meta = {{"file", name_}, {"line", row.line}};
    it.record.meta = meta.dump();
    return it;
  }

  const ReturnsConfig& config_;
  const std::string& name_;
  std::string_view bytes_;
  std::string hash_;
  std::unique_ptr<Transcoder> from_latin1_;
  std::vector<std::optional<ReturnField>> columns_;
  std::map<std::string, uint64_t> seen_;
};

}  // namespace

bool safe_file_name(std::string_view name) {
  if (name.empty() || name.size() > 200 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-' || c == '+';
  });
}

std::string printable(std::string_view s, size_t max) {
  std::string out;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < s.size() && out.size() < max;) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    if (c >= 0x20 && c < 0x7F) {
      n = 1;
    } else if (c >= 0x80) {
      // Keep a well-formed UTF-8 sequence whole.
      for (size_t len = 2; len <= 4 && n == 0; ++len)
        if (i + len <= s.size() && valid_utf8(s.substr(i, len))) n = len;
    }
    if (n > 0) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
      ++i;
    }
  }
  if (out.size() >= max) out += "...";
  return out;
}

Reject file_reject(const std::string& name, std::string_view raw, const std::string& reason) {
  return Reject{printable(raw, kMaxRaw), reason, printable(name, 256)};
}

ParsedReturnFile parse_return_file(const ReturnsConfig& config, const std::string& name, std::string_view bytes) {
  return FileParser(config, name, bytes).run();
}

}  // namespace touchpoint::post
