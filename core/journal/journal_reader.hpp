#pragma once
// Reads journal entries in sequence order, across segments, never beyond
// what is durable. One reader per consumer (the store applier).

#include <cstdint>
#include <memory>
#include <string_view>

#include "journal/journal.hpp"
#include "journal/segment_scanner.hpp"

namespace touchpoint::core::journal {

class JournalReader {
 public:
  /// Positions the reader at the first entry with seq > after_seq.
  JournalReader(const Journal& journal, uint64_t after_seq);

  /// Reads the next durable entry. False when none is available yet.
  /// seq() and payload() stay valid until the next call.
  bool next();

  uint64_t seq() const noexcept { return seq_; }
  std::string_view payload() const noexcept { return scanner_->payload(); }

 private:
  bool open_segment_after(uint64_t seq);

  const Journal& journal_;
  std::unique_ptr<SegmentScanner> scanner_;
  uint64_t segment_first_ = 0;
  uint64_t seq_ = 0;  // last returned (or the start position)
};

}  // namespace touchpoint::core::journal
