#include "journal/journal_reader.hpp"

#include <stdexcept>

namespace touchpoint::core::journal {

JournalReader::JournalReader(const Journal& journal, uint64_t after_seq) : journal_(journal), seq_(after_seq) {}

bool JournalReader::open_segment_after(uint64_t seq) {
  // The segment holding seq+1 is the last one whose first_seq <= seq+1; if
  // entries were released, the oldest remaining segment.
  auto segs = journal_.segments();
  if (segs.empty()) return false;
  const SegmentInfo* pick = &segs.front();
  for (const auto& s : segs)
    if (s.first_seq <= seq + 1) pick = &s;
  if (scanner_ && pick->first_seq == segment_first_) return true;
  scanner_ = std::make_unique<SegmentScanner>(pick->path);
  segment_first_ = pick->first_seq;
  return true;
}

bool JournalReader::next() {
  uint64_t durable = journal_.durable_seq();
  if (durable <= seq_) return false;
  if (!scanner_ && !open_segment_after(seq_)) return false;
  for (;;) {
    SegmentScanner::Status st = scanner_->next(durable);
    if (st == SegmentScanner::Status::frame) {
      if (scanner_->seq() <= seq_) continue;  // before our start position
      seq_ = scanner_->seq();
      return true;
    }
    if (st == SegmentScanner::Status::corrupt)
      throw std::runtime_error("journal segment corrupt at runtime: " + scanner_->reason());
    // End of this segment's durable part: move on only if a later segment exists.
    auto segs = journal_.segments();
    const SegmentInfo* later = nullptr;
    for (const auto& s : segs)
      if (s.first_seq > segment_first_) {
        later = &s;
        break;
      }
    if (later == nullptr || later->first_seq > durable) return false;
    if (st == SegmentScanner::Status::torn)
      throw std::runtime_error("journal segment torn below a later segment: " + scanner_->reason());
    scanner_ = std::make_unique<SegmentScanner>(later->path);
    segment_first_ = later->first_seq;
  }
}

}  // namespace touchpoint::core::journal
