// The journal under failing system calls: a failed fdatasync stops it for
// good (never reusing sequence numbers, never acknowledging), a failed write
// is cut back and refused, a full disk at segment rollover refuses only that
// group, and every path leaves a journal that recovers with all
// acknowledged frames.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <future>

#include "journal/frame.hpp"
#include "journal/journal.hpp"
#include "journal/journal_reader.hpp"
#include "test_util.hpp"

namespace touchpoint::core::journal {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// FileOps are plain function pointers: the faults are steered by globals.
std::atomic<int> g_fdatasync_calls{0};
std::atomic<int> g_fail_fdatasync_at{0};  // 1-based call that fails (0: never)
std::atomic<int> g_write_calls{0};
std::atomic<int> g_fail_write_at{0};  // this call writes half, the next one fails with ENOSPC
std::atomic<bool> g_fail_ftruncate{false};
std::atomic<bool> g_fail_fallocate{false};
std::atomic<bool> g_fail_dir_fsync{false};

int faulty_fdatasync(int fd) {
  if (++g_fdatasync_calls == g_fail_fdatasync_at) {
    errno = EIO;
    return -1;
  }
  return ::fdatasync(fd);
}
ssize_t faulty_write(int fd, const void* data, size_t len) {
  const int n = ++g_write_calls;
  if (n == g_fail_write_at && len > 1) return ::write(fd, data, len / 2);  // a short write...
  if (n == g_fail_write_at + 1 && g_fail_write_at != 0) {                  // ...then the disk is full
    errno = ENOSPC;
    return -1;
  }
  return ::write(fd, data, len);
}
int faulty_ftruncate(int fd, off_t len) {
  if (g_fail_ftruncate) {
    errno = EIO;
    return -1;
  }
  return ::ftruncate(fd, len);
}
int faulty_fallocate(int fd, int mode, off_t off, off_t len) {
  if (g_fail_fallocate) {
    errno = ENOSPC;
    return -1;
  }
  return ::fallocate(fd, mode, off, len);
}
int faulty_fsync(int fd) {
  if (g_fail_dir_fsync) {
    errno = EIO;
    return -1;
  }
  return ::fsync(fd);
}

class JournalFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    g_fdatasync_calls = 0;
    g_fail_fdatasync_at = 0;
    g_write_calls = 0;
    g_fail_write_at = 0;
    g_fail_ftruncate = false;
    g_fail_fallocate = false;
    g_fail_dir_fsync = false;
  }
  JournalOptions faulty(uint64_t segment_bytes = 64ull << 20) {
    JournalOptions o;
    o.dir = tmp_ / "journal";
    o.fsync = true;
    o.segment_bytes = segment_bytes;
    o.ops.fdatasync = &faulty_fdatasync;
    o.ops.write = &faulty_write;
    o.ops.ftruncate = &faulty_ftruncate;
    o.ops.fallocate = &faulty_fallocate;
    o.ops.fsync = &faulty_fsync;
    o.on_fatal = [this](const std::string& why) {
      ++fatal_calls_;
      fatal_reason_ = why;
    };
    return o;
  }
  JournalOptions plain() {
    JournalOptions o;
    o.dir = tmp_ / "journal";
    return o;
  }
  struct Outcome {
    bool accepted = false;
    bool ok = false;
    uint64_t seq = 0;
    std::string error;
  };
  static Outcome append(Journal& j, const std::string& payload) {
    auto p = std::make_shared<std::promise<Outcome>>();
    auto f = p->get_future();
    auto r = j.append(payload, [p](bool ok, uint64_t seq, const std::string& e) { p->set_value({true, ok, seq, e}); });
    if (r != Journal::AppendResult::accepted) return {};
    return f.get();
  }
  static std::vector<uint64_t> seqs_on_disk(const Journal& j) {
    std::vector<uint64_t> out;
    JournalReader r(j, 0);
    while (r.next()) out.push_back(r.seq());
    return out;
  }

  TempDir tmp_;
  std::atomic<int> fatal_calls_{0};
  std::string fatal_reason_;
};

