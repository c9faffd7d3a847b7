#pragma once
// Field paths name a value inside a record. "address.city" walks nested
// objects of record.data (segments are object keys; there is no escaping of
// dots and no array indexing). A path starting with '@' names a string field
// of the envelope instead: @id, @type or @key.
//
// Paths are parsed once at config time; lookups then only compare the
// pre-split segments and never allocate.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "record/record.hpp"

namespace touchpoint::core::transform {

/// Read-only view of what a path points at: a JSON value in data, an envelope
/// string, or nothing (missing).
struct FieldView {
  const Json* json = nullptr;
  const std::string* text = nullptr;

  bool missing() const noexcept { return json == nullptr && text == nullptr; }
};

class FieldPath {
 public:
  enum class Envelope : std::uint8_t { none, id, type, key };

  /// Parses "a.b.c" or "@key". Throws std::invalid_argument with a
  /// human-readable message ("invalid field path 'a..b': empty segment").
  static FieldPath parse(std::string_view text);

  const std::string& text() const noexcept { return text_; }
  bool is_envelope() const noexcept { return envelope_ != Envelope::none; }
  Envelope envelope() const noexcept { return envelope_; }
  const std::vector<std::string>& segments() const noexcept { return segments_; }
  /// True when `other` lies inside this path or equals it ("a" covers "a.b").
  bool covers(const FieldPath& other) const noexcept;
  /// The first `n` segments joined with dots (for messages).
  std::string prefix(std::size_t n) const;

  // --- data paths ---------------------------------------------------------
  const Json* find(const Json& data) const noexcept;
  Json* find(Json& data) const noexcept;
  /// Finds the field or creates it (as null) together with missing or null
  /// parent objects. When some parent exists but is not an object, returns
  /// nullptr without changing anything and stores that parent's segment
  /// count in *blocked_at (if given).
  Json* make(Json& data, std::size_t* blocked_at = nullptr) const;
  /// Removes the field; returns whether it was there.
  bool erase(Json& data) const;

  // --- envelope paths -----------------------------------------------------
  std::string& envelope_field(Record& record) const noexcept;
  const std::string& envelope_field(const Record& record) const noexcept;

  /// Works for both kinds. An empty envelope string counts as missing.
  FieldView view(const Record& record) const noexcept;

 private:
  std::string text_;
  Envelope envelope_ = Envelope::none;
  std::vector<std::string> segments_;
};

}  // namespace touchpoint::core::transform
