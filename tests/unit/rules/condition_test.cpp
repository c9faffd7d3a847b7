// The condition language: precedence, types, missing values, proposal
// fields, and compile errors with their positions.

#include "rules/condition.hpp"

#include <gtest/gtest.h>

#include <string>

namespace touchpoint::core::rules {
namespace {

Json profile() {
  return Json::parse(R"({
    "credit_score": 450,
    "income": 2500.5,
    "name": "Anna",
    "vip": true,
    "blocked": false,
    "nothing": null,
    "segments": ["gold", "travel"],
    "address": {"city": "Berlin", "zip": "10115"},
    "big": 18446744073709551615
  })");
}

Proposal proposal() {
  Proposal p;
  p.channel = "email";
  p.purpose = "marketing";
  p.campaign = "spring";
  p.offer = "loan-1";
  p.offer_category = "credit";
  return p;
}

bool eval(const std::string& text, const Proposal& p = proposal(), const Json& attrs = profile()) {
  return Condition::compile(text).eval(attrs, p);
}

/// "offset: message" of the compile error, or "<no error>".
std::string error(const std::string& text, const ConditionSchema& schema = {}) {
  try {
    Condition::compile(text, schema);
  } catch (const ConditionError& e) {
    return std::to_string(e.offset()) + ": " + e.message();
  }
  return "<no error>";
}

TEST(Condition, Comparisons) {
  EXPECT_TRUE(eval("profile.credit_score < 500"));
  EXPECT_FALSE(eval("profile.credit_score < 450"));
  EXPECT_TRUE(eval("profile.credit_score <= 450"));
  EXPECT_TRUE(eval("profile.credit_score >= 450"));
  EXPECT_FALSE(eval("profile.credit_score > 450"));
  EXPECT_TRUE(eval("profile.credit_score == 450"));
  EXPECT_TRUE(eval("profile.credit_score == 450.0"));  // int and float compare as numbers
  EXPECT_TRUE(eval("profile.credit_score != 451"));
  EXPECT_TRUE(eval("profile.income > 2500"));
  EXPECT_TRUE(eval("-1 < profile.credit_score"));
  EXPECT_TRUE(eval("profile.name == 'Anna'"));
  EXPECT_TRUE(eval("profile.name == \"Anna\""));
  EXPECT_TRUE(eval("profile.name < 'Bob'"));     // strings order bytewise
  EXPECT_FALSE(eval("profile.name == 'anna'"));  // case matters
  EXPECT_TRUE(eval("profile.vip == true"));
  EXPECT_TRUE(eval("profile.blocked != true"));
  EXPECT_TRUE(eval("profile.address.city == 'Berlin'"));
  EXPECT_TRUE(eval("profile.big > 1e18"));
}

TEST(Condition, PrecedenceNotAndOr) {
  // or < and < not < comparison
  EXPECT_TRUE(eval("true or false and false"));     // true or (false and false)
  EXPECT_FALSE(eval("(true or false) and false"));  // parentheses
  EXPECT_TRUE(eval("not false and true"));          // (not false) and true
  EXPECT_FALSE(eval("not (false or true)"));
  EXPECT_TRUE(eval("not profile.credit_score == 1"));  // not (score == 1)
  EXPECT_TRUE(eval("not not true"));
  EXPECT_TRUE(eval("false or false or true"));
  EXPECT_FALSE(eval("true and true and false"));
  EXPECT_TRUE(eval("((((profile.vip))))"));
}

TEST(Condition, MissingValuesMakeComparisonsFalse) {
  for (const char* op : {"==", "!=", "<", "<=", ">", ">="}) {
    EXPECT_FALSE(eval(std::string("profile.missing ") + op + " 1")) << op;
    EXPECT_FALSE(eval(std::string("profile.nothing ") + op + " 1")) << op;  // null counts as missing
    EXPECT_FALSE(eval(std::string("profile.address.street ") + op + " 'x'")) << op;
    EXPECT_FALSE(eval(std::string("profile.name.first ") + op + " 'x'")) << op;  // a string has no fields
  }
  // The idiom for "not equal, or missing".
  EXPECT_TRUE(eval("not (profile.missing == 1)"));
  EXPECT_FALSE(eval("profile.missing in [1, 2]"));
  EXPECT_TRUE(eval("profile.missing not in [1, 2]"));  // exactly not (x in [...])
  EXPECT_FALSE(eval("profile.missing"));               // a bare value is true only when it is true
}

TEST(Condition, TypeMismatchIsFalse) {
  EXPECT_FALSE(eval("profile.credit_score == '450'"));
  EXPECT_FALSE(eval("profile.credit_score != '450'"));  // != with mismatched types is false too
  EXPECT_FALSE(eval("profile.name > 1"));
  EXPECT_FALSE(eval("profile.vip == 1"));
  EXPECT_FALSE(eval("profile.vip < profile.blocked"));  // bools have no order (a compile error when known)
  EXPECT_FALSE(eval("profile.segments == 'gold'"));
  EXPECT_FALSE(eval("profile.address == 'Berlin'"));
  EXPECT_FALSE(eval("profile.credit_score"));  // a number is not true
}

TEST(Condition, NullExistsAndIn) {
  EXPECT_TRUE(eval("exists profile.name"));
  EXPECT_FALSE(eval("exists profile.nothing"));
  EXPECT_FALSE(eval("exists profile.missing"));
  EXPECT_TRUE(eval("exists profile.address.zip"));
  EXPECT_TRUE(eval("not exists profile.missing"));
  EXPECT_TRUE(eval("profile.missing == null"));
  EXPECT_TRUE(eval("profile.nothing == null"));
  EXPECT_FALSE(eval("profile.name == null"));
  EXPECT_TRUE(eval("profile.name != null"));
  EXPECT_TRUE(eval("null == profile.missing"));
  EXPECT_TRUE(eval("null == null"));
  EXPECT_TRUE(eval("profile.credit_score in [100, 450, 700]"));
  EXPECT_TRUE(eval("profile.credit_score in [450.0]"));
  EXPECT_FALSE(eval("profile.credit_score in []"));
  EXPECT_FALSE(eval("profile.credit_score in ['450']"));
  EXPECT_TRUE(eval("profile.credit_score not in [1, 2]"));
  EXPECT_TRUE(eval("'gold' in profile.segments"));
  EXPECT_FALSE(eval("'silver' in profile.segments"));
  EXPECT_FALSE(eval("'Anna' in profile.name"));  // not a list
  EXPECT_FALSE(eval("'x' in profile.missing"));
  EXPECT_TRUE(eval("profile.vip"));
  EXPECT_FALSE(eval("profile.blocked"));
}

TEST(Condition, ProposalFields) {
  Proposal p = proposal();
  EXPECT_TRUE(eval("offer_category == 'credit'", p));
  EXPECT_TRUE(eval("channel == 'email' and purpose == 'marketing'", p));
  EXPECT_TRUE(eval("campaign in ['spring', 'summer']", p));
  EXPECT_TRUE(eval("offer == 'loan-1'", p));
  EXPECT_FALSE(eval("transactional", p));
  EXPECT_TRUE(eval("not transactional", p));
  p.transactional = true;
  EXPECT_TRUE(eval("transactional == true", p));
  p.offer.clear();
  EXPECT_FALSE(eval("exists offer", p));  // empty proposal strings are missing
  EXPECT_FALSE(eval("offer == ''", p));
  EXPECT_TRUE(eval("offer == null", p));
  // While routing `best`, `channel` is the candidate channel.
  p.channel = "best";
  const Condition c = Condition::compile("channel == 'post'");
  EXPECT_TRUE(c.eval(profile(), p, "post"));
  EXPECT_FALSE(c.eval(profile(), p, "email"));
}

TEST(Condition, NonObjectProfileHasNoAttributes) {
  EXPECT_FALSE(eval("profile.x == 1", proposal(), Json::array()));
  EXPECT_FALSE(eval("exists profile.x", proposal(), Json()));
}

TEST(Condition, LiteralsAndEscapes) {
  Json attrs = {{"q", "it's \"quoted\"\n"}};
  EXPECT_TRUE(eval(R"(profile.q == 'it\'s "quoted"\n')", proposal(), attrs));
  EXPECT_TRUE(eval(R"(profile.q == "it's \"quoted\"\n")", proposal(), attrs));
  EXPECT_TRUE(eval("0.5 < 1 and -.5 < 0 and 1e2 == 100 and -2 < -1"));
  EXPECT_TRUE(eval("true and not false"));
}

TEST(Condition, AttributesUsed) {
  const Condition c = Condition::compile("profile.a == 1 or profile.b.c == 2 or profile.a > 3");
  EXPECT_EQ(c.attributes_used(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.text(), "profile.a == 1 or profile.b.c == 2 or profile.a > 3");
}

TEST(Condition, SyntaxErrorsWithPositions) {
  EXPECT_EQ(error(""), "0: empty condition");
  EXPECT_EQ(error("   "), "0: empty condition");
  EXPECT_EQ(error("profile.x = 1"), "10: '=' is not an operator; use '==' to compare");
  EXPECT_EQ(error("profile.x == 1 && true"), "15: '&' is not an operator; use 'and'");
  EXPECT_EQ(error("true || false"), "5: '|' is not an operator; use 'or'");
  EXPECT_EQ(error("!true"), "0: '!' is not an operator; use 'not'");
  EXPECT_EQ(error("profile.x < "), "12: expected a value after '<', got end of the condition");
  EXPECT_EQ(error("profile.x == 1 and"), "18: expected a condition, got end of the condition");
  EXPECT_EQ(error("(profile.x == 1"), "0: '(' is never closed");
  EXPECT_EQ(error("profile.x == 1)"), "14: unmatched ')'");
  EXPECT_EQ(error("()"), "1: empty parentheses");
  EXPECT_EQ(error("profile.x == 'abc"), "13: unterminated string (missing closing ')");
  EXPECT_EQ(error("profile.x == 'a\\qb'"), "15: unknown escape '\\q' (use \\\\, \\', \\\", \\n or \\t)");
  EXPECT_EQ(error("profile.x == 1 true"), "15: unexpected 'true' (expected 'and', 'or' or the end)");
  EXPECT_EQ(error("profile.x in [1, 2"), "18: expected ',' or ']' in the list, got end of the condition");
  EXPECT_EQ(error("profile.x in [1,, 2]"), "16: expected a value in the list, got ','");
  EXPECT_EQ(error("profile.x in [profile.y]"),
            "14: lists hold literal values (strings, numbers, true, false), not names");
  EXPECT_EQ(error("profile.x in [null]"), "14: null cannot be in a list; use 'exists'");
  EXPECT_EQ(error("profile.x in 'abc'"), "13: 'in' needs a list [..] or a profile attribute holding a list");
  EXPECT_EQ(error("profile.x not 1"), "10: unexpected 'not' (did you mean 'not in'?)");
  EXPECT_EQ(error("exists 1"), "7: expected a name after 'exists', got '1'");
  EXPECT_EQ(error("profile."), "8: expected a name after '.'");
  EXPECT_EQ(error("profile"), "0: expected profile.<attribute>, e.g. profile.credit_score");
  EXPECT_EQ(error("channel.x == 1"), "7: 'channel' has no fields");
  EXPECT_EQ(error("1.5.3 == 1"), "0: malformed number");
  EXPECT_EQ(error("12abc == 1"), "0: malformed number");
  EXPECT_EQ(error("profile.x == 1e999"), "13: number out of range");
  EXPECT_EQ(error("profile.x == 1 # comment"), "15: unexpected character '#'");
  EXPECT_EQ(error("profile.x AND true"), "10: unexpected 'AND' (expected 'and', 'or' or the end)");
  EXPECT_EQ(error("NOT profile.x"), "0: keywords are lower case: use 'not'");
  EXPECT_EQ(error("credit_score < 500"),
            "0: unknown name 'credit_score'; profile attributes are written profile.credit_score, proposal fields are "
            "channel, purpose, campaign, offer, offer_category and transactional; strings need quotes");
  EXPECT_EQ(error("profile.x < null"), "12: null can only be compared with == or !=, not <");
  EXPECT_EQ(error("null"), "0: null is not a condition");
  EXPECT_EQ(error("'abc'"),
            "0: 'abc' is a string, not a condition; compare it (==, !=, <, ...) or test it with 'exists'");
  EXPECT_EQ(error("offer_category"),
            "0: offer_category is a string, not a condition; compare it (==, !=, <, ...) or test it with 'exists'");
}

TEST(Condition, TypeErrorsAtCompileTime) {
  EXPECT_EQ(error("offer_category == 1"), "18: cannot compare offer_category (string) with 1 (number)");
  EXPECT_EQ(error("transactional == 'yes'"), "17: cannot compare transactional (bool) with 'yes' (string)");
  EXPECT_EQ(error("transactional < true"),
            "0: transactional is a bool; only numbers and strings can be ordered with <, <=, >, >=");
  EXPECT_EQ(error("channel in ['email', 2]"), "21: cannot compare channel (string) with 2 (number)");
  EXPECT_EQ(error("1 == 'a'"), "5: cannot compare 1 (number) with 'a' (string)");
}

TEST(Condition, SchemaChecksAttributesChannelsPurposes) {
  ConditionSchema s;
  s.channels = {"email", "phone"};
  s.purposes = {"marketing", "service"};
  s.attributes_declared = true;
  s.attributes = {{"credit_score", AttrType::Number},
                  {"vip", AttrType::Bool},
                  {"segments", AttrType::List},
                  {"address", AttrType::Object},
                  {"extra", AttrType::Any}};
  EXPECT_EQ(error("profile.credit_score < 500 and profile.vip and 'a' in profile.segments and "
                  "profile.address.city == 'x' and profile.extra.y.z == 1 and channel == 'phone' and "
                  "purpose in ['service']",
                  s),
            "<no error>");
  EXPECT_EQ(error("profile.credit_scor < 500", s),
            "8: unknown attribute 'credit_scor' (declared under attributes: address, credit_score, extra, "
            "segments, vip)");
  EXPECT_EQ(error("profile.credit_score < '500'", s),
            "23: cannot compare profile.credit_score (number) with '500' (string)");
  EXPECT_EQ(error("profile.credit_score.x == 1", s), "20: attribute 'credit_score' is a number and has no fields");
  EXPECT_EQ(error("profile.vip >= false", s),
            "0: profile.vip is a bool; only numbers and strings can be ordered with <, <=, >, >=");
  EXPECT_EQ(error("profile.credit_score", s),
            "0: profile.credit_score is a number, not a condition; compare it (==, !=, <, ...) or test it with "
            "'exists'");
  EXPECT_EQ(error("profile.segments == 'gold'", s),
            "0: profile.segments is a list and cannot be compared; use 'in' for lists");
  EXPECT_EQ(error("1 in profile.credit_score", s), "5: profile.credit_score is a number, not a list");
  EXPECT_EQ(error("profile.segments in ['a']", s),
            "0: profile.segments is a list; only single values can be 'in' a list");
  EXPECT_EQ(error("channel == 'emial'", s), "11: 'emial' is not a channel of this rulebook (email, phone)");
  EXPECT_EQ(error("'fax' == channel", s), "0: 'fax' is not a channel of this rulebook (email, phone)");
  EXPECT_EQ(error("channel in ['email', 'fax']", s), "21: 'fax' is not a channel of this rulebook (email, phone)");
  EXPECT_EQ(error("purpose == 'marketting'", s),
            "11: 'marketting' is not a purpose of this rulebook (marketing, service)");
  // Without declarations, any attribute is fine and types are checked when evaluated.
  EXPECT_EQ(error("profile.anything < 500 and channel == 'fax'"), "<no error>");
}

TEST(Condition, Limits) {
  std::string deep(65, '(');
  deep += "true" + std::string(65, ')');
  EXPECT_EQ(error(deep), "64: condition nested too deeply");
  std::string ok_depth(60, '(');
  ok_depth += "true" + std::string(60, ')');
  EXPECT_TRUE(eval(ok_depth));
  std::string nots;
  for (int i = 0; i < 70; ++i) nots += "not ";
  EXPECT_EQ(error(nots + "true"), "260: condition nested too deeply");
  EXPECT_EQ(error(std::string(9000, ' ') + "true"), "0: condition is longer than 8192 bytes");
  // Long flat chains are fine (iterative, not nested).
  std::string chain = "profile.x == 0";
  for (int i = 1; i < 400; ++i) chain += " or profile.x == " + std::to_string(i);
  Json attrs = {{"x", 399}};
  EXPECT_TRUE(eval(chain, proposal(), attrs));
}

}  // namespace
}  // namespace touchpoint::core::rules
