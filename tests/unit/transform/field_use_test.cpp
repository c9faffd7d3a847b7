// Transform::fields(): what each built-in step says it reads, writes and
// removes, the basis of `validate --discover` and `touchpoint docs`.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace touchpoint::core::test {
namespace {

// "r:email w:email" per field, in option order; "opaque" for a step that may touch anything.
std::string uses_of(const std::string& yaml) {
  Step s = make(yaml);
  auto uses = s.transform->fields();
  if (!uses) return "opaque";
  std::string out;
  for (const FieldUse& u : *uses) {
    if (!out.empty()) out += ' ';
    out += std::string(u.reads ? "r" : "") + (u.writes ? "w" : "") + (u.removes ? "x" : "") + ":" + u.path;
  }
  return out;
}

TEST(FieldUse, EachBuiltInNamesWhatItReadsWritesAndRemoves) {
  EXPECT_EQ(uses_of("rename: { mail: email, a.b: \"@key\" }"), "rx:mail w:email rx:a.b w:@key");
  EXPECT_EQ(uses_of("set: { channel: web, \"@type\": event }"), "w:channel w:@type");
  EXPECT_EQ(uses_of("default: { address.country: DE }"), "w:address.country");
  EXPECT_EQ(uses_of("remove: [tmp, debug.trace]"), "x:tmp x:debug.trace");
  EXPECT_EQ(uses_of("keep: [email, address]"), "r:email r:address");
  EXPECT_EQ(uses_of("normalize_email: { field: email }"), "rw:email");
  EXPECT_EQ(uses_of("normalize_phone: { field: phone, default_region: DE }"), "rw:phone");
  EXPECT_EQ(uses_of("require: { fields: [email, address.zip] }"), "r:email r:address.zip");
  EXPECT_EQ(uses_of("require: { fields: { email: { type: string } } }"), "r:email");
  EXPECT_EQ(uses_of("filter: { field: \"@type\", op: eq, value: profile }"), "r:@type");
  EXPECT_EQ(uses_of("hash: { fields: [email, phone], salt: s }"), "rw:email rw:phone");
  EXPECT_EQ(uses_of("mask: { fields: [iban] }"), "rw:iban");
  EXPECT_EQ(uses_of("lua: { source: 'function process(r) return r end' }"), "opaque");
}

// Every kind the registry knows answers (a new kind must decide what it names).
TEST(FieldUse, EveryKindIsCovered) {
  EXPECT_EQ(transform_kinds(),
            (std::vector<std::string>{"default", "filter", "hash", "keep", "lua", "mask", "normalize_email",
                                      "normalize_phone", "remove", "rename", "require", "set"}))
      << "a new transform kind: add it to FieldUse.EachBuiltInNamesWhatItReadsWritesAndRemoves";
}

}  // namespace
}  // namespace touchpoint::core::test
