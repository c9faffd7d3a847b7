// Intake: mailbox reader + parser -> units of response records and rejects.
#include "intake.hpp"

#include <mutex>

#include "imap.hpp"
#include "maildir.hpp"

namespace tp_email::intake {

namespace {

touchpoint::Reject reject_of(const MailItem& item, std::string reason) {
  touchpoint::Reject r;
  r.raw = item.bytes.substr(0, kMaxRawBytes);
  if (item.size > r.raw.size())
    reason += " (raw holds the first " + std::to_string(r.raw.size()) + " of " + std::to_string(item.size) + " bytes)";
  r.reason = std::move(reason);
  r.location = item.location;
  return r;
}

}  // namespace

Intake::Intake(IntakeConfig cfg, std::string unsubscribe_secret)
    : cfg_(std::move(cfg)), secret_(std::move(unsubscribe_secret)) {
  if (cfg_.maildir)
    reader_ = std::make_unique<MaildirReader>(*cfg_.maildir, cfg_.max_message_bytes);
  else if (cfg_.imap)
    reader_ = std::make_unique<ImapReader>(*cfg_.imap, cfg_.max_message_bytes);
  else
    throw std::invalid_argument("intake: needs exactly one of maildir and imap");
}

Intake::~Intake() = default;

std::optional<Intake::Unit> Intake::poll() {
  std::lock_guard<std::mutex> lock(mutex_);
  MailBatch batch = reader_->fetch(cfg_.max_per_poll);
  if (batch.items.empty()) return std::nullopt;
  Unit unit;
  unit.cursor = std::move(batch.cursor);
  ParseLimits limits;
  limits.max_recipients = cfg_.max_recipients;
  for (const MailItem& item : batch.items) {
    if (item.oversize) {
      unit.rejects.push_back(reject_of(item, "message larger than intake.max_message_bytes (" +
                                                 std::to_string(cfg_.max_message_bytes) +
                                                 "); not parsed, moved aside on commit"));
      continue;
    }
    ParseResult parsed = parse_report(item.bytes, limits);
    if (!parsed.ok()) {
      unit.rejects.push_back(reject_of(item, "not a usable bounce or complaint report: " + parsed.error));
      continue;
    }
    for (const Response& r : parsed.responses) unit.records.push_back(to_record(r));
    // Recipients over the limit are not silently lost: the report goes to the dead letters too.
    if (!parsed.notice.empty()) unit.rejects.push_back(reject_of(item, "partly read: " + parsed.notice));
  }
  return unit;
}

void Intake::commit(std::string_view cursor) {
  std::lock_guard<std::mutex> lock(mutex_);
  reader_->commit(cursor);
}

void Intake::release(std::string_view cursor) {
  std::lock_guard<std::mutex> lock(mutex_);
  reader_->release(cursor);
}

}  // namespace tp_email::intake
