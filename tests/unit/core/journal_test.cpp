// Journal: group commit, recovery of torn/corrupt tails, segments, release,
// backpressure and the reader, against real files in a temp directory.

#include "journal/journal.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "journal/frame.hpp"
#include "journal/journal_reader.hpp"
#include "journal/segment_scanner.hpp"
#include "journal/unit_codec.hpp"
#include "test_util.hpp"

namespace touchpoint::core::journal {
namespace {

namespace fs = std::filesystem;
using test::read_file;
using test::TempDir;
using test::write_file;

JournalOptions options(const fs::path& dir, bool fsync = false) {
  JournalOptions o;
  o.dir = dir;
  o.fsync = fsync;
  return o;
}

std::string payload(uint64_t i, size_t pad = 0) {
  std::string s = "entry-" + std::to_string(i);
  s.append(pad, static_cast<char>('a' + i % 26));
  return s;
}

/// Appends and waits for the callback; returns the seq (0 if not accepted or failed).
uint64_t append_sync(Journal& j, std::string p) {
  auto done = std::make_shared<std::promise<uint64_t>>();
  auto f = done->get_future();
  auto r = j.append(std::move(p), [done](bool ok, uint64_t seq, const std::string&) { done->set_value(ok ? seq : 0); });
  if (r != Journal::AppendResult::accepted) return 0;
  return f.get();
}

/// Everything a reader returns from after_seq on, as seq -> payload (in read order).
std::vector<std::pair<uint64_t, std::string>> read_all(const Journal& j, uint64_t after_seq = 0) {
  std::vector<std::pair<uint64_t, std::string>> out;
  JournalReader r(j, after_seq);
  while (r.next()) out.emplace_back(r.seq(), std::string(r.payload()));
  return out;
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> segment_names(const fs::path& dir) {
  std::vector<std::string> out;
  for (const fs::path& p : files_in(dir))
    if (p.extension() == ".tpj") out.push_back(p.filename().string());
  return out;
}

/// Holds the writer thread inside the callback of one append until released,
/// so later appends pile up in the queue deterministically.
class WriterGate {
 public:
  Journal::Done callback() {
    return [this](bool, uint64_t, const std::string&) {
      std::unique_lock<std::mutex> lk(mu_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lk, [&] { return open_; });
    };
  }
  void wait_entered() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return entered_; });
  }
  void open() {
    std::lock_guard<std::mutex> lk(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false, open_ = false;
};

TEST(Frame, LayoutAndChecksumCoverSeq) {
  std::string out;
  append_frame(out, 42, "hello");
  ASSERT_EQ(out.size(), kFrameHeaderBytes + 5);
  EXPECT_EQ(out.substr(0, 4), "TPJ1");
  FrameHeader h = decode_header(out.data());
  EXPECT_EQ(h.magic, kFrameMagic);
  EXPECT_EQ(h.length, 5u);
  EXPECT_EQ(h.seq, 42u);
  EXPECT_EQ(h.crc, frame_checksum(42, "hello"));
  EXPECT_NE(frame_checksum(42, "hello"), frame_checksum(43, "hello"));
  EXPECT_TRUE(header_plausible(h));
  h.length = kMaxPayloadBytes + 1;
  EXPECT_FALSE(header_plausible(h));
}

TEST(Journal, FreshDirectoryIsEmpty) {
  TempDir tmp;
  Journal j(options(tmp / "journal"));
  EXPECT_EQ(j.recovery().entries, 0u);
  EXPECT_EQ(j.recovery().first_seq, 0u);
  EXPECT_EQ(j.recovery().last_seq, 0u);
  EXPECT_TRUE(j.recovery().quarantined.empty());
  EXPECT_EQ(j.durable_seq(), 0u);
  EXPECT_TRUE(read_all(j).empty());
  EXPECT_EQ(segment_names(tmp / "journal"), std::vector<std::string>{"00000000000000000001.tpj"});
}

TEST(Journal, ConcurrentAppendsAreAcknowledgedInSeqOrderAndSurviveReopen) {
  TempDir tmp;
  constexpr int kThreads = 4, kPerThread = 100;
  std::mutex mu;
  std::vector<uint64_t> callback_order;    // seqs in the order callbacks ran
  std::map<uint64_t, std::string> by_seq;  // what each seq acknowledged
  std::map<int, std::vector<uint64_t>> per_thread;
  {
    Journal j(options(tmp.path(), /*fsync=*/true));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          std::string p = "t" + std::to_string(t) + "-" + std::to_string(i);
          auto r = j.append(p, [&, t, p](bool ok, uint64_t seq, const std::string& err) {
            ASSERT_TRUE(ok) << err;
            std::lock_guard<std::mutex> lk(mu);
            callback_order.push_back(seq);
            by_seq[seq] = p;
            per_thread[t].push_back(seq);
          });
          ASSERT_EQ(r, Journal::AppendResult::accepted);
        }
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_TRUE(j.wait_beyond(kThreads * kPerThread - 1, std::chrono::seconds(10)));
    j.stop();
    EXPECT_EQ(j.durable_seq(), uint64_t{kThreads * kPerThread});
  }
  ASSERT_EQ(callback_order.size(), size_t{kThreads * kPerThread});
  for (size_t i = 0; i < callback_order.size(); ++i) EXPECT_EQ(callback_order[i], i + 1) << "callback " << i;
  for (const auto& [t, seqs] : per_thread) {
    ASSERT_EQ(seqs.size(), size_t{kPerThread});
    for (size_t i = 1; i < seqs.size(); ++i) EXPECT_LT(seqs[i - 1], seqs[i]) << "thread " << t;
    for (size_t i = 0; i < seqs.size(); ++i)
      EXPECT_EQ(by_seq[seqs[i]], "t" + std::to_string(t) + "-" + std::to_string(i));
  }

  Journal reopened(options(tmp.path()));
  const RecoveryReport& rep = reopened.recovery();
  EXPECT_EQ(rep.entries, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(rep.first_seq, 1u);
  EXPECT_EQ(rep.last_seq, uint64_t{kThreads * kPerThread});
  EXPECT_TRUE(rep.quarantined.empty());
  EXPECT_EQ(reopened.durable_seq(), uint64_t{kThreads * kPerThread});
  auto all = read_all(reopened);
  ASSERT_EQ(all.size(), by_seq.size());
  for (const auto& [seq, p] : all) EXPECT_EQ(p, by_seq[seq]) << "seq " << seq;
}

TEST(Journal, GroupCommitWritesQueuedAppendsAsOneGroup) {
  TempDir tmp;
  Journal j(options(tmp.path(), /*fsync=*/true));
  WriterGate gate;
  ASSERT_EQ(j.append("first", gate.callback()), Journal::AppendResult::accepted);
  gate.wait_entered();  // the writer is busy with group 1; everything below queues up

  constexpr int kQueued = 100;
  std::mutex mu;
  std::vector<std::pair<uint64_t, uint64_t>> seen;  // (seq, durable_seq when its callback ran)
  for (int i = 0; i < kQueued; ++i) {
    ASSERT_EQ(j.append(payload(static_cast<uint64_t>(i)),
                       [&](bool ok, uint64_t seq, const std::string&) {
                         ASSERT_TRUE(ok);
                         std::lock_guard<std::mutex> lk(mu);
                         seen.emplace_back(seq, j.durable_seq());
                       }),
              Journal::AppendResult::accepted);
  }
  EXPECT_EQ(j.pending_appends(), uint64_t{kQueued});
  gate.open();
  ASSERT_TRUE(j.wait_beyond(kQueued, std::chrono::seconds(10)));
  j.stop();
  ASSERT_EQ(seen.size(), size_t{kQueued});
  // Callbacks run after their group's single fdatasync; durable_seq is that
  // group's last seq. One value for all 100 means one write + one fsync.
  std::set<uint64_t> groups;
  for (const auto& [seq, durable] : seen) {
    EXPECT_GE(durable, seq);
    groups.insert(durable);
  }
  EXPECT_EQ(groups, std::set<uint64_t>{kQueued + 1});
}

TEST(Journal, GroupsAreSplitAtMaxGroupBytes) {
  TempDir tmp;
  JournalOptions o = options(tmp.path());
  // 7 frames of 120 bytes (840) fit; an 8th would end at 960, over the bound,
  // although its payload alone (840 + 100) would still fit.
  o.max_group_bytes = 950;
  Journal j(o);
  WriterGate gate;
  ASSERT_EQ(j.append("first", gate.callback()), Journal::AppendResult::accepted);
  gate.wait_entered();
  constexpr int kQueued = 50;
  const size_t frame_bytes = kFrameHeaderBytes + 100;
  std::mutex mu;
  std::map<uint64_t, size_t> frames_per_group;  // durable_seq at callback -> frames
  for (int i = 0; i < kQueued; ++i) {
    ASSERT_EQ(j.append(std::string(100, 'x'),
                       [&](bool ok, uint64_t, const std::string&) {
                         ASSERT_TRUE(ok);
                         std::lock_guard<std::mutex> lk(mu);
                         ++frames_per_group[j.durable_seq()];
                       }),
              Journal::AppendResult::accepted);
  }
  gate.open();
  ASSERT_TRUE(j.wait_beyond(kQueued, std::chrono::seconds(10)));
  j.stop();
  size_t total = 0;
  for (const auto& [last, frames] : frames_per_group) {
    EXPECT_LE(frames * frame_bytes, o.max_group_bytes) << "group ending at " << last;
    total += frames;
  }
  EXPECT_EQ(total, size_t{kQueued});
  EXPECT_GE(frames_per_group.size(), kQueued * frame_bytes / o.max_group_bytes);
  EXPECT_LT(frames_per_group.size(), size_t{kQueued});  // still batched
}

TEST(Journal, StopFinishesQueuedAppendsAndRefusesLaterOnes) {
  TempDir tmp;
  Journal j(options(tmp.path()));
  std::atomic<int> ok{0};
  for (int i = 0; i < 200; ++i)
    ASSERT_EQ(j.append(payload(static_cast<uint64_t>(i)), [&](bool good, uint64_t, const std::string&) { ok += good; }),
              Journal::AppendResult::accepted);
  j.stop();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(j.durable_seq(), 200u);
  EXPECT_EQ(j.append("late", [](bool, uint64_t, const std::string&) { FAIL() << "must not be called"; }),
            Journal::AppendResult::stopping);
  EXPECT_FALSE(j.wait_beyond(200, std::chrono::milliseconds(10)));
}

/// Writes n entries (payload(i), padded) into a fresh journal and closes it.
/// Returns the byte offset at which each frame starts, plus the file size at the end.
std::vector<uint64_t> write_entries(const fs::path& dir, int n, size_t pad = 10) {
  std::vector<uint64_t> offsets;
  Journal j(options(dir));
  uint64_t off = 0;
  for (int i = 1; i <= n; ++i) {
    offsets.push_back(off);
    std::string p = payload(static_cast<uint64_t>(i), pad);
    off += kFrameHeaderBytes + p.size();
    EXPECT_EQ(append_sync(j, p), uint64_t(i));
  }
  offsets.push_back(off);
  return offsets;
}

TEST(JournalRecovery, TornTailIsQuarantinedAndAppendsContinue) {
  TempDir tmp;
  const fs::path seg = tmp / "00000000000000000001.tpj";
  auto offsets = write_entries(tmp.path(), 10);
  ASSERT_EQ(fs::file_size(seg), offsets.back());
  const std::string original = read_file(seg);
  // Crash in the middle of writing frame 10: its payload is cut short.
  const uint64_t cut = offsets.back() - 7;
  ASSERT_EQ(::truncate(seg.c_str(), static_cast<off_t>(cut)), 0);

  {
    Journal j(options(tmp.path()));
    const RecoveryReport& rep = j.recovery();
    EXPECT_EQ(rep.entries, 9u);
    EXPECT_EQ(rep.last_seq, 9u);
    ASSERT_EQ(rep.quarantined.size(), 1u);
    const Quarantine& q = rep.quarantined[0];
    EXPECT_EQ(q.segment, "00000000000000000001.tpj");
    EXPECT_EQ(q.offset, offsets[9]);
    EXPECT_EQ(q.bytes, cut - offsets[9]);
    EXPECT_EQ(q.reason, "incomplete frame payload");
    EXPECT_EQ(fs::path(q.saved_as).parent_path(), tmp / "quarantine");
    ASSERT_TRUE(fs::exists(q.saved_as));
    EXPECT_EQ(read_file(q.saved_as), original.substr(offsets[9], cut - offsets[9]));
    EXPECT_EQ(fs::file_size(seg), offsets[9]);  // cut back to the last good frame
    EXPECT_EQ(j.durable_seq(), 9u);

    EXPECT_EQ(append_sync(j, "after-crash"), 10u);
  }
  Journal j(options(tmp.path()));
  EXPECT_TRUE(j.recovery().quarantined.empty());
  EXPECT_EQ(j.recovery().entries, 10u);
  auto all = read_all(j);
  ASSERT_EQ(all.size(), 10u);
  for (uint64_t i = 1; i <= 9; ++i) EXPECT_EQ(all[i - 1], std::make_pair(i, payload(i, 10)));
  EXPECT_EQ(all[9], std::make_pair(uint64_t{10}, std::string("after-crash")));
}

TEST(JournalRecovery, TornHeaderIsQuarantined) {
  TempDir tmp;
  const fs::path seg = tmp / "00000000000000000001.tpj";
  auto offsets = write_entries(tmp.path(), 3);
  ASSERT_EQ(::truncate(seg.c_str(), static_cast<off_t>(offsets[2] + 5)), 0);
  Journal j(options(tmp.path()));
  EXPECT_EQ(j.recovery().entries, 2u);
  ASSERT_EQ(j.recovery().quarantined.size(), 1u);
  EXPECT_EQ(j.recovery().quarantined[0].reason, "incomplete frame header");
  EXPECT_EQ(j.recovery().quarantined[0].bytes, 5u);
  EXPECT_EQ(files_in(tmp / "quarantine").size(), 1u);
}

TEST(JournalRecovery, FlippedPayloadByteIsDetectedAndTailFromThereQuarantined) {
  TempDir tmp;
  const fs::path seg = tmp / "00000000000000000001.tpj";
  auto offsets = write_entries(tmp.path(), 10);
  std::string bytes = read_file(seg);
  bytes[offsets[4] + kFrameHeaderBytes + 3] ^= 0x01;  // one bit in frame 5's payload
  write_file(seg, bytes);

  Journal j(options(tmp.path()));
  const RecoveryReport& rep = j.recovery();
  EXPECT_EQ(rep.entries, 4u);
  EXPECT_EQ(rep.last_seq, 4u);
  ASSERT_EQ(rep.quarantined.size(), 1u);
  EXPECT_EQ(rep.quarantined[0].reason, "checksum mismatch");
  EXPECT_EQ(rep.quarantined[0].offset, offsets[4]);
  EXPECT_EQ(rep.quarantined[0].bytes, offsets.back() - offsets[4]);
  EXPECT_EQ(read_file(rep.quarantined[0].saved_as), bytes.substr(offsets[4]));
  EXPECT_EQ(fs::file_size(seg), offsets[4]);
  EXPECT_EQ(read_all(j).size(), 4u);
  EXPECT_EQ(append_sync(j, "next"), 5u);
}

TEST(JournalRecovery, FlippedMagicIsDetected) {
  TempDir tmp;
  const fs::path seg = tmp / "00000000000000000001.tpj";
  auto offsets = write_entries(tmp.path(), 5);
  std::string bytes = read_file(seg);
  bytes[offsets[2]] = 'X';
  write_file(seg, bytes);
  Journal j(options(tmp.path()));
  EXPECT_EQ(j.recovery().entries, 2u);
  ASSERT_EQ(j.recovery().quarantined.size(), 1u);
  EXPECT_EQ(j.recovery().quarantined[0].reason, "bad frame magic");
}

TEST(JournalRecovery, ZeroFilledTailIsQuarantined) {
  TempDir tmp;
  const fs::path seg = tmp / "00000000000000000001.tpj";
  auto offsets = write_entries(tmp.path(), 3);
  write_file(seg, read_file(seg) + std::string(4096, '\0'));  // size grew, data never landed
  Journal j(options(tmp.path()));
  EXPECT_EQ(j.recovery().entries, 3u);
  ASSERT_EQ(j.recovery().quarantined.size(), 1u);
  EXPECT_EQ(j.recovery().quarantined[0].bytes, 4096u);
  EXPECT_EQ(fs::file_size(seg), offsets.back());
}

TEST(JournalRecovery, FrameWithBackwardsSeqIsQuarantined) {
  TempDir tmp;
  const fs::path seg = tmp / "00000000000000000001.tpj";
  auto offsets = write_entries(tmp.path(), 3);
  // A valid frame (correct checksum) whose sequence number goes backwards,
  // e.g. a block written twice: it must not be taken as entry 4.
  std::string bytes = read_file(seg);
  append_frame(bytes, 2, "stale copy");
  write_file(seg, bytes);

  {
    Journal j(options(tmp.path()));
    EXPECT_EQ(j.recovery().entries, 3u);
    EXPECT_EQ(j.recovery().last_seq, 3u);
    ASSERT_EQ(j.recovery().quarantined.size(), 1u);
    EXPECT_EQ(j.recovery().quarantined[0].reason, "sequence number went backwards");
    EXPECT_EQ(j.recovery().quarantined[0].offset, offsets.back());
    EXPECT_EQ(fs::file_size(seg), offsets.back());
    EXPECT_EQ(append_sync(j, "four"), 4u);
  }
  Journal j(options(tmp.path()));
  EXPECT_TRUE(j.recovery().quarantined.empty());
  auto all = read_all(j);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[3], std::make_pair(uint64_t{4}, std::string("four")));
}

TEST(JournalSegments, RolloverNamesSegmentsByFirstSeqAndReleaseDeletesOnlyApplied) {
  TempDir tmp;
  JournalOptions o = options(tmp.path());
  o.segment_bytes = 1000;
  Journal j(o);
  const size_t frame = kFrameHeaderBytes + 200;  // 5 frames (1100 bytes) fill a segment
  for (uint64_t i = 1; i <= 20; ++i) ASSERT_EQ(append_sync(j, std::string(200, char('a' + i % 26))), i);
  EXPECT_EQ(segment_names(tmp.path()),
            (std::vector<std::string>{"00000000000000000001.tpj", "00000000000000000006.tpj",
                                      "00000000000000000011.tpj", "00000000000000000016.tpj"}));
  EXPECT_EQ(j.bytes_on_disk(), 20 * frame);
  ASSERT_EQ(j.segments().size(), 4u);
  EXPECT_EQ(j.segments()[2].first_seq, 11u);

  j.release_until(4);  // segment 1..5 still holds unapplied entry 5
  EXPECT_EQ(segment_names(tmp.path()).size(), 4u);
  j.release_until(5);  // now 1..5 is fully applied
  EXPECT_EQ(segment_names(tmp.path()), (std::vector<std::string>{"00000000000000000006.tpj", "00000000000000000011.tpj",
                                                                 "00000000000000000016.tpj"}));
  EXPECT_EQ(j.bytes_on_disk(), 15 * frame);
  j.release_until(12);  // 6..10 goes, 11..15 stays (13..15 unapplied)
  EXPECT_EQ(segment_names(tmp.path()),
            (std::vector<std::string>{"00000000000000000011.tpj", "00000000000000000016.tpj"}));
  j.release_until(1000);  // the active segment is never deleted
  EXPECT_EQ(segment_names(tmp.path()), std::vector<std::string>{"00000000000000000016.tpj"});
  EXPECT_EQ(j.bytes_on_disk(), 5 * frame);

  // A reader positioned before the released range starts at what is left.
  auto rest = read_all(j, 0);
  ASSERT_EQ(rest.size(), 5u);
  EXPECT_EQ(rest.front().first, 16u);
  EXPECT_EQ(rest.back().first, 20u);
  EXPECT_EQ(append_sync(j, "21"), 21u);
  EXPECT_EQ(segment_names(tmp.path()).back(), "00000000000000000021.tpj");
}

TEST(JournalSegments, ReopenAfterReleaseContinuesSeqs) {
  TempDir tmp;
  JournalOptions o = options(tmp.path());
  o.segment_bytes = 1000;
  {
    Journal j(o);
    for (uint64_t i = 1; i <= 12; ++i) ASSERT_EQ(append_sync(j, std::string(200, 'z')), i);
    j.release_until(10);
  }
  Journal j(o);
  EXPECT_EQ(j.recovery().segments, 1u);
  EXPECT_EQ(j.recovery().first_seq, 11u);
  EXPECT_EQ(j.recovery().last_seq, 12u);
  EXPECT_EQ(j.recovery().entries, 2u);
  EXPECT_EQ(append_sync(j, "13"), 13u);
  auto all = read_all(j, 10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].second, "13");
}

