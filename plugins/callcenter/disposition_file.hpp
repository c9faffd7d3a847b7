// A disposition file (CSV with a header row, or JSON lines) into response
// records and rejects, with ids that are stable for the file's content.
#ifndef TOUCHPOINT_CALLCENTER_DISPOSITION_FILE_HPP
#define TOUCHPOINT_CALLCENTER_DISPOSITION_FILE_HPP

#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "disposition.hpp"

namespace touchpoint::callcenter {

struct FileItem {
  size_t row = 0;  ///< 1-based data row (CSV) or line (JSON lines)
  bool ok = false;
  std::string id;      ///< record id (ok)
  std::string data;    ///< record data (ok)
  std::string raw;     ///< the input (reject), valid UTF-8
  std::string reason;  ///< why it was rejected
};

struct ParsedFile {
  std::vector<FileItem> items;
  std::string file_error;  ///< non-empty: nothing in the file is usable (e.g. no header)
};

/// `name` is the file's name in the inbox, `content` its bytes.
ParsedFile parse_disposition_file(std::string_view name, std::string_view content, FileFormat format,
                                  const DispositionDir& config, const OutcomeMap& outcome_map);

/// The record id prefix for a file: stable for its name and content, so a re-read after a crash
/// yields the same ids and a new file under an old name does not.
std::string file_id_prefix(std::string_view name, std::string_view content);

}  // namespace touchpoint::callcenter

#endif  // TOUCHPOINT_CALLCENTER_DISPOSITION_FILE_HPP
