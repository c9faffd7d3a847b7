#pragma once
// The backends the store conformance suite (tests/unit/store) and the
// customer model tests (tests/unit/customer) run against. Every backend
// registers a factory here; each test gets a fresh storage location of its
// own (a temp file for SQLite; a fresh database for PostgreSQL later) and
// may open several Store objects on it at once (another connection, another
// process, a reopen after a crash).
//
// A new backend adds one .cpp file to touchpoint_store_test_backends with a
//   const test::BackendRegistrar kRegistrar{{"postgres", [](std::string* skip) { ... }}};
// and every TEST_P of both suites runs against it too.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "temp_dir.hpp"

namespace touchpoint::core::test {

/// Places where a test can make the backend fail in the middle of a
/// transaction (what a full disk or a constraint failure would do).
enum class Failure {
  record_insert,       ///< inserting the record whose id is `arg`
  merge_state_update,  ///< any StoreTxn::set_merge_state
  audit_insert,        ///< any StoreTxn::add_audit whose action is `arg`
};

/// One storage location of a backend under test.
class BackendInstance {
 public:
  virtual ~BackendInstance() = default;
  /// A new Store on this location. Several may be open at the same time:
  /// each is what another process opening the same store would have.
  virtual std::unique_ptr<Store> open() = 0;
  /// Makes the backend fail at `point` from now on; false if this backend cannot.
  virtual bool inject_failure(Failure point, const std::string& arg) = 0;
  virtual void clear_failures() = 0;
  /// Whether a forked child process may open() this location.
  virtual bool forkable() const { return true; }
};

struct BackendFactory {
  std::string name;
  /// A fresh, empty location, or nullptr with *skip saying why the backend is unavailable.
  std::function<std::unique_ptr<BackendInstance>(std::string* skip)> make;
};

/// All registered backends (the suites are instantiated over them).
std::vector<BackendFactory>& backends();

struct BackendRegistrar {
  explicit BackendRegistrar(BackendFactory f) { backends().push_back(std::move(f)); }
};

/// What gtest prints for the parameter (instead of its bytes).
inline void PrintTo(const BackendFactory& f, std::ostream* os) { *os << f.name; }

inline std::string backend_name(const ::testing::TestParamInfo<BackendFactory>& info) { return info.param.name; }

/// A temp dir named tp_store_test.XXXXXX (tests/common/temp_dir.hpp).
struct TempDir : testing_support::TempDir {
  TempDir() : testing_support::TempDir("tp_store_test") {}
};

/// A test over one backend: a fresh location and the store opened on it.
class BackendTest : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override {
    std::string skip;
    instance_ = GetParam().make(&skip);
    if (!instance_) GTEST_SKIP() << GetParam().name << ": " << skip;
    store_ = instance_->open();
  }
  void TearDown() override { store_.reset(); }

  Store& store() { return *store_; }
  BackendInstance& instance() { return *instance_; }
  /// Closes the store and opens it again (a restart, or a new process after a crash).
  void reopen() {
    store_.reset();
    store_ = instance_->open();
  }
  /// inject_failure, or skip the test when the backend cannot.
  void inject_or_skip(Failure point, const std::string& arg = "") {
    if (!instance_->inject_failure(point, arg)) GTEST_SKIP() << GetParam().name << " cannot inject this failure";
  }

  std::unique_ptr<BackendInstance> instance_;
  std::unique_ptr<Store> store_;
};

/// inject_or_skip() in a test body: returns from the test when it was skipped.
#define TP_INJECT_OR_SKIP(...)                \
  do {                                        \
    inject_or_skip(__VA_ARGS__);              \
    if (::testing::Test::IsSkipped()) return; \
  } while (0)

}  // namespace touchpoint::core::test
