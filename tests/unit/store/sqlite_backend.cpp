// The SQLite backend of the conformance suites: a fresh database file per
// test; failures injected with triggers on a separate raw connection.

#include <sqlite3.h>

#include <stdexcept>

#include "backend.hpp"
#include "store/sqlite_store.hpp"

namespace touchpoint::core::test {

std::vector<BackendFactory>& backends() {
  static std::vector<BackendFactory> all;
  return all;
}

namespace {

void exec_sql(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  if (sqlite3_open(db.c_str(), &h) != SQLITE_OK) {
    sqlite3_close(h);
    throw std::runtime_error("cannot open " + db.string());
  }
  char* err = nullptr;
  const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  if (rc != SQLITE_OK) throw std::runtime_error(sql + ": " + msg);
}

/// SQL string literal.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

class SqliteInstance final : public BackendInstance {
 public:
  std::filesystem::path path() const { return dir_ / "data" / "touchpoint.db"; }

  std::unique_ptr<Store> open() override { return std::make_unique<SqliteStore>(path()); }

  bool inject_failure(Failure point, const std::string& arg) override {
    const std::string name = "tp_test_fail_" + std::to_string(++triggers_);
    std::string sql;
    switch (point) {
      case Failure::record_insert:
        sql = "CREATE TRIGGER " + name + " BEFORE INSERT ON records WHEN NEW.id=" + quoted(arg) +
              " BEGIN SELECT RAISE(ABORT, 'injected failure'); END";
        break;
      case Failure::merge_state_update:
        sql = "CREATE TRIGGER " + name +
              " BEFORE UPDATE OF state ON merges BEGIN SELECT RAISE(ABORT, 'injected failure'); END";
        break;
      case Failure::audit_insert:
        sql = "CREATE TRIGGER " + name + " BEFORE INSERT ON audit WHEN NEW.action=" + quoted(arg) +
              " BEGIN SELECT RAISE(ABORT, 'injected failure'); END";
        break;
    }
    exec_sql(path(), sql);
    names_.push_back(name);
    return true;
  }

  void clear_failures() override {
    for (const std::string& n : names_) exec_sql(path(), "DROP TRIGGER IF EXISTS " + n);
    names_.clear();
  }

 private:
  TempDir dir_;
  int triggers_ = 0;
  std::vector<std::string> names_;
};

const BackendRegistrar kSqlite{
    {"sqlite", [](std::string*) -> std::unique_ptr<BackendInstance> { return std::make_unique<SqliteInstance>(); }}};

}  // namespace
}  // namespace touchpoint::core::test