TEST_F(JournalFaults, FailedFdatasyncStopsTheJournalForGood) {
  {
    Journal j(faulty());
    EXPECT_EQ(append(j, "one").seq, 1u);
    EXPECT_EQ(append(j, "two").seq, 2u);
    g_fail_fdatasync_at = g_fdatasync_calls + 1;
    Outcome third = append(j, "three");
    ASSERT_TRUE(third.accepted);
    EXPECT_FALSE(third.ok) << "a group whose fdatasync failed must never be acknowledged";
    EXPECT_NE(third.error.find("fdatasync"), std::string::npos) << third.error;
    EXPECT_EQ(fatal_calls_.load(), 1);
    EXPECT_NE(fatal_reason_.find("Input/output error"), std::string::npos) << fatal_reason_;
    EXPECT_EQ(j.durable_seq(), 2u);
    // No later append is accepted (the page cache can no longer be trusted).
    std::string unused;
    EXPECT_EQ(j.append("four", [](bool, uint64_t, const std::string&) {}), Journal::AppendResult::failed);
    EXPECT_FALSE(j.failure().empty());
    // Readers never see the unacknowledged frame.
    EXPECT_EQ(seqs_on_disk(j), (std::vector<uint64_t>{1, 2}));
  }
  // A restart recovers from the disk: the acknowledged frames are there, and
  // numbering never repeats (the unacknowledged frame may or may not have
  // reached the disk; if it did, it is kept: at-least-once, never a duplicate seq).
  Journal again(plain());
  EXPECT_TRUE(again.recovery().quarantined.empty());
  std::vector<uint64_t> seqs = seqs_on_disk(again);
  ASSERT_GE(seqs.size(), 2u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);
  EXPECT_EQ(append(again, "after restart").seq, seqs.back() + 1);
}

TEST_F(JournalFaults, FailedWriteIsCutBackAndTheJournalGoesOn) {
  Journal j(faulty());
  EXPECT_EQ(append(j, "one").seq, 1u);
  const uint64_t size_before = j.bytes_on_disk();
  g_fail_write_at = g_write_calls + 1;
  Outcome refused = append(j, std::string(4096, 'x'));
  ASSERT_TRUE(refused.accepted);
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("No space left"), std::string::npos) << refused.error;
  EXPECT_EQ(fatal_calls_.load(), 0) << "a write that was cut back cleanly is not fatal";
  EXPECT_EQ(fs::file_size(j.segments().back().path), size_before) << "the half-written frame must be gone";
  // The number was never handed out, so it is handed out now.
  EXPECT_EQ(append(j, "two").seq, 2u);
  EXPECT_EQ(seqs_on_disk(j), (std::vector<uint64_t>{1, 2}));
}

TEST_F(JournalFaults, FailedWriteThatCannotBeCutBackIsFatal) {
  {
    Journal j(faulty());
    EXPECT_EQ(append(j, "one").seq, 1u);
    g_fail_write_at = g_write_calls + 1;
    g_fail_ftruncate = true;
    Outcome refused = append(j, std::string(4096, 'x'));
    EXPECT_FALSE(refused.ok);
    EXPECT_EQ(fatal_calls_.load(), 1);
    EXPECT_NE(fatal_reason_.find("cutting the segment back failed"), std::string::npos) << fatal_reason_;
    EXPECT_EQ(j.append("two", [](bool, uint64_t, const std::string&) {}), Journal::AppendResult::failed);
  }
  // Recovery quarantines the torn half frame and keeps the acknowledged one.
  Journal again(plain());
  ASSERT_EQ(again.recovery().quarantined.size(), 1u);
  EXPECT_EQ(seqs_on_disk(again), (std::vector<uint64_t>{1}));
  EXPECT_EQ(append(again, "two").seq, 2u);
}

TEST_F(JournalFaults, FullDiskAtRolloverRefusesOnlyThatGroup) {
  Journal j(faulty(4096));
  EXPECT_EQ(append(j, std::string(5000, 'a')).seq, 1u);  // fills the first segment
  g_fail_fallocate = true;
  Outcome refused = append(j, "b");
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("cannot reserve"), std::string::npos) << refused.error;
  EXPECT_EQ(fatal_calls_.load(), 0);
  EXPECT_EQ(j.segments().size(), 1u) << "the segment that could not be reserved is removed again";
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(tmp_ / "journal"))
    if (e.path().extension() == ".tpj") ++files;
  EXPECT_EQ(files, 1u);
  g_fail_fallocate = false;  // space was freed
  EXPECT_EQ(append(j, "b").seq, 2u);
  EXPECT_EQ(seqs_on_disk(j), (std::vector<uint64_t>{1, 2}));
}

TEST_F(JournalFaults, FailedDirectoryFsyncAtRolloverIsReported) {
  Journal j(faulty(4096));
  EXPECT_EQ(append(j, std::string(5000, 'a')).seq, 1u);
  g_fail_dir_fsync = true;
  Outcome refused = append(j, "b");
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("fsync of directory"), std::string::npos) << refused.error;
  g_fail_dir_fsync = false;
  EXPECT_EQ(append(j, "b").seq, 2u);
}

TEST_F(JournalFaults, OversizedPayloadIsRefusedBeforeItIsQueued) {
  Journal j(plain());
  std::string huge(size_t{kMaxPayloadBytes} + 1, 'x');
  bool called = false;
  EXPECT_EQ(j.append(std::move(huge), [&](bool, uint64_t, const std::string&) { called = true; }),
            Journal::AppendResult::too_large);
  EXPECT_FALSE(called);
  EXPECT_EQ(append(j, "fine").seq, 1u);
}

}  // namespace
}  // namespace touchpoint::core::journal
