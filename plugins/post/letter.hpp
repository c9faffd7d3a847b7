// One letter: the fields of a `message` record on channel post (docs/channels.md) that the
// export columns can name.
#ifndef TOUCHPOINT_POST_LETTER_HPP
#define TOUCHPOINT_POST_LETTER_HPP

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace touchpoint::post {

/// True when `field` is a field an export column may name (README "Fields").
bool is_export_field(std::string_view field);

class Letter {
 public:
  /// Parses a message record. On failure returns false and sets `error` to the reason the
  /// record can never be sent (not JSON, no usable postal address).
  bool parse(std::string_view record_id, std::string_view record_key, std::string_view data, std::string_view meta,
             std::string& error);

  /// The text of `field` for this letter ("" when missing). `row` is the letter's row number.
  std::string value(std::string_view field, uint64_t row) const;

  const std::string& contact_id() const { return contact_id_; }
  bool in_doubt() const { return in_doubt_; }

 private:
  std::string customer(const char* key) const;
  std::string address(const char* key) const;

  nlohmann::json data_;
  std::string contact_id_;
  std::string profile_id_;
  bool in_doubt_ = false;
};

}  // namespace touchpoint::post

#endif  // TOUCHPOINT_POST_LETTER_HPP
