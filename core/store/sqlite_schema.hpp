#pragma once
// Versioned schema migrations of the SQLite store, applied at start-up.

#include "store/sqlite_db.hpp"

namespace touchpoint::core::sqlite {

/// Applies every migration newer than the database's version, each in its
/// own transaction. Returns the resulting schema version.
int migrate(Database& db);

/// The newest schema version this build knows.
int latest_schema_version();

}  // namespace touchpoint::core::sqlite
