// The classification table of README.md, row by row.
#include "classify.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <string>

namespace tp_email::intake::detail {
namespace {

TEST(Classify, FindsStatusCodes) {
  EXPECT_EQ(find_status("5.1.1"), "5.1.1");
  EXPECT_EQ(find_status("550 5.1.10 RESOLVER.ADR.RecipientNotFound"), "5.1.10");
  EXPECT_EQ(find_status("550-5.7.1 [198.51.100.7] blocked"), "5.7.1");
  EXPECT_EQ(find_status("4.4.1 (timeout)"), "4.4.1");
  EXPECT_EQ(find_status("no code here 10.0.0.5"), "");
  EXPECT_EQ(find_status("1.2.3"), "");
  EXPECT_EQ(find_status("5.1234.1"), "");
  EXPECT_EQ(find_status(""), "");
}

struct Row {
  const char* action;
  const char* status;
  const char* diagnostic;
  const char* kind;
};

void PrintTo(const Row& r, std::ostream* os) { *os << r.action << " " << r.status << " \"" << r.diagnostic << "\""; }

class Table : public ::testing::TestWithParam<Row> {};

TEST_P(Table, Kind) {
  const Row& r = GetParam();
  EXPECT_EQ(classify(r.action, r.status, r.diagnostic), r.kind) << r.action << " " << r.status << " " << r.diagnostic;
}

INSTANTIATE_TEST_SUITE_P(
    Rfc3463, Table,
    ::testing::Values(
        Row{"failed", "5.1.1", "550 5.1.1 user unknown", "bounce_hard"},
        Row{"failed", "5.1.2", "host not found", "bounce_hard"},
        Row{"failed", "5.1.10", "RecipientNotFound", "bounce_hard"},
        Row{"failed", "5.4.4", "unable to route", "bounce_hard"},
        Row{"failed", "5.2.1", "mailbox disabled", "bounce_hard"},
        Row{"failed", "5.2.2", "mailbox full", "bounce_soft"},
        Row{"failed", "5.2.3", "message too large", "bounce_soft"},
        Row{"failed", "5.3.4", "message too big for system", "bounce_soft"},
        Row{"failed", "4.2.2", "over quota", "bounce_soft"}, Row{"failed", "4.7.0", "try again later", "bounce_soft"},
        Row{"delayed", "4.4.1", "connection timed out", "bounce_soft"}, Row{"delayed", "5.1.1", "", "bounce_soft"},
        Row{"failed", "5.7.1", "relaying denied", "policy_block"},
        Row{"failed", "5.7.26", "DMARC policy", "policy_block"},
        Row{"failed", "5.1.8", "Sender address rejected: Domain not found", "policy_block"},
        Row{"failed", "5.1.7", "bad sender mailbox syntax", "policy_block"},
        Row{"failed", "5.0.0", "550 Blocked by Spamhaus, see https://check.example", "policy_block"},
        Row{"failed", "5.1.1", "554 rejected: your IP is on a blocklist", "policy_block"},
        Row{"failed", "5.0.0", "550 poor reputation of sending IP", "policy_block"},
        Row{"failed", "5.0.0", "550 No such user here", "bounce_hard"},
        Row{"failed", "5.0.0", "550 mailbox unavailable", "bounce_hard"},
        Row{"failed", "5.0.0", "554 transaction failed", "bounce_soft"}, Row{"failed", "", "", "bounce_soft"},
        Row{"Failed", "5.1.1", "", "bounce_hard"}, Row{"delivered", "2.0.0", "250 ok", "delivered"},
        Row{"relayed", "2.0.0", "", "delivered"}, Row{"expanded", "2.0.0", "", "delivered"},
        Row{"", "2.0.0", "", "delivered"}, Row{"", "5.1.1", "", "bounce_hard"}, Row{"", "4.4.7", "", "bounce_soft"},
        Row{"", "", "", ""}, Row{"bogus", "5.1.1", "", ""}),
    [](const ::testing::TestParamInfo<Row>& row) {
      std::string name = std::to_string(row.index) + "_" + row.param.action + "_" + row.param.status;
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return name;
    });

}  // namespace
}  // namespace tp_email::intake::detail
