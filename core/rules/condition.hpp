#pragma once
// The rulebook's condition language: a small, safe, typed expression over
// profile attributes and the proposed contact (docs/rulebook.md,
// "Conditions").
//
//   profile.credit_score < 500 and offer_category == 'credit'
//   not (channel in ['phone', 'sms']) or exists profile.phone_ok
//
// Compiled once (recursive descent, positioned errors), evaluated without
// allocating. Two-valued: a comparison with a missing (or null) value or
// between values of different types is false, for != as much as for ==.

#include <cstddef>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "rules/snapshot.hpp"

namespace touchpoint::core::rules {

/// Declared type of a profile attribute (rulebook `attributes:`).
enum class AttrType { Any, String, Number, Bool, List, Object };

/// Parses "string", "number", "bool", "list", "object" or "any"; false for anything else.
bool parse_attr_type(std::string_view name, AttrType& out);
const char* attr_type_name(AttrType t);

/// What a condition may refer to; used to reject typos at compile time.
struct ConditionSchema {
  /// Known channels: a string literal compared with `channel` must be one of them. Empty: not checked.
  std::vector<std::string> channels;
  /// Declared purposes: likewise for `purpose`. Empty: not checked.
  std::vector<std::string> purposes;
  /// Declared profile attributes. When `attributes_declared`, any other attribute is an error.
  std::map<std::string, AttrType, std::less<>> attributes;
  bool attributes_declared = false;
};

/// A compile error; `offset` is the 0-based byte offset in the condition text.
class ConditionError : public std::runtime_error {
 public:
  ConditionError(size_t offset, const std::string& message)
      : std::runtime_error("at column " + std::to_string(offset + 1) + ": " + message),
        offset_(offset),
        message_(message) {}
  size_t offset() const noexcept { return offset_; }
  const std::string& message() const noexcept { return message_; }

 private:
  size_t offset_;
  std::string message_;
};

class Condition {
 public:
  /// Throws ConditionError. Conditions longer than 8 KiB or nested deeper
  /// than 64 levels are refused.
  static Condition compile(std::string_view text, const ConditionSchema& schema = {});

  /// `attributes` is the profile (a JSON object); `channel` is the channel the
  /// decision is for (the candidate channel while routing `best`), used for
  /// `channel` instead of p.channel. Proposal strings that are empty count
  /// as missing.
  bool eval(const Json& attributes, const Proposal& p, std::string_view channel) const;
  bool eval(const Json& attributes, const Proposal& p) const { return eval(attributes, p, p.channel); }

  const std::string& text() const noexcept { return text_; }
  /// Profile attributes the condition reads (first path segment), in order of appearance.
  const std::vector<std::string>& attributes_used() const noexcept { return attributes_used_; }

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
  std::string text_;
  std::vector<std::string> attributes_used_;
};

}  // namespace touchpoint::core::rules
