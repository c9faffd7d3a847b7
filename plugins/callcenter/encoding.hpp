// Conversions between UTF-8 and Latin-1 (ISO-8859-1) with iconv, for call
// centers whose systems still read or write Latin-1 files.
#ifndef TOUCHPOINT_CALLCENTER_ENCODING_HPP
#define TOUCHPOINT_CALLCENTER_ENCODING_HPP

#include <string>
#include <string_view>

namespace touchpoint::callcenter {

/// UTF-8 -> Latin-1. Characters Latin-1 lacks are transliterated by iconv ("Ł" -> "L" or "?"),
/// so a name never makes a call impossible. Throws std::runtime_error when iconv fails.
std::string utf8_to_latin1(std::string_view utf8);

/// Latin-1 -> UTF-8 (every byte is a character, so this cannot fail on input).
std::string latin1_to_utf8(std::string_view latin1);

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_ENCODING_HPP
