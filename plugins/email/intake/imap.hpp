// IMAP reader (libcurl). Messages are found with
//   UID SEARCH UNKEYWORD TouchpointProcessed
// and not with UNSEEN: libcurl 7.88 downloads a message only through
// `UID FETCH n BODY[]`, which sets \Seen at once (a custom BODY.PEEK[] FETCH
// returns only its first line), so \Seen cannot mean "durable in the hub".
// commit sets \Seen and the keyword, or moves the messages to `move_to`.
#ifndef TP_EMAIL_INTAKE_IMAP_HPP
#define TP_EMAIL_INTAKE_IMAP_HPP

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "intake.hpp"
#include "mailbox.hpp"

namespace tp_email::intake {

inline constexpr std::string_view kProcessedKeyword = "TouchpointProcessed";

class ImapReader final : public MailboxReader {
 public:
  ImapReader(ImapConfig cfg, std::size_t max_message_bytes);
  ~ImapReader() override;
  MailBatch fetch(std::size_t max_items) override;
  void commit(std::string_view cursor) override;
  void release(std::string_view cursor) override;

 private:
  struct Curl;
  /// Runs one request; returns what the server sent as body. Throws RetryableError.
  std::string run(const std::string& url, const std::string& custom, std::size_t limit, bool* truncated);
  std::uint64_t uidvalidity();

  ImapConfig cfg_;
  std::size_t max_message_bytes_;
  std::string server_url_;  // imap://host:port/
  std::string mailbox_;     // decoded mailbox name
  std::unique_ptr<Curl> curl_;
  std::uint64_t validity_ = 0;
  std::set<std::uint64_t> in_flight_;
};

}  // namespace tp_email::intake

#endif
