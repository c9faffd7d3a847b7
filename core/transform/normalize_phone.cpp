// normalize_phone: { field: phone, default_region: DE, on_invalid: reject|keep|remove }
//
// Parses with libphonenumber (numbers without a country code are read as
// numbers of default_region; "+49 ..." and "0049 ..." need no region),
// requires IsValidNumber and writes the E.164 form ("+491701234567").
// PhoneNumberUtil is a process-wide singleton whose Parse/IsValidNumber/
// Format are const and thread-safe. A missing field is left alone.
//
// Customers come back with the same spelling of their number, and parsing
// costs ~15 us (ICU regexes), so results are kept in a bounded cache of
// raw text -> E.164 or problem, sharded by hash so applier threads rarely
// meet on a lock. A full shard is simply emptied.
//
// libphonenumber's time grows faster than the square of the input length
// (5 MB of digits kept an applier busy for minutes; 4 KB take a second), so
// a value longer than kMaxBytes once surrounding whitespace is trimmed is
// refused as too_large before libphonenumber, the hash or the cache see it.
// No way of writing a phone number needs that much: E.164 has at most 15
// digits, and even "+49 (0)30 1234-5678 ext. 12345" or full-width digits (3
// bytes each) stay well below. At this length a parse takes at most ~1 ms.

#include <phonenumbers/phonenumberutil.h>

#include <array>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "transform/builtin.hpp"
#include "transform/options.hpp"

namespace touchpoint::core::transform {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr size_t kMaxBytes = 64;
constexpr size_t kShards = 16;
constexpr size_t kShardMax = 4096;  // entries per shard: at most 64k numbers cached

struct Parsed {
  bool valid = false;
  std::string text;  ///< E.164 if valid, else the problem
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/// Surrounding ASCII whitespace does not change what libphonenumber reads.
std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

const char* describe(PhoneNumberUtil::ErrorType error) {
  switch (error) {
    case PhoneNumberUtil::NO_PARSING_ERROR:
      break;
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return "unknown or missing country code";
    case PhoneNumberUtil::NOT_A_NUMBER:
      return "not a phone number";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
      return "too short after the international prefix";
    case PhoneNumberUtil::TOO_SHORT_NSN:
      return "too short";
    case PhoneNumberUtil::TOO_LONG_NSN:
      return "too long";
  }
  return "not a valid number";
}

class NormalizePhone final : public Transform {
 public:
  std::optional<std::vector<FieldUse>> fields() const override { return uses({field_}, true, true); }
  NormalizePhone(FieldPath field, std::string region, OnInvalid on_invalid)
      : field_(std::move(field)),
        region_(std::move(region)),
        on_invalid_(on_invalid),
        prefix_("invalid phone number in '" + field_.text() + "': "),
        util_(*PhoneNumberUtil::GetInstance()) {}

  StepResult apply(Record& record) const override {
    Json* value = field_.find(record.data);
    if (value == nullptr) return StepResult::keep();
    if (!value->is_string()) return invalid(record, std::string("not a string but ") + value->type_name());
    const std::string_view raw = trim(value->get_ref<const std::string&>());
    if (raw.size() > kMaxBytes) {
      return on_invalid_result(on_invalid_, field_, record, StepResult::too_large(prefix_ + too_long_));
    }
    Shard& shard = shards_[Hash{}(raw) % kShards];
    Parsed parsed;
    bool cached = false;
    {
      std::lock_guard<std::mutex> lk(shard.mu);
      if (auto it = shard.map.find(raw); it != shard.map.end()) {
        parsed = it->second;
        cached = true;
      }
    }
    if (!cached) {
      parsed = parse(raw);
      std::lock_guard<std::mutex> lk(shard.mu);
      if (shard.map.size() >= kShardMax) shard.map.clear();
      shard.map.emplace(raw, parsed);
    }
    if (!parsed.valid) return invalid(record, parsed.text);
    value->get_ref<std::string&>() = std::move(parsed.text);
    return StepResult::keep();
  }

 private:
  /// Lets the cache be searched with a string_view, without a copy.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Parsed, Hash, std::equal_to<>> map;
  };

  Parsed parse(std::string_view raw) const {
    PhoneNumber number;
    PhoneNumberUtil::ErrorType error = util_.Parse(std::string(raw), region_, &number);
    if (error != PhoneNumberUtil::NO_PARSING_ERROR) return {false, describe(error)};
    if (!util_.IsValidNumber(number)) return {false, "not a valid number"};
    Parsed p{true, {}};
    util_.Format(number, PhoneNumberUtil::E164, &p.text);
    // libphonenumber calls some over-long numbers valid (+49 with a 15-digit
    // national number); E.164 allows 15 digits after the '+' at most.
    if (p.text.size() > 16) return {false, "longer than E.164 allows (15 digits)"};
    return p;
  }

  StepResult invalid(Record& record, const std::string& problem) const {
    return on_invalid_result(on_invalid_, field_, record, StepResult::reject(prefix_ + problem));
  }

  FieldPath field_;
  std::string region_;  ///< "ZZ" (unknown) when no default_region is configured
  OnInvalid on_invalid_;
  std::string prefix_;
  std::string too_long_ = "longer than " + std::to_string(kMaxBytes) + " bytes";
  const PhoneNumberUtil& util_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace

std::unique_ptr<Transform> make_normalize_phone(const YAML::Node& options, const YAML::Node& anchor,
                                                const ConfigSource& source) {
  Options o(options, anchor, "normalize_phone", {"field", "default_region", "on_invalid"}, source);
  FieldPath field = o.path("field", PathScope::data_only);
  std::string region = "ZZ";
  if (o.has("default_region")) {
    region = o.required_string("default_region");
    std::set<std::string> supported;
    PhoneNumberUtil::GetInstance()->GetSupportedRegions(&supported);
    if (supported.count(region) == 0) {
      o.fail("default_region",
             "unknown phone region '" + region + "' (expected an ISO 3166-1 alpha-2 code such as DE, AT, CH, US)");
    }
  }
  auto on_invalid = static_cast<OnInvalid>(o.choice("on_invalid", {"reject", "keep", "remove"}, 0));
  return std::make_unique<NormalizePhone>(std::move(field), std::move(region), on_invalid);
}

}  // namespace touchpoint::core::transform
