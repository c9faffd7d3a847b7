// `touchpoint docs`: the interface documentation generated from the
// configuration, in its three forms, with secrets hidden and hostile text
// kept inert.
#include "support.hpp"

namespace tp_it {
namespace {
namespace fs = std::filesystem;

class DocsTest : public HubTest {
 protected:
  void SetUp() override {
    HubTest::SetUp();
    write_file(root_ / "webhook.secret", "whsec_c3VwZXJzZWNyZXRrZXl2YWx1ZTEyMzQ1Ng==");
    std::string customer = "customer:\n  rulebook: ";
    customer += TP_SOURCE_DIR;
    customer +=
        "/config/rulebook.yaml\n"
        "  identities:\n"
        "    \"ext:crm\": { max_per_profile: 1 }\n"
        "  survivorship:\n"
        "    default: most_recent\n"
        "    rules:\n"
        "      - { attributes: [first_name, address], rule: source_priority, sources: [crm, signups] }\n";
    write_hub_config(customer);
    write_pipeline_file("signups.yaml",
                        "name: signups\n"
                        "description: \"<script>alert(1)</script> sign-ups | from the *portal*\"\n"
                        "source:\n"
                        "  plugin: webhook\n"
                        "  config:\n"
                        "    listen: 127.0.0.1:0\n"
                        "    path: /signup\n"
                        "    type: profile\n"
                        "    secret: ${file:" +
                            (root_ / "webhook.secret").string() +
                            "}\n"
                            "transforms:\n"
                            "  - normalize_email: { field: email }\n"
                            "  - rename: { mail2: alt_email }\n"
                            "  - lua: { source: 'function process(r) return r end' }\n"
                            "store: true\n");
    write_pipeline_file("letters.yaml",
                        "name: letters\n"
                        "source:\n"
                        "  plugin: post\n"
                        "  config: { returns: { dir: " +
                            (data_ / "returns").string() +
                            " } }\n"
                            "store: true\n"
                            "sinks:\n"
                            "  - name: shop\n"
                            "    plugin: post\n"
                            "    channel: post\n"
                            "    config: { target: { dir: " +
                            (data_ / "out").string() + " } }\n");
  }
};

TEST_F(DocsTest, MarkdownDescribesPipelinesStepsChannelsAndAttributeSources) {
  CommandResult r = cli({"docs"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string& md = r.out;
  EXPECT_NE(md.find("# Interfaces of this Touchpoint installation"), std::string::npos) << md;
  EXPECT_NE(md.find("| signups | `webhook` | 3 | yes | — |"), std::string::npos) << md;
  EXPECT_NE(md.find("| letters | `post` | 0 | yes | `shop (post)` |"), std::string::npos) << md;
  // Steps with the fields they read, write and remove; a script is "any field".
  EXPECT_NE(md.find("| `1:normalize_email` | `email` | `email` | — |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `2:rename` | `mail2` | `alt_email` | `mail2` |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `3:lua` | any field (a script) |"), std::string::npos) << md;
  // The secret is neither resolved nor shown; its setting is.
  EXPECT_EQ(md.find("whsec_"), std::string::npos) << md;
  EXPECT_NE(md.find("| `secret` | `(secret)` |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `path` | `/signup` |"), std::string::npos) << md;
  // Hostile description: escaped, not markup.
  EXPECT_NE(md.find("\\<script\\>alert(1)\\</script\\> sign-ups \\| from the \\*portal\\*"), std::string::npos) << md;
  // Channels: the post channel names its sink and the rules of the shipped rulebook that apply to it.
  const size_t post = md.find("### Channel post");
  ASSERT_NE(post, std::string::npos) << md;
  const std::string post_section = md.substr(post, md.find("### Channel", post + 1) - post);
  EXPECT_NE(post_section.find("**Sent by:** `letters.shop (post)`"), std::string::npos) << post_section;
  EXPECT_NE(post_section.find("| marketing consent required on every channel |"), std::string::npos) << post_section;
  const size_t email = md.find("### Channel email");
  ASSERT_NE(email, std::string::npos) << md;
  EXPECT_NE(md.find("no sink is configured for this channel", email), std::string::npos) << md;
  // Survivorship, with a source that is no pipeline of this installation.
  EXPECT_NE(md.find("| `first_name`, `address` | `source_priority` | `crm` (no such pipeline here), `signups` |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| every other attribute | `most_recent` | — |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `ext:crm` | 1 |"), std::string::npos) << md;
  // Without --discover the fields offered are not asked for.
  EXPECT_NE(md.find("not asked (run `touchpoint docs --discover`)"), std::string::npos) << md;
}

TEST_F(DocsTest, OutWritesMarkdownHtmlAndAGraphvizDiagram) {
  const fs::path out = root_ / "site";
  CommandResult r = cli({"docs", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string md = read_file(out / "interfaces.md");
  const std::string html = read_file(out / "interfaces.html");
  const std::string dot = read_file(out / "dataflow.dot");
  EXPECT_EQ(md, cli({"docs"}).out);
  // The HTML is the Markdown rendered, tables included, and the script stays text.
  EXPECT_NE(html.find("<table>"), std::string::npos) << html;
  EXPECT_NE(html.find("<td><code>1:normalize_email</code></td>"), std::string::npos) << html;
  EXPECT_EQ(html.find("<script>"), std::string::npos) << html;
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << html;
  EXPECT_EQ(html.find("whsec_"), std::string::npos);
  // The diagram: each source feeds its pipeline, the store feeds the rulebook, the rulebook the channel sink.
  EXPECT_NE(dot.find("\"source:signups\" -> \"pipeline:signups\";"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"pipeline:signups\" -> store;"), std::string::npos) << dot;
  EXPECT_NE(dot.find("store -> rulebook"), std::string::npos) << dot;
  EXPECT_NE(dot.find("rulebook -> \"sink:letters.shop\" [label=\"post\"];"), std::string::npos) << dot;
  // Graphviz (installed by scripts/install-deps.sh) accepts it and drew the SVG.
  ASSERT_TRUE(fs::exists(out / "dataflow.svg")) << r.out << r.err;
  EXPECT_NE(read_file(out / "dataflow.svg").find("<svg"), std::string::npos);
  EXPECT_EQ(cli({"docs", "--format", "dot"}).out, dot);
}

TEST_F(DocsTest, DiscoverShowsTheFieldsASourceOffersAndWhatNoStepCanRead) {
  const fs::path inbox = data_ / "inbox";
  fs::create_directories(inbox);
  write_file(inbox / "crm.csv", "Nr,Mail\n1,a@example.de\n");
  write_pipeline_file("crm.yaml",
                      "name: crm\n"
                      "source:\n"
                      "  plugin: csv\n"
                      "  config: { inbox: " +
                          inbox.string() +
                          ", columns: { Nr: customer_id, Mail: email }, only_mapped: true }\n"
                          "transforms:\n"
                          "  - normalize_phone: { field: phone, default_region: DE }\n"
                          "store: true\n");
  CommandResult r = cli({"docs", "--discover"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("**Fields offered** (discover): `customer_id`, `email`"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("> ⚠ "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reads 'phone', which the source does not offer"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the source lists none"), std::string::npos) << r.out;  // the webhook
  EXPECT_TRUE(fs::exists(inbox / "crm.csv"));                                  // read, not imported
}

TEST_F(DocsTest, InvalidConfigOrUsageExitsTwo) {
  EXPECT_EQ(cli({"docs", "--format", "pdf"}).exit_code, 2);
  write_pipeline_file("bad.yaml", "name: bad\nsource: { plugin: nosuch }\n");
  CommandResult r = cli({"docs"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("plugin 'nosuch' not found"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace tp_it
