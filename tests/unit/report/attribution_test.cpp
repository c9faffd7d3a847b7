// The attribution models over the seed's credit-card example
// (docs/reports.md#attribution): an e-mail on day 0, a call on day 9, the
// card bought on day 10.
#include "report/attribution.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "report/conversion.hpp"

namespace touchpoint::core::report {
namespace {

constexpr int64_t kDay = kDayMs;

std::vector<Touch> email_then_call(bool call_targeted = true) {
  return {Touch{"c-mail", "card-mail", "email", 0, true},
          Touch{"c-call", "card-call", "phone", 9 * kDay, call_targeted}};
}

double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

TEST(Attribution, FirstAndLastTouchGiveEverythingToOneContact) {
  EXPECT_EQ(credit(Model::first_touch, email_then_call(), 10 * kDay, 7 * kDay), (std::vector<double>{1, 0}));
  EXPECT_EQ(credit(Model::last_touch, email_then_call(), 10 * kDay, 7 * kDay), (std::vector<double>{0, 1}));
}

TEST(Attribution, LinearSharesEqually) {
  EXPECT_EQ(credit(Model::linear, email_then_call(), 10 * kDay, 7 * kDay), (std::vector<double>{0.5, 0.5}));
  const std::vector<double> three = credit(
      Model::linear,
      {Touch{"a", "x", "email", 0, false}, Touch{"b", "x", "sms", 1, false}, Touch{"c", "x", "post", 2, false}}, 3, 1);
  for (double c : three) EXPECT_DOUBLE_EQ(c, 1.0 / 3);
}

TEST(Attribution, PositionBasedGivesFortyTwentyFortyAndHalvesTwoTouches) {
  EXPECT_EQ(credit(Model::position_based, email_then_call(), 10 * kDay, 7 * kDay), (std::vector<double>{0.5, 0.5}));
  const std::vector<Touch> four = {Touch{"a", "x", "email", 0, false}, Touch{"b", "x", "sms", 1, false},
                                   Touch{"c", "x", "post", 2, false}, Touch{"d", "x", "phone", 3, false}};
  const std::vector<double> c = credit(Model::position_based, four, 4, 1);
  EXPECT_DOUBLE_EQ(c[0], 0.4);
  EXPECT_DOUBLE_EQ(c[1], 0.1);
  EXPECT_DOUBLE_EQ(c[2], 0.1);
  EXPECT_DOUBLE_EQ(c[3], 0.4);
  EXPECT_EQ(credit(Model::position_based, {four[0]}, 4, 1), (std::vector<double>{1}));
}

TEST(Attribution, TimeDecayHalvesTheWeightPerHalfLife) {
  // The e-mail is 10 days old, the call 1 day: with a 7-day half-life the
  // weights are 2^(-10/7) = 0.3715 and 2^(-1/7) = 0.9057, i.e. 0.291 : 0.709.
  const std::vector<double> c = credit(Model::time_decay, email_then_call(), 10 * kDay, 7 * kDay);
  EXPECT_NEAR(c[0], 0.291, 0.001);
  EXPECT_NEAR(c[1], 0.709, 0.001);
  EXPECT_DOUBLE_EQ(sum(c), 1.0);
  // A contact exactly one half-life older weighs half as much.
  const std::vector<double> half =
      credit(Model::time_decay, {Touch{"a", "x", "email", 0, false}, Touch{"b", "y", "phone", 7 * kDay, false}},
             7 * kDay, 7 * kDay);
  EXPECT_NEAR(half[0] / half[1], 0.5, 1e-12);
}

TEST(Attribution, TimeDecayWithATinyHalfLifeStillSumsToOne) {
  // Ages of years against a half-life of 1 ms would underflow every weight.
  const std::vector<double> c =
      credit(Model::time_decay, {Touch{"a", "x", "email", 0, false}, Touch{"b", "y", "phone", 1000, false}},
             int64_t{400} * 365 * kDay, 1);
  EXPECT_DOUBLE_EQ(sum(c), 1.0);
  EXPECT_EQ(c[1], 1.0);
}

TEST(Attribution, TreatmentCreditsOnlyTheContactsThatOfferedWhatWasBought) {
  // Both offered the card: shared.
  EXPECT_EQ(credit(Model::treatment, email_then_call(), 10 * kDay, 7 * kDay), (std::vector<double>{0.5, 0.5}));
  // The call offered insurance: the card is the e-mail's.
  EXPECT_EQ(credit(Model::treatment, email_then_call(false), 10 * kDay, 7 * kDay), (std::vector<double>{1, 0}));
  // Nothing targeted: unattributed (all zero) under this model only.
  const std::vector<Touch> none = {Touch{"a", "x", "phone", 0, false}};
  EXPECT_EQ(credit(Model::treatment, none, 1, 1), (std::vector<double>{0}));
  EXPECT_EQ(credit(Model::last_touch, none, 1, 1), (std::vector<double>{1}));
}

TEST(Attribution, NoTouchesGiveNoCreditAndEveryModelHasAName) {
  for (Model m : kModels) {
    EXPECT_TRUE(credit(m, {}, 0, 1).empty());
    EXPECT_EQ(model_from_string(to_string(m)), m);
  }
  EXPECT_FALSE(model_from_string("last-touch"));
  EXPECT_FALSE(model_from_string(""));
}

TEST(Attribution, EverySharingModelSumsToOneForManyTouches) {
  std::vector<Touch> many;
  for (int i = 0; i < 500; ++i) many.push_back(Touch{"c" + std::to_string(i), "x", "email", i * 1000, i % 7 == 0});
  for (Model m : kModels) EXPECT_NEAR(sum(credit(m, many, 500 * 1000, kDay)), 1.0, 1e-9) << to_string(m);
}

TEST(Conversion, ATargetConversionIsWhatTheContactOffered) {
  ConversionRule r;
  // The NBO example: property insurance offered, a savings account sold.
  EXPECT_FALSE(is_target(r, "property-insurance", "insurance", "savings-account", "savings"));
  EXPECT_TRUE(is_target(r, "property-insurance", "insurance", "property-insurance", "insurance"));
  EXPECT_TRUE(is_target(r, "", "insurance", "home-insurance", "insurance"));
  EXPECT_FALSE(is_target(r, "", "", "anything", ""));
  // A campaign's configured target overrides the contact's offer.
  r.category = "savings";
  EXPECT_TRUE(is_target(r, "property-insurance", "insurance", "savings-account", "savings"));
  EXPECT_FALSE(is_target(r, "property-insurance", "insurance", "property-insurance", "insurance"));
}

TEST(Conversion, TheConfigCountsTheEventTypesOfAnyRule) {
  ConversionConfig c;
  EXPECT_TRUE(c.counts("purchase"));
  EXPECT_TRUE(c.counts("contract_signed"));
  EXPECT_FALSE(c.counts("web_visit"));
  ConversionRule r;
  r.events = {"test_drive"};
  r.window_ms = 90 * kDay;
  c.campaigns["cars"] = r;
  EXPECT_TRUE(c.counts("test_drive"));
  EXPECT_EQ(c.longest_window_ms(), 90 * kDay);
  EXPECT_EQ(c.rule_for("cars").events, std::vector<std::string>{"test_drive"});
  EXPECT_EQ(c.rule_for("other").window_ms, 30 * kDay);
}

}  // namespace
}  // namespace touchpoint::core::report
