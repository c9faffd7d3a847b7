#pragma once
// Putting arbitrary config text into Markdown safely: values from pipeline
// files become code spans or escaped text, never markup of their own.

#include <string>
#include <string_view>

namespace touchpoint::core::catalog {

/// Longer values are cut here (with "…") so that one huge option cannot
/// swamp the document.
inline constexpr size_t kMaxShownChars = 300;

/// Plain text with Markdown's punctuation escaped; for table cells too.
std::string text(std::string_view s);
/// A code span that holds `s` literally (fenced with more backticks than `s` contains).
std::string code(std::string_view s);

}  // namespace touchpoint::core::catalog