TEST(JournalBackpressure, RefusesWhileOverMaxBytesAndRecoversAfterRelease) {
  TempDir tmp;
  JournalOptions o = options(tmp.path());
  o.segment_bytes = 1000;
  o.max_bytes = 2000;
  Journal j(o);
  const std::string p(500, 'p');  // 520 bytes a frame
  EXPECT_EQ(append_sync(j, p), 1u);
  EXPECT_EQ(append_sync(j, p), 2u);  // 1040: segment 1 is full
  EXPECT_EQ(append_sync(j, p), 3u);
  EXPECT_EQ(append_sync(j, p), 4u);  // 2080 > 2000 from now on
  EXPECT_EQ(j.bytes_on_disk(), 2080u);
  EXPECT_EQ(j.append(p, [](bool, uint64_t, const std::string&) { FAIL(); }), Journal::AppendResult::backpressure);
  j.release_until(2);  // the applier caught up with segment 1
  EXPECT_EQ(j.bytes_on_disk(), 1040u);
  EXPECT_EQ(append_sync(j, p), 5u);
}

TEST(JournalBackpressure, QueuedBytesCount) {
  TempDir tmp;
  JournalOptions o = options(tmp.path());
  o.max_bytes = 1000;
  Journal j(o);
  WriterGate gate;
  ASSERT_EQ(j.append("x", gate.callback()), Journal::AppendResult::accepted);
  gate.wait_entered();
  // Nothing below reaches the disk while the writer is held: the queue alone pushes back.
  int accepted = 0;
  while (j.append(std::string(100, 'q'), [](bool, uint64_t, const std::string&) {}) == Journal::AppendResult::accepted)
    ASSERT_LT(++accepted, 100);
  EXPECT_EQ(accepted, 9);  // 21 + 9 * 120 = 1101 > 1000
  gate.open();
  j.stop();
}

