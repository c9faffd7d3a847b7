// What the intake needs from a mailbox: messages not yet handed out, and a
// cursor that names them so commit() can move or flag exactly those.
#ifndef TP_EMAIL_INTAKE_MAILBOX_HPP
#define TP_EMAIL_INTAKE_MAILBOX_HPP

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tp_email::intake {

/// Bytes of a message kept in a reject's raw field (TP_MAX_REJECT_BYTES is 1 MiB).
inline constexpr std::size_t kMaxRawBytes = 256u * 1024u;
/// One poll stops reading further messages after this many bytes.
inline constexpr std::size_t kPollByteBudget = 32u * 1024u * 1024u;
/// Cursors stay below TP_MAX_CURSOR_BYTES (64 KiB).
inline constexpr std::size_t kMaxCursorBytes = 60u * 1024u;

struct MailItem {
  std::string bytes;      ///< the whole message; only its first kMaxRawBytes when oversize
  std::size_t size = 0;   ///< the message's full size
  bool oversize = false;  ///< larger than max_message_bytes: rejected unparsed, moved aside
  std::string location;   ///< where it came from, for rejects (no personal data)
};

struct MailBatch {
  std::vector<MailItem> items;
  std::string cursor;
};

class MailboxReader {
 public:
  virtual ~MailboxReader() = default;
  /// Up to max_items messages that are neither processed nor handed out and not released.
  virtual MailBatch fetch(std::size_t max_items) = 0;
  virtual void commit(std::string_view cursor) = 0;
  virtual void release(std::string_view cursor) = 0;
};

}  // namespace tp_email::intake

#endif
