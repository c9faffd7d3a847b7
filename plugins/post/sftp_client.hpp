// An SFTP client over libcurl (libssh2 in Debian 12): key authentication, the host key
// always checked against known_hosts, uploads under a temporary name renamed on success.
//
// One client holds one curl handle, so consecutive operations reuse the SSH connection.
// Every failure throws SftpError with a message naming the server and the cause; callers
// treat it as retryable (the server or network may heal).
#ifndef TOUCHPOINT_POST_SFTP_CLIENT_HPP
#define TOUCHPOINT_POST_SFTP_CLIENT_HPP

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "post_config.hpp"

namespace touchpoint::post {

struct SftpError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct RemoteFile {
  std::string name;
  uint64_t size = 0;
};

class SftpClient {
 public:
  explicit SftpClient(const SftpConfig& config);
  ~SftpClient();
  SftpClient(const SftpClient&) = delete;
  SftpClient& operator=(const SftpClient&) = delete;

  /// Uploads `content` as <dir>/<name>: written to <dir>/.<name>.part, then renamed, so the
  /// final name appears only complete. The rename fails when <name> exists.
  void upload(const std::string& name, std::string_view content);

  /// The regular files of <dir> (not recursive). Names are as the server sent them: the
  /// caller must check them before use.
  std::vector<RemoteFile> list();

  /// Downloads <dir>/<name>. Returns false when it is larger than `max` bytes.
  bool download(const std::string& name, uint64_t max, std::string& out);

  /// Moves <dir>/<name> to <dir>/done/<name> (done/ is created; <name>.<ms> when taken).
  void move_to_done(const std::string& name);

  /// Connects and lists <dir>: authentication, host key and directory in one probe.
  void probe();

 private:
  struct Transfer;
  void reset_handle();
  void perform(const std::string& what);

  SftpConfig config_;
  void* curl_ = nullptr;  // CURL*
  std::string hostkey_problem_;
  char error_[256] = {};
};

}  // namespace touchpoint::post

#endif  // TOUCHPOINT_POST_SFTP_CLIENT_HPP