TEST(JournalReader, ReadsExactlyWhatWasWrittenInOrderAcrossSegments) {
  TempDir tmp;
  JournalOptions o = options(tmp.path());
  o.segment_bytes = 4096;
  Journal j(o);
  std::vector<std::string> written;
  for (int i = 0; i < 60; ++i) {
    std::string p = payload(static_cast<uint64_t>(i), static_cast<size_t>(i * 7));
    p.push_back('\0');  // binary-safe
    p.push_back(static_cast<char>(0xFF));
    written.push_back(p);
  }
  written.push_back(std::string(3 << 20, 'L'));  // larger than the scanner's 1 MiB buffer
  written.push_back("");                         // empty payload
  written.push_back("after-large");
  for (const std::string& p : written) ASSERT_GT(append_sync(j, p), 0u);
  ASSERT_GT(j.segments().size(), 3u);

  auto all = read_all(j);
  ASSERT_EQ(all.size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ(all[i].first, i + 1);
    EXPECT_EQ(all[i].second, written[i]) << "seq " << i + 1;
  }
  auto tail = read_all(j, 58);
  ASSERT_EQ(tail.size(), written.size() - 58);
  EXPECT_EQ(tail.front().first, 59u);
}

TEST(JournalReader, TailsNewEntriesAndNeverPassesDurable) {
  TempDir tmp;
  Journal j(options(tmp.path()));
  JournalReader r(j, 0);
  EXPECT_FALSE(r.next());
  ASSERT_EQ(append_sync(j, "one"), 1u);
  ASSERT_TRUE(r.next());
  EXPECT_EQ(r.seq(), 1u);
  EXPECT_EQ(r.payload(), "one");
  EXPECT_FALSE(r.next());
  ASSERT_EQ(append_sync(j, "two"), 2u);
  ASSERT_EQ(append_sync(j, "three"), 3u);
  ASSERT_TRUE(r.next());
  EXPECT_EQ(r.payload(), "two");
  ASSERT_TRUE(r.next());
  EXPECT_EQ(r.payload(), "three");
  EXPECT_FALSE(r.next());
  EXPECT_EQ(r.seq(), 3u);
}

