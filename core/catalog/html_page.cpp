// Markdown to HTML with cmark-gfm (Debian's libcmark-gfm), tables included.
#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "catalog/interface_doc.hpp"

namespace touchpoint::core::catalog {
namespace {

struct ParserDeleter {
  void operator()(cmark_parser* p) const noexcept { cmark_parser_free(p); }
};
struct NodeDeleter {
  void operator()(cmark_node* n) const noexcept { cmark_node_free(n); }
};

std::string escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

constexpr const char* kStyle =
    "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}"
    "table{border-collapse:collapse;margin:.5rem 0 1rem;display:block;overflow-x:auto}"
    "th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}code{background:#f6f6f6;padding:0 .2rem;border-radius:3px}"
    "blockquote{border-left:4px solid #e0a000;margin:0;padding:.2rem .8rem;background:#fff8e5}"
    "h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}";

}  // namespace

std::string html_page(const std::string& markdown, const std::string& title) {
  cmark_gfm_core_extensions_ensure_registered();
  // CMARK_OPT_DEFAULT is safe: raw HTML and javascript: links are not passed through.
  std::unique_ptr<cmark_parser, ParserDeleter> parser(cmark_parser_new(CMARK_OPT_DEFAULT));
  if (!parser) throw std::bad_alloc();
  if (cmark_syntax_extension* table = cmark_find_syntax_extension("table"))
    cmark_parser_attach_syntax_extension(parser.get(), table);
  cmark_parser_feed(parser.get(), markdown.data(), markdown.size());
  std::unique_ptr<cmark_node, NodeDeleter> doc(cmark_parser_finish(parser.get()));
  if (!doc) throw std::runtime_error("cmark-gfm could not parse the generated Markdown");
  char* body = cmark_render_html(doc.get(), CMARK_OPT_DEFAULT, cmark_parser_get_syntax_extensions(parser.get()));
  if (body == nullptr) throw std::bad_alloc();
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>" +
      escaped(title) + "</title><style>" + kStyle + "</style></head><body>\n";
  out += body;
  out += "</body></html>\n";
  std::free(body);
  return out;
}

}  // namespace touchpoint::core::catalog
