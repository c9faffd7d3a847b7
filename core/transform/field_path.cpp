#include "transform/field_path.hpp"

#include <stdexcept>

namespace touchpoint::core::transform {

FieldPath FieldPath::parse(std::string_view text) {
  FieldPath path;
  path.text_ = std::string(text);
  if (text.empty()) throw std::invalid_argument("invalid field path '': empty");
  if (text.front() == '@') {
    if (text == "@id") {
      path.envelope_ = Envelope::id;
    } else if (text == "@type") {
      path.envelope_ = Envelope::type;
    } else if (text == "@key") {
      path.envelope_ = Envelope::key;
    } else {
      throw std::invalid_argument("unknown envelope field '" + path.text_ + "' (known: @id, @key, @type)");
    }
    return path;
  }
  std::size_t start = 0;
  while (true) {
    std::size_t dot = text.find('.', start);
    std::string_view segment = text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (segment.empty()) throw std::invalid_argument("invalid field path '" + path.text_ + "': empty segment");
    path.segments_.emplace_back(segment);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return path;
}

bool FieldPath::covers(const FieldPath& other) const noexcept {
  if (is_envelope() || other.is_envelope()) return envelope_ == other.envelope_;
  if (segments_.size() > other.segments_.size()) return false;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    if (segments_[i] != other.segments_[i]) return false;
  }
  return true;
}

std::string FieldPath::prefix(std::size_t n) const {
  std::string out;
  for (std::size_t i = 0; i < n && i < segments_.size(); ++i) {
    if (i > 0) out += '.';
    out += segments_[i];
  }
  return out;
}

const Json* FieldPath::find(const Json& data) const noexcept {
  const Json* node = &data;
  for (const std::string& segment : segments_) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(segment);
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node;
}

Json* FieldPath::find(Json& data) const noexcept { return const_cast<Json*>(find(static_cast<const Json&>(data))); }

Json* FieldPath::make(Json& data, std::size_t* blocked_at) const {
  // First pass: make sure nothing is in the way, so a failure changes nothing.
  const Json* node = &data;
  for (std::size_t i = 0; i + 1 < segments_.size(); ++i) {
    if (!node->is_object()) break;  // a missing or null level; the rest gets created
    auto it = node->find(segments_[i]);
    if (it == node->end()) break;
    node = &*it;
    if (!node->is_object() && !node->is_null()) {
      if (blocked_at != nullptr) *blocked_at = i + 1;
      return nullptr;
    }
  }
  if (!data.is_object()) {
    if (blocked_at != nullptr) *blocked_at = 0;
    return nullptr;
  }
  // Second pass: walk and create. operator[] turns null into an object.
  Json* current = &data;
  for (const std::string& segment : segments_) current = &(*current)[segment];
  return current;
}

bool FieldPath::erase(Json& data) const {
  Json* parent = &data;
  for (std::size_t i = 0; i + 1 < segments_.size(); ++i) {
    if (!parent->is_object()) return false;
    auto it = parent->find(segments_[i]);
    if (it == parent->end()) return false;
    parent = &*it;
  }
  if (!parent->is_object()) return false;
  return parent->erase(segments_.back()) > 0;
}

std::string& FieldPath::envelope_field(Record& record) const noexcept {
  return const_cast<std::string&>(envelope_field(static_cast<const Record&>(record)));
}

const std::string& FieldPath::envelope_field(const Record& record) const noexcept {
  switch (envelope_) {
    case Envelope::id:
      return record.id;
    case Envelope::type:
      return record.type;
    case Envelope::key:
    case Envelope::none:
      break;
  }
  return record.key;
}

FieldView FieldPath::view(const Record& record) const noexcept {
  if (!is_envelope()) return {find(record.data), nullptr};
  const std::string& text = envelope_field(record);
  if (text.empty()) return {};
  return {nullptr, &text};
}

}  // namespace touchpoint::core::transform
