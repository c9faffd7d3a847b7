// Journal segment scanner (core/journal/segment_scanner.*): the input becomes a
// segment file in a scratch directory, which is then scanned.
//
// The first input byte picks the mode:
//  - raw (even): the remaining bytes are the file. Whatever the bytes, next()
//    returns frame/end/torn/corrupt without crashing; every returned frame is
//    byte for byte what append_frame(seq, payload) writes at offset(); offsets
//    only grow; `end` comes exactly at the end of the file; `torn` only when
//    fewer bytes remain than the frame claims.
//  - built (odd): the input describes frames (some of them larger than the
//    scanner's 1 MiB buffer) and one damage (truncation, flipped bit, junk
//    after the last frame). The scanner must return exactly the intact frames
//    before the damage, then torn/corrupt as the damage implies. It also
//    exercises what JournalReader relies on: starting at a frame boundary,
//    stopping at max_seq and continuing later with a larger one, and reading
//    on after `torn`/`end` once the writer appended the rest of the file.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "journal/frame.hpp"
#include "journal/segment_scanner.hpp"

using namespace touchpoint::core::journal;
using Status = SegmentScanner::Status;

namespace {

const char* name(Status s) {
  switch (s) {
    case Status::frame:
      return "frame";
    case Status::end:
      return "end";
    case Status::torn:
      return "torn";
    case Status::corrupt:
      return "corrupt";
  }
  return "?";
}

std::string file_path() { return (touchpoint::fuzz::scratch_dir() / "segment.tpj").string(); }

void append_to(const std::string& path, std::string_view bytes) {
  FILE* f = std::fopen(path.c_str(), "ab");
  FUZZ_CHECK(f != nullptr, "cannot append to %s", path.c_str());
  FUZZ_CHECK(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size(), "short write");
  std::fclose(f);
}

void run_raw(std::string_view bytes) {
  const std::string path = file_path();
  touchpoint::fuzz::write_file(path, bytes);
  SegmentScanner scanner(path);
  uint64_t last = 0;
  for (size_t frames = 0;; ++frames) {
    FUZZ_CHECK(frames <= bytes.size() / kFrameHeaderBytes, "more frames than the file can hold");
    Status s = scanner.next();
    if (s != Status::frame) {
      FUZZ_CHECK(scanner.offset() == last, "offset moved on %s", name(s));
      const size_t left = bytes.size() - last;
      if (s == Status::end) FUZZ_CHECK(left == 0, "end with %zu bytes left", left);
      if (s == Status::torn) {
        bool short_header = left < kFrameHeaderBytes;
        bool short_payload = !short_header && left < kFrameHeaderBytes + decode_header(bytes.data() + last).length;
        FUZZ_CHECK(left > 0 && (short_header || short_payload), "torn, but %zu bytes left", left);
      }
      if (s == Status::corrupt) FUZZ_CHECK(!scanner.reason().empty(), "corrupt without a reason");
      return;
    }
    const uint64_t off = scanner.offset();
    FUZZ_CHECK(off > last && off <= bytes.size(), "offset %llu after %llu", static_cast<unsigned long long>(off),
               static_cast<unsigned long long>(last));
    std::string expect;
    append_frame(expect, scanner.seq(), scanner.payload());
    FUZZ_CHECK(off - last == expect.size() && bytes.compare(last, expect.size(), expect) == 0,
               "returned frame is not the bytes at its offset");
    last = off;
  }
}

struct Built {
  std::string file;
  std::vector<uint64_t> seq;
  std::vector<std::string> payload;
  std::vector<size_t> start;  // offset of each frame
};

void run_built(FuzzedDataProvider& fdp) {
  Built b;
  const size_t n = fdp.ConsumeIntegralInRange<size_t>(0, 6);
  uint64_t seq = fdp.ConsumeIntegral<uint32_t>();
  bool big_used = false;  // at most one big frame per file keeps executions fast
  for (size_t i = 0; i < n; ++i) {
    seq += fdp.ConsumeIntegralInRange<uint64_t>(1, 3);
    std::string payload;
    if (fdp.ConsumeIntegralInRange<int>(0, 31) == 0 && !big_used) {
      big_used = true;
      // Larger than (or close to) the scanner's 1 MiB buffer.
      size_t len = fdp.ConsumeIntegralInRange<size_t>((1u << 20) - 64, (1u << 20) + (1u << 19));
      payload.assign(len, static_cast<char>(fdp.ConsumeIntegral<uint8_t>()));
    } else {
      payload = fdp.ConsumeRandomLengthString(300);
    }
    b.start.push_back(b.file.size());
    b.seq.push_back(seq);
    append_frame(b.file, seq, payload);
    b.payload.push_back(std::move(payload));
  }
  const size_t good_size = b.file.size();
  b.start.push_back(good_size);

  enum Damage { none, truncate, flip, junk };
  auto damage = static_cast<Damage>(fdp.ConsumeIntegralInRange<int>(0, 3));
  if (good_size == 0 && (damage == truncate || damage == flip)) damage = none;
  const uint64_t where = fdp.ConsumeIntegral<uint64_t>();
  const size_t first = fdp.ConsumeIntegralInRange<size_t>(0, n);  // start at this frame boundary
  const bool use_max = fdp.ConsumeBool();
  const uint64_t max_seq = use_max && n > 0 ? b.seq[fdp.ConsumeIntegralInRange<size_t>(0, n - 1)] : UINT64_MAX;

  size_t damaged_frame = n;  // frames before it are intact
  bool cut_at_boundary = false;
  std::string file = b.file;
  auto frame_of = [&](size_t offset) {  // the frame holding byte `offset` (< good_size)
    size_t k = 0;
    while (b.start[k + 1] <= offset) ++k;
    return k;
  };
  if (damage == truncate && good_size > 0) {
    const size_t len = where % good_size;
    file.resize(len);
    damaged_frame = frame_of(len);
    cut_at_boundary = b.start[damaged_frame] == len;
  } else if (damage == flip && good_size > 0) {
    const size_t bit = where % (good_size * 8);
    file[bit / 8] = static_cast<char>(file[bit / 8] ^ (1u << (bit % 8)));
    damaged_frame = frame_of(bit / 8);
  } else if (damage == junk) {
    std::string more = fdp.ConsumeRandomLengthString(64);
    if (more.empty()) damage = none;
    file += more;
  }

  // Tailing: write a prefix first, scan to its end, append the rest, scan on.
  const bool tail = damage == none && fdp.ConsumeBool() && good_size > 0;
  const size_t prefix = tail ? static_cast<size_t>(where % good_size) : file.size();

  const std::string path = file_path();
  touchpoint::fuzz::write_file(path, std::string_view(file).substr(0, prefix));
  const size_t begin = first <= damaged_frame ? first : damaged_frame;
  SegmentScanner scanner(path, b.start[begin]);
  size_t i = begin;
  bool appended = !tail;
  uint64_t limit = max_seq;
  for (int steps = 0;; ++steps) {
    FUZZ_CHECK(steps < 64, "scanner does not terminate");
    Status s = scanner.next(limit);
    if (s == Status::frame) {
      FUZZ_CHECK(i < damaged_frame, "frame %zu returned, but it is damaged", i);
      FUZZ_CHECK(b.seq[i] <= limit, "frame with seq > max_seq returned");
      FUZZ_CHECK(scanner.seq() == b.seq[i] && scanner.payload() == b.payload[i], "frame %zu differs", i);
      FUZZ_CHECK(scanner.offset() == b.start[i + 1], "offset after frame %zu", i);
      ++i;
      continue;
    }
    FUZZ_CHECK(scanner.offset() == b.start[i], "offset on %s", name(s));
    if (!appended) {
      // What a torn or clean end of a growing file looks like to the reader.
      FUZZ_CHECK(s == Status::end || s == Status::torn, "%s on a file that is still being written", name(s));
      append_to(path, std::string_view(file).substr(prefix));
      appended = true;
      continue;
    }
    if (damage == junk && i == n) return;  // junk may be anything, even a valid frame
    if (s == Status::end && limit != UINT64_MAX && i < n &&
        (b.seq[i] > limit || (damage == flip && i == damaged_frame))) {
      // Not durable yet: the next frame's seq (possibly a flipped one) is over max_seq.
      limit = UINT64_MAX;  // the writer made more frames durable
      continue;
    }
    FUZZ_CHECK(i >= damaged_frame, "%s at intact frame %zu of %zu (damage %d)", name(s), i, n,
               static_cast<int>(damage));
    if (damage == none) FUZZ_CHECK(s == Status::end, "%s after the last frame", name(s));
    if (damage == truncate)
      FUZZ_CHECK(s == (cut_at_boundary ? Status::end : Status::torn), "%s at a frame cut at %s", name(s),
                 cut_at_boundary ? "its start" : "its middle");
    if (damage == flip) FUZZ_CHECK(s == Status::torn || s == Status::corrupt, "%s at a flipped frame", name(s));
    if (damage == junk) FUZZ_CHECK(s != Status::end, "end before the junk");
    return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) == 0) {
    run_raw(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  } else {
    FuzzedDataProvider fdp(data + 1, size - 1);
    run_built(fdp);
  }
  return 0;
}
