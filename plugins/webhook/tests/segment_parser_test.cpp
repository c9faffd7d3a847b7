// Segment's wire format -> records: the mapping of every call, the batch's
// shared context, times, ids, and the errors that refuse a request.
#include "segment_parser.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>

namespace touchpoint::webhook {
namespace {

struct Parsed {
  std::optional<ParseError> error;
  ParsedBatch batch;
  std::string write_key;

  std::string id(size_t i) const { return std::string(batch.view(batch.records.at(i).id)); }
  std::string type(size_t i) const { return std::string(batch.view(batch.records.at(i).type)); }
  std::string key(size_t i) const { return std::string(batch.view(batch.records.at(i).key)); }
  std::string data(size_t i) const { return std::string(batch.view(batch.records.at(i).data)); }
  std::string meta(size_t i) const { return std::string(batch.view(batch.records.at(i).meta)); }
};

constexpr int64_t kReceived = 1'780'000'000'000;  // 2026-05-28T20:26:40Z

Parsed parse(std::string_view body, SegmentCall call = SegmentCall::batch, SegmentOptions options = {}) {
  static const std::map<std::string, std::string, std::less<>> kTypes = {{"Order Completed", "purchase"}};
  options.call = call;
  options.received_ms = kReceived;
  if (options.event_types == nullptr) options.event_types = &kTypes;
  SegmentParser parser;
  Parsed p;
  p.error = parser.parse(body, options, p.batch, p.write_key);
  return p;
}

// A member of a JSON document as minified JSON ("" when absent).
std::string member(const std::string& doc, const char* pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(doc);
  simdjson::dom::element v;
  if (root.at_pointer(pointer).get(v) != simdjson::SUCCESS) return "";
  return simdjson::minify(v);
}

TEST(SegmentCall, LongAndOneLetterEndpoints) {
  EXPECT_EQ(segment_call_of("identify"), SegmentCall::identify);
  EXPECT_EQ(segment_call_of("t"), SegmentCall::track);
  EXPECT_EQ(segment_call_of("import"), SegmentCall::batch);
  EXPECT_EQ(segment_call_of("b"), SegmentCall::batch);
  EXPECT_EQ(segment_call_of("tracks"), std::nullopt);
  EXPECT_EQ(segment_call_of(""), std::nullopt);
}

TEST(SegmentEventType, SnakeCasesAsciiAndNeverComesOutEmpty) {
  EXPECT_EQ(segment_event_type("Signed Up"), "signed_up");
  EXPECT_EQ(segment_event_type("  Order--Completed!! "), "order_completed");
  EXPECT_EQ(segment_event_type("Käufe 2026"), "k_ufe_2026");
  EXPECT_EQ(segment_event_type("✓✓✓"), "track");
  EXPECT_EQ(segment_event_type(std::string(10'000, 'A')).size(), 128u);
}

TEST(SegmentParser, IdentifyIsAProfileWithTraitsAndTheAnonymousIdAsIdentity) {
  Parsed p = parse(R"({"userId":"U-1","anonymousId":"a-1","messageId":"m-1",
                       "traits":{"email":"x@y.de","plan":"pro","external_ids":{"crm":"K-1"},"customer":"42"},
                       "timestamp":"2026-12-01T10:00:00.000Z","writeKey":"wk"})",
                   SegmentCall::identify);
  ASSERT_FALSE(p.error) << p.error->message;
  ASSERT_EQ(p.batch.records.size(), 1u);
  EXPECT_EQ(p.write_key, "wk");
  EXPECT_EQ(p.id(0), "m-1");
  EXPECT_EQ(p.type(0), "profile");
  EXPECT_EQ(p.key(0), "U-1");
  EXPECT_EQ(p.batch.records[0].ts_ms, 1'796'119'200'000);
  // A browser must not claim another system's customer id: those traits are dropped and named in meta.
  EXPECT_EQ(p.data(0), R"({"email":"x@y.de","plan":"pro","external_ids":{"web_anonymous":"a-1"}})");
  EXPECT_EQ(member(p.meta(0), "/segment/dropped_traits"), R"(["external_ids","customer"])");
  EXPECT_EQ(member(p.meta(0), "/segment/type"), R"("identify")");
  EXPECT_EQ(member(p.meta(0), "/segment/receivedAt"), std::to_string(kReceived));
}

TEST(SegmentParser, TrackMapsTheEventNameAndPromotesWhatTheStoreReads) {
  Parsed p = parse(R"({"userId":42,"event":"Order Completed","context":{"campaign":{"name":"xmas"}},
                       "properties":{"revenue":19.9,"currency":"EUR","product_id":"P-1","category":"books"}})",
                   SegmentCall::track);
  ASSERT_FALSE(p.error) << p.error->message;
  EXPECT_EQ(p.type(0), "event");
  EXPECT_EQ(p.key(0), "42");  // a numeric userId is its digits
  const std::string d = p.data(0);
  EXPECT_EQ(member(d, "/event_type"), R"("purchase")");
  EXPECT_EQ(member(d, "/event"), R"("Order Completed")");
  EXPECT_EQ(member(d, "/channel"), R"("web")");
  EXPECT_EQ(member(d, "/revenue"), "19.9");
  EXPECT_EQ(member(d, "/currency"), R"("EUR")");
  EXPECT_EQ(member(d, "/product"), R"("P-1")");
  EXPECT_EQ(member(d, "/category"), R"("books")");
  EXPECT_EQ(member(d, "/campaign"), R"("xmas")");
  EXPECT_EQ(member(d, "/properties/revenue"), "19.9");
  EXPECT_EQ(member(p.meta(0), "/segment/context/campaign/name"), R"("xmas")");

