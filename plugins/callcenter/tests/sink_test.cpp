// The sink: call lists as files (CSV, JSON lines, Latin-1) and POSTed to a real HTTP server.
#include <string>
#include <vector>

#include "support.hpp"

namespace touchpoint::callcenter::test {
namespace {

using touchpoint::testing::EmittedRecord;

EmittedRecord message(const std::string& id, const std::string& phone, const std::string& extra = "") {
  EmittedRecord r;
  r.id = id;
  r.type = "message";
  r.key = "42";
  r.data = R"({"contact_id":")" + id + R"(","channel":"phone","campaign":"spring","template":"script-a",)" +
           R"("to":")" + phone + R"(","customer":{"profile_id":42,"first_name":"Anna","last_name":"Müller, Jr."},)" +
           R"("vars":{"priority":"high"},"calling_window":{"timezone":"Europe/Berlin","from":"08:00","to":"20:00"})" +
           extra + "}";
  return r;
}

class SinkTest : public PluginTest {};

TEST_F(SinkTest, WritesOneCsvFilePerBatchAtomically) {
  auto inst = open(R"({"target":{"dir":")" + tmp_.str() + R"(/out"}})");
  auto bad = message("c-000000000000000000000003", "030 1234");
  auto outcomes = inst->write({message("c-000000000000000000000001", "+4930123456"),
                               message("c-000000000000000000000002", "+4930999999"), bad});
  ASSERT_EQ(outcomes.size(), 3u);
  const auto files = list_files(tmp_.path() / "out");
  ASSERT_EQ(files.size(), 1u) << "no temporary file stays behind";
  EXPECT_TRUE(files[0].rfind("calls-", 0) == 0 &&
              files[0].size() == std::string("calls-20260301T101500Z-000001.csv").size())
      << files[0];
  EXPECT_EQ(outcomes[0].status, TP_OK);
  EXPECT_EQ(outcomes[0].message, files[0] + ":1");
  EXPECT_EQ(outcomes[1].message, files[0] + ":2");
  EXPECT_EQ(outcomes[2].status, TP_STATUS_PERMANENT);
  EXPECT_NE(outcomes[2].message.find("E.164"), std::string::npos);
  EXPECT_EQ(read_file(tmp_.path() / "out" / files[0]),
            "contact_id,phone,name,first_name,last_name,campaign,script,priority,window_from,window_to,timezone\r\n"
            "c-000000000000000000000001,+4930123456,\"Anna Müller, Jr.\",Anna,\"Müller, Jr.\",spring,script-a,high,"
            "08:00,20:00,Europe/Berlin\r\n"
            "c-000000000000000000000002,+4930999999,\"Anna Müller, Jr.\",Anna,\"Müller, Jr.\",spring,script-a,high,"
            "08:00,20:00,Europe/Berlin\r\n");
  // The next batch is the next file.
  inst->write({message("c-000000000000000000000004", "+4930123456")});
  EXPECT_EQ(list_files(tmp_.path() / "out").size(), 2u);
  for (const auto& log : harness_.logs()) EXPECT_EQ(log.message.find("+4930"), std::string::npos) << log.message;
}

TEST_F(SinkTest, CsvColumnsDelimiterNoHeaderLatin1) {
  auto inst = open(R"({"target":{"dir":")" + tmp_.str() +
                   R"(","prefix":"bank","columns":["phone","last_name","priority"],"delimiter":";","header":false,)"
                   R"("encoding":"latin-1"}})");
  auto outcomes = inst->write({message("c-1", "+4930123456")});
  ASSERT_EQ(outcomes[0].status, TP_OK) << outcomes[0].message;
  const auto files = list_files(tmp_.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].rfind("bank-", 0), 0u);
  EXPECT_EQ(read_file(tmp_.path() / files[0]), "+4930123456;M\xFCller, Jr.;high\r\n");
}

TEST_F(SinkTest, JsonLinesWithInDoubtMarker) {
  auto inst = open(R"({"target":{"dir":")" + tmp_.str() + R"(","format":"jsonl"}})");
  auto resend = message("c-2", "+4930123456");
  resend.meta = R"({"in_doubt":true})";
  auto outcomes = inst->write({message("c-1", "+4930123456"), resend});
  ASSERT_EQ(outcomes[1].status, TP_OK);
  const auto files = list_files(tmp_.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].substr(files[0].size() - 6), ".jsonl");
  const std::string content = read_file(tmp_.path() / files[0]);
  EXPECT_EQ(std::count(content.begin(), content.end(), '\n'), 2);
  EXPECT_NE(content.find(R"("contact_id":"c-1","phone":"+4930123456")"), std::string::npos);
  EXPECT_NE(content.find(R"("in_doubt":true})"), std::string::npos);
}

TEST_F(SinkTest, AnUnwritableDirectoryIsRetryable) {
  write_file(tmp_.path() / "not-a-dir", "x");
  auto inst = open(R"({"target":{"dir":")" + tmp_.str() + R"(/not-a-dir/sub"}})");
  auto outcomes = inst->write({message("c-1", "+4930123456"), message("c-2", "bogus")});
  EXPECT_EQ(outcomes[0].status, TP_STATUS_RETRYABLE);
  EXPECT_EQ(outcomes[1].status, TP_STATUS_PERMANENT);
}

