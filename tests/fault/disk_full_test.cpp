// Full and read-only disks under the journal and under the store.
//
// * The journal's disk full: data/journal on a small tmpfs while the store is
//   held locked (nothing is applied, so nothing is released). Appends are
//   refused with 5xx, the hub does not stop, and once the applier may run it
//   releases segments, space comes back and records flow again.
// * The store's disk full: store.path on its own small tmpfs. Acks continue
//   (the journal has room), the applier retries with backoff, and after the
//   tmpfs is grown the store catches up.
// * The store read-only: ext4 on a loop device, forced read-only the way the
//   kernel does after a file-system error (errors=remount-ro). A plain
//   `mount -o remount,ro` is refused with EBUSY while SQLite has the files
//   open for writing, and an ext4 emergency read-only cannot be remounted
//   read-write: the recovery is stop, e2fsck, mount, start.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "fault_support.hpp"

namespace tp_fault {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using tp_it::poll_until;
using tp_it::run_command;

class DiskFullTest : public FaultTest {};

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

TEST_F(DiskFullTest, JournalDiskFullRefusesWithoutStoppingAndRecoversWhenSegmentsAreReleased) {
  TP_REQUIRE_MOUNTS();
  constexpr uint64_t kJournalFs = 1 << 20;  // 8 segments of 128 KiB
  constexpr size_t kBatch = 100;
  const fs::path journal = data_ / "journal";
  std::string err;
  ASSERT_TRUE(mount_tmpfs(journal, kJournalFs, err)) << err;
  mounts_.push_back(journal);
  write_config("{ segment_size: 128KiB, max_size: 64MiB }");
  write_pipeline("web", webhook_source("web"));
  ASSERT_NO_FATAL_FAILURE(start_hub());

  // The store hangs: nothing is applied, so no segment can be released.
  auto lock = std::make_unique<StoreWriteLock>(data_ / "touchpoint.db");
  std::set<std::string> acked, posted;
  std::vector<std::vector<std::string>> refused;
  std::map<long, size_t> statuses;
  size_t next = 0;
  int consecutive_refusals = 0;
  while (consecutive_refusals < 3 && next < 400 * kBatch) {
    std::vector<std::string> ids = make_ids("j", next, kBatch);
    next += kBatch;
    posted.insert(ids.begin(), ids.end());
    HttpResponse r = post_ids("web", ids);
    ++statuses[r.status];
    if (r.status == 202) {
      acked.insert(ids.begin(), ids.end());
      consecutive_refusals = 0;
    } else {
      ASSERT_GE(r.status, 500) << "a full journal must answer 5xx (retry), got " << r.status << " " << r.body;
      refused.push_back(std::move(ids));
      ++consecutive_refusals;
    }
  }
  ASSERT_EQ(consecutive_refusals, 3) << "the journal's " << kJournalFs << "-byte tmpfs never filled up";
  EXPECT_GT(acked.size(), 0u);
  EXPECT_NE(hub_->log().find("No space left on device"), std::string::npos);
  // Not fatal: the hub keeps running and the journal has not failed.
  ASSERT_TRUE(hub_->running());
  json s = status();
  ASSERT_TRUE(s.is_object());
  EXPECT_FALSE(s["journal"].contains("failed")) << s.dump();
  EXPECT_GT(s["applier"]["lag_entries"].get<int64_t>(), 0);
  const uint64_t used_when_full = fs_used(journal);

  // The store comes back: the applier applies, releases segments, space returns.
  lock->release();
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", static_cast<int64_t>(acked.size()), 30s));
  ASSERT_TRUE(wait_applied(30s));
  EXPECT_LT(fs_used(journal), used_when_full) << "applied segments were not released";
  // Exactly the acknowledged records: a refused group was never written.
  expect_exactly_once(store(), "web", acked, acked);

  // Clients retry what was refused, and new records flow.
  for (const auto& ids : refused) {
    HttpResponse r;
    EXPECT_TRUE(poll_until(
        [&] {
          r = post_ids("web", ids);
          return r.status == 202;
        },
        20s))
        << r.status << " " << r.body;
    acked.insert(ids.begin(), ids.end());
  }
  for (int i = 0; i < 20; ++i) {
    std::vector<std::string> ids = make_ids("after", static_cast<size_t>(i) * kBatch, kBatch);
    posted.insert(ids.begin(), ids.end());
    ASSERT_EQ(post_ids("web", ids).status, 202);
    acked.insert(ids.begin(), ids.end());
  }
  ASSERT_TRUE(wait_count("SELECT COUNT(*) FROM records", static_cast<int64_t>(acked.size()), 30s));
  ASSERT_TRUE(wait_applied(30s));
  EXPECT_EQ(acked.size(), posted.size());
  expect_exactly_once(store(), "web", acked, posted);
  std::cerr << "[fault] journal full: " << statuses[202] << " requests 202 before it filled, " << refused.size()
            << " refused (statuses:";
  for (const auto& [st, n] : statuses) std::cerr << " " << st << "x" << n;
  std::cerr << ")\n";
  EXPECT_EQ(hub_->terminate(30s), 0);
}

TEST_F(DiskFullTest, StoreDiskFullKeepsAcknowledgingAndCatchesUpWhenSpaceReturns) {
  TP_REQUIRE_MOUNTS();
  constexpr size_t kBatch = 200;
  const fs::path storefs = root_ / "storefs";
  std::string err;
  ASSERT_TRUE(mount_tmpfs(storefs, 2 << 20, err)) << err;
  mounts_.push_back(storefs);
  write_config("{ segment_size: 1MiB, max_size: 256MiB }",
               "{ batch_records: 1024, poll_interval_ms: 50, shutdown_timeout_ms: 10000 }",
               "store: { path: " + (storefs / "touchpoint.db").string() + " }\n");
  write_pipeline("web", webhook_source("web"));
  ASSERT_NO_FATAL_FAILURE(start_hub());

  std::set<std::string> acked;
  size_t next = 0;
  const size_t mark = hub_->log_size();
  auto post_batch = [&] {
    std::vector<std::string> ids = make_ids("s", next, kBatch);
    next += kBatch;
    HttpResponse r = post_ids("web", ids);
    EXPECT_EQ(r.status, 202) << "acks must continue while the store is full: " << r.body;
    if (r.status == 202) acked.insert(ids.begin(), ids.end());
  };
  // Post until the store's file system is full and the applier fails.
  while (hub_->log_since(mark).find("store apply failed") == std::string::npos && next < 200000) {
    post_batch();
    if (HasFailure()) return;
  }
  ASSERT_NE(hub_->log_since(mark).find("store apply failed"), std::string::npos) << "the store never filled up";
  EXPECT_NE(hub_->log_since(mark).find("full"), std::string::npos) << "expected SQLite's 'database or disk is full'";
  json s1 = status();
  ASSERT_TRUE(s1.is_object());
  const int64_t lag1 = s1["applier"]["lag_entries"].get<int64_t>();

  // Acks continue while the journal has room; the applier retries with backoff.
  for (int i = 0; i < 10; ++i) post_batch();
  EXPECT_TRUE(poll_until([&] { return count_of(hub_->log_since(mark), "store apply failed") >= 3; }, 20s))
      << "the applier does not retry";
  json s2 = status();
  ASSERT_TRUE(s2.is_object());
  EXPECT_GT(s2["applier"]["lag_entries"].get<int64_t>(), lag1) << "lag must grow while the store is full";
  EXPECT_FALSE(s2["journal"].contains("failed"));
  StoreReader db(storefs / "touchpoint.db");
  EXPECT_LT(db.scalar("SELECT COUNT(*) FROM records"), static_cast<int64_t>(acked.size()));

  // Space returns (the volume is grown): the store catches up to the exact count.
  ASSERT_TRUE(resize_tmpfs(storefs, 512ull << 20, err)) << err;
  ASSERT_TRUE(wait_applied(60s)) << status().dump();
  ASSERT_TRUE(
      poll_until([&] { return db.scalar("SELECT COUNT(*) FROM records") >= static_cast<int64_t>(acked.size()); }, 30s));
  expect_exactly_once(db, "web", acked, acked);
  std::cerr << "[fault] store full: " << count_of(hub_->log_since(mark), "store apply failed")
            << " failed store transactions, lag " << lag1 << " -> " << s2["applier"]["lag_entries"] << " entries\n";
  EXPECT_EQ(hub_->terminate(30s), 0);
}

/// The block device behind the mount at `dir` ("/dev/loop3"), from mountinfo.
std::string mount_source(const fs::path& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, found;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, root, point;
    f >> id >> parent >> devno >> root >> point;
    if (point != dir.string()) continue;
    const auto sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    std::istringstream rest(line.substr(sep + 3));
    std::string type, source;
    rest >> type >> source;
    found = source;  // the last mount on the point wins
  }
  return found;
}

