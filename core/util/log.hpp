#pragma once
// Structured log lines on stderr (journald picks them up under systemd).
// Every message passes through mask_pii: e-mail addresses and phone-like
// digit runs never reach the log in clear text. A message is cut after
// kMaxMessageBytes, so one huge value cannot make logging expensive.

#include <cstddef>
#include <string>
#include <string_view>

namespace touchpoint::core::log {

enum class Level { trace = 0, debug = 1, info = 2, warn = 3, error = 4 };

void set_level(Level level);
Level level();
bool parse_level(std::string_view name, Level& out);
bool enabled(Level level);

/// The longest message written whole. A longer one is cut at a UTF-8
/// character boundary at or before this, and before any e-mail address,
/// IBAN or number the cut would split (backing up at most 256 bytes), and
/// ends with " [... <n> more bytes not logged]".
inline constexpr std::size_t kMaxMessageBytes = 16 * 1024;

/// Writes `level=<l> component=<c> msg="<masked message>"`. Thread-safe.
void write(Level level, std::string_view component, std::string_view message);

inline void trace(std::string_view c, std::string_view m) { write(Level::trace, c, m); }
inline void debug(std::string_view c, std::string_view m) { write(Level::debug, c, m); }
inline void info(std::string_view c, std::string_view m) { write(Level::info, c, m); }
inline void warn(std::string_view c, std::string_view m) { write(Level::warn, c, m); }
inline void error(std::string_view c, std::string_view m) { write(Level::error, c, m); }

/// "jane.doe@example.com" -> "j***@example.com"; "+49 170 1234567" -> "***67";
/// "DE89 3704 0044 0532 0130 00" -> "DE***00". Linear in the text's length.
std::string mask_pii(std::string_view text);

}  // namespace touchpoint::core::log
