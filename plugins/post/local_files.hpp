// Local file operations with the crash guarantees the README promises.
#ifndef TOUCHPOINT_POST_LOCAL_FILES_HPP
#define TOUCHPOINT_POST_LOCAL_FILES_HPP

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace touchpoint::post {

/// Writes `content` to dir/name atomically: a hidden temporary name (".name.part"), fsync,
/// rename (refusing to replace an existing file), fsync of the directory. `sync` = false skips
/// the two fsyncs. Throws std::system_error (with the path) on failure.
void write_atomic(const std::string& dir, const std::string& name, std::string_view content, bool sync);

/// True when dir/name exists.
bool file_exists(const std::string& dir, const std::string& name);

/// Creates dir with its parents. Throws std::system_error.
void make_dirs(const std::string& dir);

/// The names of the regular files in `dir`, sorted. Throws std::system_error.
std::vector<std::string> list_files(const std::string& dir);

/// Reads dir/name whole; false (and the reason) when it cannot be read or is larger than `max`.
bool read_file(const std::string& path, uint64_t max, std::string& out, std::string& error, bool& too_large);

/// Moves dir/name to dir/done/name (or name.<ms> when that exists), fsyncing both dirs.
/// Returns the new path; throws std::system_error.
std::string move_to_done(const std::string& dir, const std::string& name);

}  // namespace touchpoint::post

#endif  // TOUCHPOINT_POST_LOCAL_FILES_HPP