TEST(JournalReader, FollowsIntoANewSegmentWhileTailing) {
  TempDir tmp;
  JournalOptions o = options(tmp.path());
  o.segment_bytes = 100;
  Journal j(o);
  JournalReader r(j, 0);
  for (uint64_t i = 1; i <= 6; ++i) {
    ASSERT_EQ(append_sync(j, std::string(90, char('a' + i))), i);  // one frame fills a segment
    ASSERT_TRUE(r.next()) << i;
    EXPECT_EQ(r.seq(), i);
    EXPECT_EQ(r.payload(), std::string(90, char('a' + i)));
    EXPECT_FALSE(r.next());
  }
  EXPECT_EQ(j.segments().size(), 6u);
}

TEST(SegmentScanner, StopsAtMaxSeqWithoutConsuming) {
  TempDir tmp;
  write_entries(tmp.path(), 3);
  SegmentScanner s(tmp / "00000000000000000001.tpj");
  ASSERT_EQ(s.next(1), SegmentScanner::Status::frame);
  EXPECT_EQ(s.seq(), 1u);
  uint64_t off = s.offset();
  EXPECT_EQ(s.next(1), SegmentScanner::Status::end);
  EXPECT_EQ(s.offset(), off);
  ASSERT_EQ(s.next(), SegmentScanner::Status::frame);
  EXPECT_EQ(s.seq(), 2u);
  ASSERT_EQ(s.next(), SegmentScanner::Status::frame);
  EXPECT_EQ(s.next(), SegmentScanner::Status::end);
}

