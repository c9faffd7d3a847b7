#include "tryton_time.hpp"

#include <chrono>
#include <cstdio>

namespace touchpoint::tryton {
namespace {

using namespace std::chrono;

std::optional<int64_t> field(const nlohmann::json& v, const char* key, int64_t lo, int64_t hi) {
  auto it = v.find(key);
  if (it == v.end()) return lo == 0 ? std::optional<int64_t>(0) : std::nullopt;  // time parts may be absent
  if (!it->is_number_integer()) return std::nullopt;
  const int64_t n = it->get<int64_t>();
  if (n < lo || n > hi) return std::nullopt;
  return n;
}

struct Parts {
  year_month_day ymd;
  int64_t h, m, s, us;
};

Parts split(int64_t us) {
  const sys_days day = floor<days>(sys_time<microseconds>(microseconds(us)));
  int64_t rest = us - duration_cast<microseconds>(day.time_since_epoch()).count();
  Parts p{year_month_day(day), rest / 3'600'000'000, rest / 60'000'000 % 60, rest / 1'000'000 % 60, rest % 1'000'000};
  return p;
}

}  // namespace

std::optional<int64_t> datetime_us(const nlohmann::json& v) {
  if (!v.is_object()) return std::nullopt;
  if (auto c = v.find("__class__"); c == v.end() || !c->is_string() || c->get_ref<const std::string&>() != "datetime")
    return std::nullopt;
  const auto y = field(v, "year", 1, 9999), mo = field(v, "month", 1, 12), d = field(v, "day", 1, 31);
  const auto h = field(v, "hour", 0, 23), mi = field(v, "minute", 0, 59), s = field(v, "second", 0, 59),
             us = field(v, "microsecond", 0, 999'999);
  if (!y || !mo || !d || !h || !mi || !s || !us) return std::nullopt;
  const year_month_day ymd{year(static_cast<int>(*y)), month(static_cast<unsigned>(*mo)),
                           day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;
  return duration_cast<microseconds>(sys_days(ymd).time_since_epoch()).count() +
         ((*h * 60 + *mi) * 60 + *s) * 1'000'000 + *us;
}

nlohmann::json datetime_json(int64_t us) {
  const Parts p = split(us);
  return {{"__class__", "datetime"},
          {"year", static_cast<int>(p.ymd.year())},
          {"month", static_cast<unsigned>(p.ymd.month())},
          {"day", static_cast<unsigned>(p.ymd.day())},
          {"hour", p.h},
          {"minute", p.m},
          {"second", p.s},
          {"microsecond", p.us}};
}

nlohmann::json date_json(int64_t ms) {
  const Parts p = split(ms * 1000);
  return {{"__class__", "date"},
          {"year", static_cast<int>(p.ymd.year())},
          {"month", static_cast<unsigned>(p.ymd.month())},
          {"day", static_cast<unsigned>(p.ymd.day())}};
}

std::string iso_us(int64_t us) {
  const Parts p = split(us);
  char buf[64];  // GCC -O3 bounds every field by its type, not by the calendar
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ", static_cast<int>(p.ymd.year()),
                static_cast<unsigned>(p.ymd.month()), static_cast<unsigned>(p.ymd.day()), static_cast<long long>(p.h),
                static_cast<long long>(p.m), static_cast<long long>(p.s), static_cast<long long>(p.us));
  return buf;
}

}  // namespace touchpoint::tryton
