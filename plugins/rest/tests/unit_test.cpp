// The rest connector's parts without a server: templates, configuration
// errors, Link headers, stamps and the checkpoint's encoding.
#include <gtest/gtest.h>

#include <touchpoint/plugin.hpp>

#include "http_client.hpp"
#include "json_template.hpp"
#include "rest_config.hpp"
#include "rest_sync.hpp"

namespace touchpoint::rest {
namespace {

Json minimal_read() { return {{"base_url", "http://127.0.0.1:1"}, {"read", {{"path", "/items"}, {"id", "/id"}}}}; }

std::string config_error(const Json& config) {
  try {
    (void)parse_config(config.dump());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(RestTemplate, ASinglePlaceholderKeepsTheTypeAndAMissingValueIsLeftOut) {
  const Json subject = {{"id", 7}, {"props", {{"email", "a@example.de"}, {"tags", {"x", "y"}}}}};
  JsonTemplate t(Json{{"id", "{{/id}}"},
                      {"email", "{{/props/email}}"},
                      {"tags", "{{/props/tags}}"},
                      {"phone", "{{/props/phone}}"},
                      {"label", "contact {{/id}} <{{/props/email}}>"},
                      {"list", {"{{/id}}", "{{/nope}}", "fixed"}}});
  TemplateContext ctx;
  ctx.subject = &subject;
  const Json out = t.render(ctx);
  EXPECT_EQ(out["id"], 7);
  EXPECT_EQ(out["email"], "a@example.de");
  EXPECT_EQ(out["tags"], Json({"x", "y"}));
  EXPECT_FALSE(out.contains("phone")) << out.dump();
  EXPECT_EQ(out["label"], "contact 7 <a@example.de>");
  EXPECT_EQ(out["list"], Json({7, "fixed"}));
}

TEST(RestTemplate, HostileValuesStayDataAndPathsAreEncoded) {
  const Json subject = {{"id", "../../admin?x=1#"}, {"name", "\"}, \"admin\": true, {\""}};
  TemplateContext ctx;
  ctx.subject = &subject;
  const Json body = JsonTemplate(Json{{"name", "{{/name}}"}, {"greeting", "Hallo {{/name}}"}}).render(ctx);
  EXPECT_EQ(body.size(), 2u);
  EXPECT_EQ(body["name"], subject["name"]);
  EXPECT_FALSE(body.contains("admin"));
  EXPECT_EQ(TextTemplate("/contacts/{{/id}}").render(ctx, url_encode), "/contacts/..%2F..%2Fadmin%3Fx%3D1%23");
  EXPECT_THROW((void)TextTemplate("/contacts/{{/missing}}").render(ctx, url_encode), TemplateError);
  const std::string huge(5'000'000, '9');
  const Json big = {{"phone", huge}};
  ctx.subject = &big;
  EXPECT_EQ(JsonTemplate(Json{{"p", "{{/phone}}"}}).render(ctx)["p"].get<std::string>().size(), huge.size());
}

TEST(RestTemplate, MalformedTemplatesAreRefusedWhenMade) {
  EXPECT_THROW(TextTemplate("/x/{{/id"), TemplateError);
  EXPECT_THROW(TextTemplate("/x/{{}}"), TemplateError);
  EXPECT_THROW(TextTemplate("{{nope}}", {"cursor"}), TemplateError);
  EXPECT_THROW(TextTemplate("{{/a~2b}}"), TemplateError) << "~2 is no escape in a JSON pointer";
  EXPECT_NO_THROW(TextTemplate("{{ cursor }}", {"cursor"}));
}

TEST(RestConfig, MistakesAreNamedByTheirKey) {
  EXPECT_EQ(config_error(minimal_read()), "");
  Json c = minimal_read();
  c["base_url"] = "ftp://x";
  EXPECT_NE(config_error(c).find("base_url"), std::string::npos);
  c = minimal_read();
  c["read"]["pagination"] = {{"type", "sideways"}};
  EXPECT_NE(config_error(c).find("read.pagination.type"), std::string::npos) << config_error(c);
  c = minimal_read();
  c["read"]["query"] = {{"since", "{{cursr}}"}};
  EXPECT_NE(config_error(c).find("read.query.since: unknown placeholder {{cursr}}"), std::string::npos)
      << config_error(c);
  c = minimal_read();
  c["auth"] = {{"type", "oauth2_client_credentials"}, {"client_id", "x"}, {"client_secret", "y"}};
  EXPECT_NE(config_error(c).find("auth.token_url: is required"), std::string::npos) << config_error(c);
  c = minimal_read();
  c["read"]["cursor"] = {{"field", "/updatedAt"}};
  EXPECT_NE(config_error(c).find("read.cursor.start"), std::string::npos) << config_error(c);
  c = minimal_read();
  c["read"]["records"] = "results";
  EXPECT_NE(config_error(c).find("read.records: must be a JSON pointer"), std::string::npos) << config_error(c);
  c = minimal_read();
  c["auth"] = {{"type", "bearer"}, {"token", "a\r\nX-Evil: 1"}};
  EXPECT_NE(config_error(c).find("on one line"), std::string::npos) << config_error(c);
  c = minimal_read();
  c["headers"] = {{"X-Ok", "fine"}, {"Bad Header", "x"}};
  EXPECT_NE(config_error(c).find("headers.Bad Header"), std::string::npos) << config_error(c);
  EXPECT_NE(config_error(Json{{"base_url", "http://x"}}).find("needs read"), std::string::npos);
  c = minimal_read();
  c["requests_per_second"] = "2.5";  // from ${env:...}
  EXPECT_EQ(parse_config(c.dump()).requests_per_second, 2.5);
  c = minimal_read();
  c["read"]["method"] = "GET";
  c["read"]["body"] = {{"a", 1}};
  EXPECT_NE(config_error(c).find("read.body: a GET request has no body"), std::string::npos) << config_error(c);
}

TEST(RestHttp, LinkHeadersAndOrigins) {
  EXPECT_EQ(
      link_next(
          R"(<https://api.example.com/items?page=3>; rel="next", <https://api.example.com/items?page=9>; rel="last")"),
      "https://api.example.com/items?page=3");
  EXPECT_EQ(link_next(R"(<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel=next)"), "https://a/x?page=3");
  EXPECT_EQ(link_next(R"(<https://a/x?page=9>; rel="last")"), "");
  EXPECT_EQ(link_next("garbage <unclosed"), "");
  EXPECT_TRUE(same_origin("http://127.0.0.1:80/a?b", "HTTP://127.0.0.1:80/base"));
  EXPECT_FALSE(same_origin("http://127.0.0.1:81/a", "http://127.0.0.1:80"));
  EXPECT_FALSE(same_origin("http://127.0.0.1:80.evil.example/a", "http://127.0.0.1:80"));
  EXPECT_EQ(url_encode("a b/ü"), "a%20b%2F%C3%BC");
}

TEST(RestSyncState, StampsCompareByTypeAndTheStateRoundTrips) {
  EXPECT_LT(compare_stamps(Json(9), Json(10)), 0) << "numbers by value, not by their text";
  EXPECT_LT(compare_stamps(Json("2026-01-02T00:00:00Z"), Json("2026-01-10T00:00:00Z")), 0);
  EXPECT_EQ(compare_stamps(Json("x"), Json("x")), 0);
  SyncState s;
  s.lower = "2026-12-03T10:00:00.000Z";
  s.boundary = {"1", "2"};
  s.high = "2026-12-03T11:00:00.000Z";
  s.at_high = {"3"};
  s.in_sweep = true;
  s.page = {{"next", "abc"}};
  s.pages = 4;
  const std::optional<SyncState> back = decode_state(encode_state(s));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, s);
  EXPECT_FALSE(decode_state("{\"v\":2}").has_value());
  EXPECT_FALSE(decode_state("not json").has_value());
  EXPECT_FALSE(decode_state(R"({"v":1,"lower":null})").has_value());
}

}  // namespace
}  // namespace touchpoint::rest
