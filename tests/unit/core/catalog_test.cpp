// core/catalog: config text put into the generated documentation stays text,
// however odd or hostile; secrets never appear; the HTML is cmark-gfm's.
#include <gtest/gtest.h>

#include <string>

#include "catalog/interface_doc.hpp"
#include "catalog/markdown_text.hpp"

namespace touchpoint::core::catalog {
namespace {

TEST(CatalogText, EscapesMarkupButKeepsPlainText) {
  EXPECT_EQ(text("web sign-ups, 2 steps"), "web sign-ups, 2 steps");
  EXPECT_EQ(text("<b>x</b> | *y* _z_ [l](u) `c`"), "\\<b\\>x\\</b\\> \\| \\*y\\* \\_z\\_ \\[l\\](u) \\`c\\`");
  // Block markup only counts where a line starts.
  EXPECT_EQ(text("# title"), "\\# title");
  EXPECT_EQ(text("- item"), "\\- item");
  EXPECT_EQ(text("12. item"), "12\\. item");
  EXPECT_EQ(text("version 1.2"), "version 1.2");
  // A line break would end a table row.
  EXPECT_EQ(text("a\nb\r\nc"), "a b  c");
}

TEST(CatalogText, CodeSpansHoldAnyTextLiterally) {
  EXPECT_EQ(code("email"), "`email`");
  EXPECT_EQ(code("a`b"), "``a`b``");
  EXPECT_EQ(code("`x`"), "`` `x` ``");
  EXPECT_EQ(code("a|b"), "`a\\|b`");
  EXPECT_EQ(code(""), "` `");
}

TEST(CatalogText, HugeValuesAreCutAtACharacterBoundary) {
  const std::string digits(5'000'000, '7');
  const std::string shown = text(digits);
  EXPECT_EQ(shown, std::string(kMaxShownChars, '7') + "…");
  std::string umlauts;
  for (int i = 0; i < 400; ++i) umlauts += "ä";  // two bytes each: the cut must not split one
  const std::string cut = code(umlauts);
  const std::string body = cut.substr(1, cut.size() - 1 - std::string("…`").size());
  EXPECT_EQ(body.size() % 2, 0u) << cut;
  EXPECT_LE(body.size(), kMaxShownChars);
}

TEST(CatalogRedaction, SecretsAreHiddenAtAnyDepth) {
  PluginUse use;
  use.config = Json::parse(R"({"listen":"127.0.0.1:1","secret":"whsec_abc","auth":{"password":"p","user":"u"},
                               "apiKey":"k","api_key":"k2","tokens":[{"token":"t"}],"plain":"x","verify":true})");
  use.config["listen"] = "resolved-from-env";
  use.secret_refs = {"listen"};
  Json r = redacted_config(use);
  EXPECT_EQ(r["listen"], "(secret)");
  EXPECT_EQ(r["secret"], "(secret)");
  EXPECT_EQ(r["auth"]["password"], "(secret)");
  EXPECT_EQ(r["auth"]["user"], "u");
  EXPECT_EQ(r["api_key"], "(secret)");
  EXPECT_EQ(r["tokens"], "(secret)");
  EXPECT_EQ(r["plain"], "x");
  EXPECT_EQ(r["verify"], true);
  EXPECT_EQ(r.dump().find("whsec_"), std::string::npos);
}

TEST(CatalogHtml, RendersTablesAndNeverPassesRawHtml) {
  const std::string page = html_page(
      "# T\n\n| a | b |\n|---|---|\n| `x` | <script>alert(1)</script> |\n\n<img src=x onerror=alert(1)>\n\n"
      "[link](javascript:alert(1))\n",
      "title <&>");
  EXPECT_NE(page.find("<title>title &lt;&amp;&gt;</title>"), std::string::npos) << page;
  EXPECT_NE(page.find("<table>"), std::string::npos) << page;
  EXPECT_NE(page.find("<td><code>x</code></td>"), std::string::npos) << page;
  EXPECT_EQ(page.find("<script>"), std::string::npos) << page;
  EXPECT_EQ(page.find("<img"), std::string::npos) << page;
  EXPECT_EQ(page.find("javascript:"), std::string::npos) << page;
}

}  // namespace
}  // namespace touchpoint::core::catalog
