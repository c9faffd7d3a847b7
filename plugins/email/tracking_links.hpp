// Rewrites the links of a rendered HTML part for click tracking and adds the
// open pixel. Not an HTML parser: it finds <a ...> start tags, reads their
// attributes as the HTML5 tokenizer does (quoted, single-quoted, unquoted),
// and replaces the href value only; every other byte of the template stays
// as it was. A tag that does not end, or an href that does not decode, is
// left untouched.
#ifndef TP_EMAIL_TRACKING_LINKS_HPP
#define TP_EMAIL_TRACKING_LINKS_HPP

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tp_email {

/// Character references in an attribute value decoded: &amp; &lt; &gt;
/// &quot; &apos; and numeric ones (&#233; &#xE9;) to UTF-8. Anything else
/// (a named reference not in that list, one without ';') makes it nullopt:
/// such a link is not rewritten.
std::optional<std::string> decode_attribute(std::string_view value);

/// Gets the decoded, trimmed href of every <a> without a data-tp-notrack
/// attribute; when it returns a URL, that replaces the href (written
/// double-quoted, with & and " escaped). Returns the new HTML; `rewritten`
/// counts the replaced links.
std::string rewrite_links(std::string_view html,
                          const std::function<std::optional<std::string>(const std::string& url)>& replacement,
                          std::size_t& rewritten);

/// `tag` inserted before the last </body> (any case), or appended when there is none.
std::string insert_before_body_end(std::string html, std::string_view tag);

}  // namespace tp_email

#endif  // TP_EMAIL_TRACKING_LINKS_HPP