  // Values the store would refuse as names stay in properties only.
  p = parse(R"({"anonymousId":"a","event":"Viewed","properties":{"revenue":"lots","category":")" +
                std::string(300, 'c') + R"(","sku":{"n":1}}})",
            SegmentCall::track);
  ASSERT_FALSE(p.error) << p.error->message;
  EXPECT_EQ(member(p.data(0), "/event_type"), R"("viewed")");
  EXPECT_EQ(member(p.data(0), "/revenue"), "");
  EXPECT_EQ(member(p.data(0), "/category"), "");
  EXPECT_EQ(member(p.data(0), "/product"), "");
  EXPECT_EQ(member(p.data(0), "/properties/revenue"), R"("lots")");
  EXPECT_EQ(p.key(0), "");
  EXPECT_EQ(member(p.data(0), "/external_ids/web_anonymous"), R"("a")");
}

TEST(SegmentParser, PageScreenGroupAndAlias) {
  Parsed p = parse(R"({"batch":[
      {"type":"page","anonymousId":"a","name":"Home","category":"shop","properties":{"url":"https://x/","title":"T","n":1}},
      {"type":"screen","userId":"u","name":"Settings"},
      {"type":"group","userId":"u","groupId":"ACME","traits":{"plan":"b2b"}},
      {"type":"alias","userId":"u","previousId":"a"}]})");
  ASSERT_FALSE(p.error) << p.error->message;
  ASSERT_EQ(p.batch.records.size(), 4u);
  EXPECT_EQ(p.type(0), "event");
  EXPECT_EQ(member(p.data(0), "/event_type"), R"("web_visit")");
  EXPECT_EQ(member(p.data(0), "/page"), R"("Home")");
  EXPECT_EQ(member(p.data(0), "/category"), R"("shop")");
  EXPECT_EQ(member(p.data(0), "/url"), R"("https://x/")");
  EXPECT_EQ(member(p.data(0), "/properties/n"), "1");
  EXPECT_EQ(member(p.data(1), "/screen"), R"("Settings")");
  EXPECT_EQ(member(p.data(1), "/event_type"), R"("web_visit")");
  EXPECT_EQ(p.type(2), "group");
  EXPECT_EQ(p.data(2), R"({"group_id":"ACME","traits":{"plan":"b2b"}})");
  // alias links the previous (anonymous) id to the user.
  EXPECT_EQ(p.type(3), "profile");
  EXPECT_EQ(p.key(3), "u");
  EXPECT_EQ(p.data(3), R"({"external_ids":{"web_anonymous":"a"}})");
}

TEST(SegmentParser, TheBatchContextFillsInWhatAMessageLacks) {
  Parsed p = parse(R"({"batch":[{"type":"track","userId":"u","event":"e","context":{"ip":"1.2.3.4","locale":"de"}},
                                {"type":"track","userId":"u","event":"e"}],
                       "context":{"library":{"name":"lib"},"locale":"en"},"integrations":{"All":false}})");
  ASSERT_FALSE(p.error) << p.error->message;
  EXPECT_EQ(member(p.meta(0), "/segment/context"), R"({"ip":"1.2.3.4","locale":"de","library":{"name":"lib"}})");
  EXPECT_EQ(member(p.meta(1), "/segment/context"), R"({"library":{"name":"lib"},"locale":"en"})");
  EXPECT_EQ(member(p.meta(1), "/segment/integrations"), R"({"All":false})");
}

TEST(SegmentParser, TimesCorrectTheClientsClockSkew) {
  // No timestamp: originalTimestamp, shifted by how far sentAt is from our clock.
  Parsed p = parse(R"({"batch":[{"type":"track","userId":"u","event":"e","originalTimestamp":"2026-05-28T20:26:30Z"}],
                       "sentAt":"2026-05-28T20:26:35Z"})");
  ASSERT_FALSE(p.error) << p.error->message;
  EXPECT_EQ(p.batch.records[0].ts_ms, kReceived - 5000);
  p = parse(R"({"userId":"u","event":"e"})", SegmentCall::track);
  EXPECT_EQ(p.batch.records[0].ts_ms, kReceived);
}

TEST(SegmentParser, MessagesWithoutIdsGetTheSameIdsWhenTheBodyIsRetried) {
  const std::string body =
      R"({"batch":[{"type":"track","userId":"u","event":"a"},{"type":"track","userId":"u","event":"b"}]})";
  Parsed a = parse(body), b = parse(body);
  ASSERT_FALSE(a.error);
  EXPECT_EQ(a.id(0), b.id(0));
  EXPECT_NE(a.id(0), a.id(1));
  EXPECT_EQ(a.id(1).substr(a.id(1).size() - 2), ":1");
}

