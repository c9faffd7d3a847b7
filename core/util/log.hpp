#pragma once
// Structured log lines on stderr (journald picks them up under systemd).
// Every message passes through mask_pii: e-mail addresses and phone-like
// digit runs never reach the log in clear text.

#include <string>
#include <string_view>

namespace touchpoint::core::log {

enum class Level { trace = 0, debug = 1, info = 2, warn = 3, error = 4 };

void set_level(Level level);
Level level();
bool parse_level(std::string_view name, Level& out);
bool enabled(Level level);

/// Writes `level=<l> component=<c> msg="<masked message>"`. Thread-safe.
void write(Level level, std::string_view component, std::string_view message);

inline void trace(std::string_view c, std::string_view m) { write(Level::trace, c, m); }
inline void debug(std::string_view c, std::string_view m) { write(Level::debug, c, m); }
inline void info(std::string_view c, std::string_view m) { write(Level::info, c, m); }
inline void warn(std::string_view c, std::string_view m) { write(Level::warn, c, m); }
inline void error(std::string_view c, std::string_view m) { write(Level::error, c, m); }

/// "jane.doe@example.com" -> "j***@example.com"; "+49 170 1234567" -> "***67".
std::string mask_pii(std::string_view text);

}  // namespace touchpoint::core::log
