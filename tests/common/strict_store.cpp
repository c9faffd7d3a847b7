// Linked into every test executable through touchpoint_test_support: the
// SQLite store then refuses any statement whose query plan scans a whole table
// (core/store/sqlite_conn.cpp, Conn::check_plan), so a missing or unusable
// index fails a test instead of surfacing as a slow production import.
// An explicit TOUCHPOINT_SQLITE_PLAN_CHECK=0 in the environment still wins.

#include <cstdlib>

namespace {
const bool kPlanCheck = [] { return ::setenv("TOUCHPOINT_SQLITE_PLAN_CHECK", "1", 0) == 0; }();
}  // namespace