TEST(SegmentParser, BadMessagesRefuseTheRequestAndSayWhich) {
  auto error_of = [](std::string_view body, SegmentCall call = SegmentCall::batch) {
    Parsed p = parse(body, call);
    return p.error ? p.error->message : std::string("(accepted)");
  };
  EXPECT_EQ(error_of(R"({"batch":[{"type":"track","userId":"u","event":"e"},{"type":"track","event":"e"}]})"),
            "batch[1] needs a userId or an anonymousId");
  EXPECT_EQ(error_of(R"({"batch":[{"type":"b","userId":"u"}]})"),
            "batch[0].type must be identify, track, page, screen, group or alias, not 'b'");
  EXPECT_EQ(error_of(R"({"batch":[7]})"), "batch[0] is not a JSON object");
  EXPECT_EQ(error_of(R"({"userId":["u"],"event":"e"})", SegmentCall::track), "track.userId must be a string");
  EXPECT_EQ(error_of(R"({"userId":"u","event":""})", SegmentCall::track),
            "track.event must be a non-empty string (the event's name)");
  EXPECT_EQ(error_of(R"({"userId":"u","traits":[1]})", SegmentCall::identify), "identify.traits must be an object");
  EXPECT_EQ(error_of(R"({"userId":"u","timestamp":1700000000})", SegmentCall::identify),
            "identify.timestamp must be an ISO 8601 date-time string");
  EXPECT_EQ(error_of(R"({"userId":"u"})", SegmentCall::alias),
            "alias.previousId must be a non-empty string of at most 1024 bytes");
  EXPECT_EQ(error_of(R"({"userId":"u"})", SegmentCall::group),
            "group.groupId must be a non-empty string of at most 1024 bytes");
  EXPECT_EQ(error_of(R"({"batch":"x"})"), "a batch body needs \"batch\": an array of messages");
  EXPECT_EQ(error_of(R"([1,2])"), "the body must be a JSON object");
  EXPECT_EQ(error_of(R"({"writeKey":5,"batch":[]})"), "writeKey must be a string");
  EXPECT_NE(error_of(R"({"batch":[)").find("malformed JSON"), std::string::npos);
  EXPECT_EQ(error_of(R"({"batch":[]})"), "(accepted)");
}

TEST(SegmentParser, HostileValuesAreRefusedOrKeptWhole) {
  // A 5-million-digit phone number in the traits: kept intact when the message limit allows it.
  const std::string digits(5'000'000, '9');
  SegmentOptions roomy;
  roomy.max_message_bytes = 8 * 1024 * 1024;
  Parsed p = parse(R"({"userId":"u","traits":{"phone":")" + digits + "\"}}", SegmentCall::identify, roomy);
  ASSERT_FALSE(p.error) << p.error->message;
  EXPECT_EQ(member(p.data(0), "/phone").size(), digits.size() + 2);
  // With the default (Segment's 32 KB) it is refused, naming the limit.
  p = parse(R"({"userId":"u","traits":{"phone":")" + digits + "\"}}", SegmentCall::identify);
  ASSERT_TRUE(p.error);
  EXPECT_NE(p.error->message.find("max_message_bytes"), std::string::npos) << p.error->message;
  // Ids over the host's limits.
  p = parse(R"({"userId":")" + std::string(2000, 'u') + R"(","event":"e"})", SegmentCall::track);
  ASSERT_TRUE(p.error);
  EXPECT_EQ(p.error->message, "track.userId is 2000 bytes; at most 1024 are accepted");
  p = parse(R"({"userId":"u","event":"e","messageId":")" + std::string(300, 'm') + "\"}", SegmentCall::track);
  ASSERT_TRUE(p.error);
  EXPECT_EQ(p.error->message, "track.messageId is 300 bytes; at most 256 are accepted");
  // Escapes, emoji and quotes in names and keys come out as valid JSON.
  p = parse(R"({"userId":"u\"\\\n😀","event":"A \"quoted\" \u0000 name 😀","properties":{"k\"ey":"v"}})",
            SegmentCall::track);
  ASSERT_FALSE(p.error) << p.error->message;
  EXPECT_EQ(p.key(0), "u\"\\\n😀");
  EXPECT_EQ(member(p.data(0), "/event_type"), R"("a_quoted_name")");
  EXPECT_EQ(member(p.data(0), "/event"), R"("A \"quoted\" \u0000 name 😀")");
  // Too many messages for one request.
  SegmentOptions few;
  few.max_records = 2;
  p = parse(R"({"batch":[{"type":"track","userId":"u","event":"e"},{"type":"track","userId":"u","event":"e"},
                          {"type":"track","userId":"u","event":"e"}]})",
            SegmentCall::batch, few);
  ASSERT_TRUE(p.error);
  EXPECT_EQ(p.error->message, "too many messages in one request (max 2)");
}

}  // namespace
}  // namespace touchpoint::webhook
