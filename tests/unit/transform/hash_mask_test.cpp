#include <gtest/gtest.h>

#include "test_util.hpp"

namespace touchpoint::core::test {
namespace {

// Expected digests computed with `printf '%s' VALUE | sha256sum` (and md5sum, sha1sum, sha512sum).
constexpr const char* kSha256 = "5eafb1e9938b5eaf1c1f97ee3e8f99cfe689b61edfa35b09e372bb52e145924c";  // max@example.de
constexpr const char* kSha256Salted = "16c36f35c09cf694e9d89acfe9584c88ee80fb795aa1f2a3ea5819a7772785c4";

TEST(Hash, Sha256OfSaltPlusValue) {
  Step plain = make("hash: { fields: [email] }");
  Record r = record(R"({"email": "max@example.de", "name": "Max"})");
  EXPECT_EQ(apply(plain, r), "keep");
  EXPECT_EQ(r.data, Json::parse(std::string(R"({"email": ")") + kSha256 + R"(", "name": "Max"})"));

  Step salted = make(R"(hash: { fields: [email, contact.email], algorithm: sha256, salt: "pepper:" })");
  Record s = record(R"({"email": "max@example.de", "contact": {"email": "max@example.de"}})");
  EXPECT_EQ(apply(salted, s), "keep");
  EXPECT_EQ(s.data["email"], kSha256Salted);
  EXPECT_EQ(s.data["contact"]["email"], kSha256Salted);
}

TEST(Hash, OtherAlgorithms) {
  auto digest = [](const std::string& algorithm) {
    Step s = make("hash: { fields: [email], algorithm: " + algorithm + " }");
    Record r = record(R"({"email": "max@example.de"})");
    EXPECT_EQ(apply(s, r), "keep");
    return r.data["email"].get<std::string>();
  };
  EXPECT_EQ(digest("md5"), "1ea3de0b6729fa4381d859e32cfec34f");
  EXPECT_EQ(digest("sha1"), "8927e42e45f2dcc47cc62b75afa87d867ea50307");
  EXPECT_EQ(digest("sha512").substr(0, 40), "39ab9352929cacffb209c7618e16bc356f154968");
  EXPECT_EQ(digest("sha512").size(), 128u);
  EXPECT_EQ(digest("sha384").size(), 96u);
}

TEST(Hash, NumbersUseTheirTextFormMissingAndNullAreSkipped) {
  Step s = make("hash: { fields: [id, score, gone, nothing] }");
  Record r = record(R"({"id": 42, "score": 3.5, "nothing": null})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"id": "73475cb40a568e8da8a045ced110137e159f890ac4da883b6b17dc651b3a8049",
                                    "score": "8a199b120cf400d69c300e1dd6eacdc8b0002353e3044bbab21e0125b32c9fd6",
                                    "nothing": null})"));
}

TEST(Hash, RejectsOtherTypes) {
  Step s = make("hash: { fields: [email, flag] }");
  Record r = record(R"({"email": "max@example.de", "flag": true})");
  EXPECT_EQ(apply(s, r), "reject: cannot hash field 'flag': boolean is not a string or number");
  Record o = record(R"({"email": {"work": "a@b.de"}})");
  EXPECT_EQ(apply(s, o), "reject: cannot hash field 'email': object is not a string or number");
}

TEST(Hash, ConfigErrors) {
  EXPECT_EQ(config_error("hash: { fields: [email], algorithm: sha257 }"),
            "p.yaml:1:37: unknown hash algorithm 'sha257' (known: sha256, sha384, sha512, sha1, md5)");
  EXPECT_EQ(config_error("hash: { fields: [] }"), "p.yaml:1:17: empty field list for hash 'fields'");
  EXPECT_EQ(config_error("hash: { fields: email }"), "p.yaml:1:17: expected a list of field paths for hash 'fields'");
  EXPECT_EQ(config_error("hash: { fields: }"), "p.yaml:1:9: expected a list of field paths for hash 'fields'");
  EXPECT_EQ(config_error("hash: { algorithm: sha256 }"), "p.yaml:1:7: missing required option 'fields' for hash");
  EXPECT_EQ(config_error("hash: { fields: [email], pepper: x }"), "p.yaml:1:26: unknown option 'pepper' for hash");
  EXPECT_EQ(config_error("hash: { fields: [email], salt: [x] }"), "p.yaml:1:32: 'salt' for hash must be a string");
  EXPECT_EQ(config_error("hash: { fields: [\"@key\"] }"), "p.yaml:1:18: hash works on data fields only, not '@key'");
  EXPECT_EQ(config_error("hash:"), "p.yaml:1:1: options for hash must be a map");
}

TEST(Mask, KeepLast) {
  Step s = make("mask: { fields: [phone], keep_last: 4 }");
  Record r = record(R"({"phone": "+491701234567"})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data["phone"], "*********4567");
}

TEST(Mask, KeepFirstAndLastWithCustomChar) {
  Step s = make(R"(mask: { fields: [iban, card], keep_first: 4, keep_last: 2, char: "#" })");
  Record r = record(R"({"iban": "DE89370400440532013000", "card": 4111111111111111})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data["iban"], "DE89################00");
  EXPECT_EQ(r.data["card"], "4111##########11");  // numbers are masked in their text form
}

TEST(Mask, CountsCharactersNotBytes) {
  Step s = make(R"(mask: { fields: [name], keep_first: 1, char: "•" })");
  Record r = record(R"({"name": "Jürgen Müller"})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data["name"], "J••••••••••••");
}

TEST(Mask, ShortValuesAreMaskedCompletely) {
  Step s = make("mask: { fields: [pin, empty], keep_first: 2, keep_last: 2 }");
  Record r = record(R"({"pin": "1234", "empty": ""})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data["pin"], "****");
  EXPECT_EQ(r.data["empty"], "");
  Record longer = record(R"({"pin": "12345"})");
  EXPECT_EQ(apply(s, longer), "keep");
  EXPECT_EQ(longer.data["pin"], "12*45");
}

TEST(Mask, DefaultMasksEverythingSkipsMissingAndRejectsOtherTypes) {
  Step s = make("mask: { fields: [a, b, c] }");
  Record r = record(R"({"a": "geheim", "c": null})");
  EXPECT_EQ(apply(s, r), "keep");
  EXPECT_EQ(r.data, Json::parse(R"({"a": "******", "c": null})"));
  Record bad = record(R"({"a": "x", "b": [1, 2]})");
  EXPECT_EQ(apply(s, bad), "reject: cannot mask field 'b': array is not a string or number");
}

TEST(Mask, ConfigErrors) {
  EXPECT_EQ(config_error("mask: { fields: [phone], keep_last: -1 }"),
            "p.yaml:1:37: 'keep_last' for mask must be a non-negative integer");
  EXPECT_EQ(config_error("mask: { fields: [phone], keep_first: four }"),
            "p.yaml:1:38: 'keep_first' for mask must be a non-negative integer");
  EXPECT_EQ(config_error("mask: { fields: [phone], char: \"**\" }"),
            "p.yaml:1:32: 'char' for mask must be a single character");
  EXPECT_EQ(config_error("mask: { fields: [phone], char: \"\" }"),
            "p.yaml:1:32: 'char' for mask must be a single character");
  EXPECT_EQ(config_error("mask: { fields: [], keep_last: 4 }"), "p.yaml:1:17: empty field list for mask 'fields'");
  EXPECT_EQ(config_error("mask: { keep_last: 4 }"), "p.yaml:1:7: missing required option 'fields' for mask");
  EXPECT_EQ(config_error("mask: { fields: [phone], keep: 4 }"), "p.yaml:1:26: unknown option 'keep' for mask");
}

}  // namespace
}  // namespace touchpoint::core::test