TEST(UnitCodec, RoundTrip) {
  UnitEncoder e("crm", "cursor-7", 1700000000123, 2);
  e.add_record("r1", "profile", "k1", 1, R"({"email":"a@b.de"})", "{}");
  e.add_record("r2", "event", "", -5, std::string("bin\0ary", 7), "");
  e.begin_rejects(1);
  e.add_reject("raw;line", "bad column", "a.csv:3");
  std::string p = e.finish();
  UnitView u = decode_unit(p);
  EXPECT_EQ(u.source, "crm");
  EXPECT_EQ(u.cursor, "cursor-7");
  EXPECT_EQ(u.received_ms, 1700000000123);
  ASSERT_EQ(u.records.size(), 2u);
  EXPECT_EQ(u.records[0].id, "r1");
  EXPECT_EQ(u.records[0].data, R"({"email":"a@b.de"})");
  EXPECT_EQ(u.records[1].ts_ms, -5);
  EXPECT_EQ(u.records[1].data, std::string_view("bin\0ary", 7));
  ASSERT_EQ(u.rejects.size(), 1u);
  EXPECT_EQ(u.rejects[0].location, "a.csv:3");

  UnitEncoder empty("s", "", 0, 0);
  UnitView ev = decode_unit(empty.finish());
  EXPECT_TRUE(ev.records.empty());
  EXPECT_TRUE(ev.rejects.empty());
}

