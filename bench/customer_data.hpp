#pragma once
// Deterministic, realistic customer profiles as a web portal posts them:
// names with umlauts, e-mails with stray capitals and blanks, phone numbers
// in many spellings (some junk), nested address, about 300 bytes of JSON.
// Shared by bench_ingest and bench_transform so both measure the same data.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace touchpoint::bench {

/// splitmix64: a small deterministic generator, so every run posts the same data.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  template <typename T, size_t N>
  const T& pick(const T (&a)[N]) {
    return a[below(N)];
  }
};

struct Name {
  const char* display;
  const char* ascii;  ///< for the e-mail local part
};

inline constexpr Name kFirst[] = {
    {"Anna", "anna"},      {"Jürgen", "juergen"},  {"Lukas", "lukas"}, {"Sophie", "sophie"},
    {"Maximilian", "max"}, {"Marie", "marie"},     {"Jonas", "jonas"}, {"Zoë", "zoe"},
    {"Mehmet", "mehmet"},  {"Katarzyna", "kasia"}, {"Felix", "felix"}, {"Emma", "emma"},
    {"Björn", "bjoern"},   {"Leonie", "leonie"},   {"Paul", "paul"},   {"Hannah", "hannah"}};
inline constexpr Name kLast[] = {{"Müller", "mueller"},    {"Schmidt", "schmidt"}, {"Schneider", "schneider"},
                                 {"Fischer", "fischer"},   {"Weber", "weber"},     {"Meyer", "meyer"},
                                 {"Wagner", "wagner"},     {"Becker", "becker"},   {"Schulz", "schulz"},
                                 {"Hoffmann", "hoffmann"}, {"Koch", "koch"},       {"Özdemir", "oezdemir"},
                                 {"Nowak", "nowak"},       {"Lehmann", "lehmann"}, {"Krüger", "krueger"}};
inline constexpr const char* kDomains[] = {"gmail.com",   "web.de",      "gmx.de",    "t-online.de",
                                           "outlook.com", "example.org", "posteo.de", "icloud.com"};
struct City {
  const char* name;
  const char* zip_prefix;
  const char* country;
};
inline constexpr City kCities[] = {{"Berlin", "10", "DE"},
                                   {"Hamburg", "20", "DE"},
                                   {"München", "80", "DE"},
                                   {"Köln", "50", "DE"},
                                   {"Frankfurt am Main", "60", "DE"},
                                   {"Leipzig", "04", "DE"},
                                   {"Wien", "10", "AT"},
                                   {"Graz", "80", "AT"}};
inline constexpr const char* kStreets[] = {"Hauptstraße", "Bahnhofstraße", "Gartenweg",    "Schillerstraße",
                                           "Lindenallee", "Am Markt",      "Goethestraße", "Ringstraße"};
inline constexpr const char* kMobile7[] = {"160", "162", "163", "170", "171", "172",
                                           "173", "174", "175", "177", "178", "179"};
inline constexpr const char* kMobile8[] = {"151", "152", "155", "157", "159"};

inline std::string digits(uint64_t v, int n) {
  std::string s(static_cast<size_t>(n), '0');
  for (int i = n - 1; i >= 0; --i, v /= 10) s[static_cast<size_t>(i)] = static_cast<char>('0' + v % 10);
  return s;
}

/// A phone number in one of the many spellings web forms produce; mostly
/// valid German numbers, some junk that normalize_phone removes.
inline std::string phone_for(size_t i, Rng& rng) {
  const uint64_t sub = (static_cast<uint64_t>(i) * 2'654'435'761ull) % 10'000'000ull;  // distinct per i
  switch (rng.below(10)) {
    case 0:
      return "0" + std::string(rng.pick(kMobile7)) + " " + digits(sub, 7);
    case 1:
      return "+49 " + std::string(rng.pick(kMobile7)) + " " + digits(sub, 7);
    case 2:
      return "0049-" + std::string(rng.pick(kMobile7)) + "-" + digits(sub, 7);
    case 3: {
      std::string d = digits(sub, 7);
      return "(0" + std::string(rng.pick(kMobile7)) + ") " + d.substr(0, 3) + " " + d.substr(3, 2) + " " + d.substr(5);
    }
    case 4:
      return "0" + std::string(rng.pick(kMobile8)) + "/" + digits(sub * 10 + rng.below(10), 8);
    case 5:
      return "+4915" + std::string(1, "12579"[rng.below(5)]) + digits(sub * 10 + rng.below(10), 8);
    case 6:
      return "030 " + digits(20'000'000 + sub, 8);
    case 7:
      return "+49 40 " + digits(30'000'000 + sub, 8);
    case 8:
      return "089/" + digits(50'000'000 + sub, 8);
    default:
      return rng.below(3) == 0 ? "n/a" : "0170 " + digits(sub, 7);
  }
}

/// One customer profile as posted by a web portal, about 300 bytes of JSON.
inline void append_record(std::string& out, size_t i, Rng& rng) {
  const Name& first = rng.pick(kFirst);
  const Name& last = rng.pick(kLast);
  const City& city = rng.pick(kCities);
  std::string email = std::string(first.ascii) + "." + last.ascii + std::to_string(i) + "@" + rng.pick(kDomains);
  switch (rng.below(4)) {  // what users type: capitals and stray blanks
    case 0:
      email[0] = static_cast<char>(email[0] - 'a' + 'A');
      break;
    case 1:
      email = " " + email + " ";
      break;
    case 2:
      for (char& c : email) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
      break;
    default:
      break;
  }
  char buf[64];
  out += "{\"id\":\"web-";
  out += digits(i, 9);
  out += "\",\"customer_id\":\"C";
  out += digits(i, 9);
  out += "\",\"first_name\":\"";
  out += first.display;
  out += "\",\"last_name\":\"";
  out += last.display;
  out += rng.below(5) == 0 ? "\",\"email\":\"" : "\",\"mail\":\"";  // rename fixes the older form field
  out += email;
  out += '"';
  const size_t phone_kind = rng.below(10);
  if (phone_kind < 9) {
    out += phone_kind < 7 ? ",\"tel\":\"" : ",\"phone\":\"";
    out += phone_for(i, rng);
    out += '"';
  }
  out += ",\"address\":{\"street\":\"";
  out += rng.pick(kStreets);
  out += ' ';
  out += std::to_string(1 + rng.below(180));
  out += "\",\"zip\":\"";
  out += city.zip_prefix;
  out += digits(rng.below(1000), 3);
  out += "\",\"city\":\"";
  out += city.name;
  out += '"';
  if (rng.below(3) == 0) {  // the rest get `country: DE` from the default step
    out += ",\"country\":\"";
    out += city.country;
    out += '"';
  }
  std::snprintf(buf, sizeof buf, "},\"birth_date\":\"%04zu-%02zu-%02zu\"", 1940 + rng.below(66), 1 + rng.below(12),
                1 + rng.below(28));
  out += buf;
  out += ",\"newsletter\":";
  out += rng.below(2) ? "true" : "false";
  std::snprintf(buf, sizeof buf, ",\"signed_up_at\":\"2024-%02zu-%02zuT%02zu:%02zu:%02zuZ\"}", 1 + rng.below(12),
                1 + rng.below(28), rng.below(24), rng.below(60), rng.below(60));
  out += buf;
}

}  // namespace touchpoint::bench
