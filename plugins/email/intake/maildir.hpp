// Maildir reader: new/ and the cur/ files without the S flag, in name order.
// commit moves them to cur/ with the S flag (oversize ones to oversize/).
#ifndef TP_EMAIL_INTAKE_MAILDIR_HPP
#define TP_EMAIL_INTAKE_MAILDIR_HPP

#include <filesystem>
#include <set>
#include <string>

#include "mailbox.hpp"

namespace tp_email::intake {

class MaildirReader final : public MailboxReader {
 public:
  MaildirReader(std::filesystem::path dir, std::size_t max_message_bytes);
  MailBatch fetch(std::size_t max_items) override;
  void commit(std::string_view cursor) override;
  void release(std::string_view cursor) override;

  /// "cur/NAME:2,S" for "new/NAME" and "cur/NAME:2,R" alike; exposed for tests.
  static std::string seen_name(std::string_view name);

 private:
  std::filesystem::path dir_;
  std::size_t max_message_bytes_;
  std::set<std::string> in_flight_;  // "new/NAME", "cur/NAME"
};

}  // namespace tp_email::intake

#endif