TEST(UnitCodec, MalformedPayloadsThrow) {
  UnitEncoder e("crm", "c", 1, 1);
  e.add_record("r1", "profile", "k1", 1, "{}", "{}");
  const std::string good = e.finish();
  for (size_t n = 0; n < good.size(); ++n) EXPECT_THROW(decode_unit(good.substr(0, n)), std::runtime_error) << n;
  EXPECT_THROW(decode_unit(good + "x"), std::runtime_error);
  std::string bad_version = good;
  bad_version[0] = 9;
  EXPECT_THROW(decode_unit(bad_version), std::runtime_error);
  // A record count of 2^32-1 in a tiny payload is refused before reserving memory.
  UnitEncoder huge("s", "", 0, 0xFFFFFFFFu);
  EXPECT_THROW(decode_unit(huge.finish()), std::runtime_error);
}

// A journal emptied (or restored from an older backup) must not hand out
// sequence numbers the store has already applied: the reader would skip them.
TEST(Journal, NumberingContinuesAfterTheStorePosition) {
  TempDir tmp;
  {
    Journal j(options(tmp.path()));
    ASSERT_EQ(append_sync(j, "old"), 1u);
  }
  JournalOptions o = options(tmp.path());
  o.min_last_seq = 50;
  {
    Journal j(o);
    ASSERT_TRUE(j.recovery().advanced_from.has_value());
    EXPECT_EQ(*j.recovery().advanced_from, 1u);
    EXPECT_EQ(j.durable_seq(), 50u);
    EXPECT_EQ(append_sync(j, "new"), 51u);
  }
  Journal j(options(tmp.path()));
  EXPECT_FALSE(j.recovery().advanced_from.has_value());
  EXPECT_EQ(j.recovery().last_seq, 51u);
  JournalReader r(j, 50);
  ASSERT_TRUE(r.next());
  EXPECT_EQ(r.seq(), 51u);
  EXPECT_EQ(r.payload(), "new");
}

}  // namespace
}  // namespace touchpoint::core::journal