std::string find_tool(const std::string& name) {
  for (const char* d : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
    const std::string p = std::string(d) + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

TEST_F(DiskFullTest, StoreGoingReadOnlyKeepsAcknowledgingAndCatchesUpAfterRepair) {
  TP_REQUIRE_MOUNTS();
  if (!real_root()) GTEST_SKIP() << "needs real root for a loop-mounted ext4 (not available in a user namespace)";
  const std::string mkfs = find_tool("mkfs.ext4"), mount_bin = find_tool("mount"), umount_bin = find_tool("umount"),
                    fsck = find_tool("e2fsck");
  if (mkfs.empty() || mount_bin.empty() || umount_bin.empty() || fsck.empty())
    GTEST_SKIP() << "needs mkfs.ext4, e2fsck, mount and umount (e2fsprogs, util-linux)";
  constexpr size_t kBatch = 100;
  const fs::path img = root_ / "store.img", dir = root_ / "storefs";
  fs::create_directories(dir);
  { std::ofstream f(img, std::ios::binary); }
  fs::resize_file(img, 64ull << 20);
  auto r = run_command({mkfs, "-q", "-F", "-O", "^has_journal", img.string()}, root_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto mount_store = [&] {
    auto m = run_command({mount_bin, "-o", "loop,errors=remount-ro", img.string(), dir.string()}, root_);
    return m.exit_code == 0 ? std::string() : m.err + m.out;
  };
  if (std::string e = mount_store(); !e.empty()) GTEST_SKIP() << "cannot loop-mount ext4: " << e;
  mounts_.push_back(dir);
  const std::string device = mount_source(dir);
  const fs::path trigger = "/sys/fs/ext4/" + fs::path(device).filename().string() + "/trigger_fs_error";
  if (device.empty() || !fs::exists(trigger))
    GTEST_SKIP() << "this kernel has no " << trigger.string() << " to force ext4 read-only";

  write_config("{ segment_size: 1MiB, max_size: 256MiB }",
               "{ batch_records: 1024, poll_interval_ms: 50, shutdown_timeout_ms: 2000 }",
               "store: { path: " + (dir / "touchpoint.db").string() + " }\n");
  write_pipeline("web", webhook_source("web"));
  ASSERT_NO_FATAL_FAILURE(start_hub());
  std::set<std::string> acked;
  size_t next = 0;
  auto post_batches = [&](int n) {
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> ids = make_ids("ro", next, kBatch);
      next += kBatch;
      HttpResponse p = post_ids("web", ids);
      EXPECT_EQ(p.status, 202) << "acks must continue while the store is read-only: " << p.body;
      if (p.status == 202) acked.insert(ids.begin(), ids.end());
    }
  };
  post_batches(10);
  ASSERT_TRUE(wait_applied(30s));
  const int64_t before = static_cast<int64_t>(acked.size());

  // The kernel forces the store's file system read-only, as after an ext4 error.
  const size_t mark = hub_->log_size();
  {
    std::ofstream t(trigger);
    t << "1\n";
  }
  // (Kernels >= 6.x mark it "emergency_ro" instead of setting SB_RDONLY: probe a write.)
  {
    const int probe = ::open((dir / "probe").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    const int err = errno;
    if (probe >= 0) ::close(probe);
    ASSERT_LT(probe, 0) << "the store's file system still takes writes after the forced error";
    std::cerr << "[fault] store file system forced read-only: a new file gets " << std::strerror(err) << "\n";
  }
  post_batches(10);
  EXPECT_TRUE(poll_until([&] { return count_of(hub_->log_since(mark), "store apply failed") >= 2; }, 20s))
      << "the applier does not report and retry the failing store";
  json s = status();
  ASSERT_TRUE(s.is_object());
  EXPECT_GT(s["applier"]["lag_entries"].get<int64_t>(), 0);
  EXPECT_FALSE(s["journal"].contains("failed"));

  // Repair: stop (bounded: what is not applied stays in the journal), e2fsck, mount, start.
  EXPECT_EQ(hub_->terminate(30s), 0);
  EXPECT_NE(hub_->log_since(mark).find("not applied yet"), std::string::npos);
  auto u = run_command({umount_bin, dir.string()}, root_);
  ASSERT_EQ(u.exit_code, 0) << u.err;
  auto f = run_command({fsck, "-f", "-y", img.string()}, root_, 60s);
  ASSERT_LE(f.exit_code, 1) << f.out << f.err;  // 1: errors corrected
  ASSERT_EQ(mount_store(), "");
  {
    StoreReader db(dir / "touchpoint.db");
    EXPECT_EQ(db.scalar("SELECT COUNT(*) FROM records"), before);
  }
  ASSERT_NO_FATAL_FAILURE(start_hub());
  ASSERT_TRUE(wait_applied(60s));
  StoreReader db(dir / "touchpoint.db");
  ASSERT_TRUE(
      poll_until([&] { return db.scalar("SELECT COUNT(*) FROM records") >= static_cast<int64_t>(acked.size()); }, 30s));
  post_batches(2);  // and it takes records again
  ASSERT_TRUE(wait_applied(30s));
  expect_exactly_once(db, "web", acked, acked);
  EXPECT_EQ(hub_->terminate(30s), 0);
}

}  // namespace
}  // namespace tp_fault
