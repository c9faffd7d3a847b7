// rename: { from: to, ... } moves fields. Missing sources are skipped; an
// existing target is overwritten. Targets may be envelope fields (@key,
// @type, @id); the value then must be a string or a number.

#include <utility>
#include <vector>

#include "transform/builtin.hpp"
#include "transform/options.hpp"
#include "transform/text_form.hpp"

namespace touchpoint::core::transform {
namespace {

struct Move {
  FieldPath from;
  FieldPath to;
};

class Rename final : public Transform {
 public:
  std::optional<std::vector<FieldUse>> fields() const override {
    std::vector<FieldUse> out;
    for (const Move& m : moves_) {
      out.push_back({m.from.text(), true, false, true});
      out.push_back({m.to.text(), false, true});
    }
    return out;
  }
  explicit Rename(std::vector<Move> moves) : moves_(std::move(moves)) {}

  StepResult apply(Record& record) const override {
    for (const Move& m : moves_) {
      Json* source = m.from.find(record.data);
      if (source == nullptr) continue;
      if (m.to.is_envelope()) {
        std::string scratch;
        const std::string* text = text_form(*source, scratch);
        if (text == nullptr) {
          return StepResult::reject("cannot rename '" + m.from.text() + "' to '" + m.to.text() + "': value is " +
                                    source->type_name() + ", not a string or number");
        }
        if (source->is_string()) {
          // The source goes away: take its string rather than copying it.
          m.to.envelope_field(record) = std::move(source->get_ref<std::string&>());
        } else {
          m.to.envelope_field(record) = *text;
        }
        m.from.erase(record.data);
        continue;
      }
      Json value = std::move(*source);
      m.from.erase(record.data);
      std::size_t blocked = 0;
      Json* target = m.to.make(record.data, &blocked);
      if (target == nullptr) {
        *m.from.make(record.data) = std::move(value);  // put it back: the DLQ gets the record as it was
        return StepResult::reject("cannot rename '" + m.from.text() + "' to '" + m.to.text() + "': '" +
                                  m.to.prefix(blocked) + "' is not an object");
      }
      *target = std::move(value);
    }
    return StepResult::keep();
  }

 private:
  std::vector<Move> moves_;
};

}  // namespace

std::unique_ptr<Transform> make_rename(const YAML::Node& options, const YAML::Node& anchor,
                                       const ConfigSource& source) {
  expect_map(options, anchor, "rename", source);
  if (options.size() == 0) source.fail(options, "empty field map for rename");
  std::vector<Move> moves;
  for (const auto& entry : options) {
    Move m{parse_path(entry.first, PathScope::data_or_envelope, "rename", source),
           parse_path(entry.second, PathScope::data_or_envelope, "rename", source)};
    if (m.from.is_envelope()) {
      source.fail(entry.first, "rename cannot move envelope field '" + m.from.text() + "'; use set");
    }
    if (m.from.covers(m.to)) {
      source.fail(entry.second,
                  "cannot rename '" + m.from.text() + "' to '" + m.to.text() + "': the target lies inside the source");
    }
    moves.push_back(std::move(m));
  }
  return std::make_unique<Rename>(std::move(moves));
}

}  // namespace touchpoint::core::transform