TEST_F(SinkTest, HostileRecordsArePermanentNotFatal) {
  auto inst = open(R"({"target":{"dir":")" + tmp_.str() + R"("}})");
  EmittedRecord not_json = message("c-1", "+4930123456");
  not_json.data = "{\"to\":";
  EmittedRecord nul = message("c-2", std::string("+4930\\u0000123"));
  EmittedRecord huge = message("c-3", "+4930123456", R"(,"campaign_note":")" + std::string(5 << 20, 'x') + "\"");
  auto outcomes = inst->write({not_json, nul, huge});
  EXPECT_EQ(outcomes[0].status, TP_STATUS_PERMANENT);
  EXPECT_EQ(outcomes[1].status, TP_STATUS_PERMANENT);
  EXPECT_EQ(outcomes[2].status, TP_OK);  // unknown attributes are not exported
}

TEST_F(SinkTest, RestPostsAJsonArrayAndReportsProviderIds) {
  FakeCallCenterApi api([](const FakeCallCenterApi::Request&) {
    return FakeCallCenterApi::Reply{201, R"({"list_id":"L-77","entries":[{"contact_id":"c-1","id":"E-1"},)"
                                         R"({"contact_id":"c-3","error":"number on the provider's blocklist"}]})"};
  });
  auto inst = open(R"({"target":{"http":{"url":")" + api.url() +
                   R"(","auth_header":"Authorization: Bearer s3cret","timeout_ms":5000}}})");
  auto outcomes = inst->write({message("c-1", "+4930123456"), message("c-2", "+4930123457"),
                               message("c-3", "+4930123458"), message("c-4", "12")});
  EXPECT_EQ(outcomes[0].status, TP_OK);
  EXPECT_EQ(outcomes[0].message, "E-1");
  EXPECT_EQ(outcomes[1].status, TP_OK);
  EXPECT_EQ(outcomes[1].message, "L-77:2");
  EXPECT_EQ(outcomes[2].status, TP_STATUS_PERMANENT);
  EXPECT_NE(outcomes[2].message.find("blocklist"), std::string::npos);
  EXPECT_EQ(outcomes[3].status, TP_STATUS_PERMANENT);
  const auto requests = api.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/call-lists");
  EXPECT_EQ(requests[0].headers.at("authorization"), "Bearer s3cret");
  EXPECT_EQ(requests[0].headers.at("content-type"), "application/json");
  EXPECT_EQ(requests[0].headers.at("idempotency-key").size(), 32u);
  EXPECT_EQ(requests[0].body.front(), '[');
  EXPECT_NE(requests[0].body.find(R"({"contact_id":"c-2","phone":"+4930123457")"), std::string::npos);
  EXPECT_EQ(requests[0].body.find("c-4"), std::string::npos);
}

TEST_F(SinkTest, RestStatusesMapToOutcomes) {
  unsigned status = 200;
  std::string body;
  FakeCallCenterApi api([&](const FakeCallCenterApi::Request&) { return FakeCallCenterApi::Reply{status, body}; });
  auto inst = open(R"({"target":{"http":{"url":")" + api.url() + R"("}}})");
  auto one = [&](unsigned s, std::string b) {
    status = s;
    body = std::move(b);
    return inst->write({message("c-1", "+4930123456")})[0];
  };
  EXPECT_EQ(one(200, "not json").status, TP_OK);
  EXPECT_EQ(one(200, "").message, "");
  auto r429 = one(429, R"({"message":"slow down"})");
  EXPECT_EQ(r429.status, TP_STATUS_RETRYABLE);
  EXPECT_NE(r429.message.find("429: slow down"), std::string::npos);
  EXPECT_EQ(one(503, "").status, TP_STATUS_RETRYABLE);
  auto r422 = one(422, R"({"error":{"message":"unknown script"}})");
  EXPECT_EQ(r422.status, TP_STATUS_PERMANENT);
  EXPECT_NE(r422.message.find("unknown script"), std::string::npos);
  auto long_body = one(400, std::string(100000, 'e'));
  EXPECT_EQ(long_body.status, TP_STATUS_PERMANENT);
  EXPECT_LT(long_body.message.size(), 400u) << "the provider's message is bounded";
  auto huge_ok = one(200, std::string(3 << 20, ' '));
  EXPECT_EQ(huge_ok.status, TP_OK);
}

TEST_F(SinkTest, RestTimeoutAndRefusedConnectionAreRetryable) {
  FakeCallCenterApi api([](const FakeCallCenterApi::Request&) {
    FakeCallCenterApi::Reply r;
    r.hang = true;
    return r;
  });
  auto inst = open(R"({"target":{"http":{"url":")" + api.url() + R"(","timeout_ms":200}}})");
  auto outcomes = inst->write({message("c-1", "+4930123456")});
  EXPECT_EQ(outcomes[0].status, TP_STATUS_RETRYABLE);
  EXPECT_NE(outcomes[0].message.find("POST failed"), std::string::npos) << outcomes[0].message;

  std::string closed_url;
  {
    FakeCallCenterApi gone([](const FakeCallCenterApi::Request&) { return FakeCallCenterApi::Reply{}; });
    closed_url = gone.url();
  }
  auto inst2 = open(R"({"target":{"http":{"url":")" + closed_url + R"("}}})");
  EXPECT_EQ(inst2->write({message("c-1", "+4930123456")})[0].status, TP_STATUS_RETRYABLE);
}

TEST_F(SinkTest, ValidateAndNoTarget) {
  std::string error;
  EXPECT_EQ(harness_.validate(R"({"target":{"dir":"/x","bogus":1}})", &error), TP_STATUS_INVALID_CONFIG);
  EXPECT_NE(error.find("target.bogus"), std::string::npos);
  auto inst = open(R"({"dispositions":{"dir":")" + tmp_.str() + R"("}})");
  tp_status overall = TP_OK;
  inst->write({message("c-1", "+4930123456")}, &overall);
  EXPECT_EQ(overall, TP_STATUS_UNSUPPORTED);
}

}  // namespace
}  // namespace touchpoint::callcenter::test
