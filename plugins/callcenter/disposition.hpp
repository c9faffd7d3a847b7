// One disposition (the call center's report of a call) into the data of a
// `response` record of kind call_outcome (docs/channels.md), validated field
// by field.
#ifndef TOUCHPOINT_CALLCENTER_DISPOSITION_HPP
#define TOUCHPOINT_CALLCENTER_DISPOSITION_HPP

#include <map>
#include <string>
#include <string_view>
#include <variant>

namespace touchpoint::callcenter {

/// A field as it arrived: text (every CSV cell, JSON strings) or a JSON number (its text as
/// written, so 1e309 can be told apart), or some other JSON type.
struct FieldValue {
  enum class Type { text, number, other } type = Type::text;
  std::string text;
};
using Fields = std::map<std::string, FieldValue, std::less<>>;

struct DispositionError {
  std::string field;  ///< the offending field ("" for the record as a whole)
  std::string message;
};

struct Disposition {
  std::string contact_id;
  std::string data;  ///< the response record's data (JSON object)
};

using OutcomeMap = std::map<std::string, std::string, std::less<>>;

/// Validates `fields` (contact_id, outcome, at, callback_at, product, category, revenue, note,
/// agent; others are ignored) and builds the response. Fields must be valid UTF-8 (the readers
/// check it). Empty text counts as absent.
std::variant<Disposition, DispositionError> build_disposition(const Fields& fields, const OutcomeMap& outcome_map);

/// Limits of the text fields.
inline constexpr size_t kMaxIdBytes = 256;
inline constexpr size_t kMaxShortText = 256;
inline constexpr size_t kMaxNoteBytes = 4096;

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_DISPOSITION_HPP
