// The SQLite store's schema: its migrations, applied in order at start, and the integrity check a store
// file must pass before it is used.
#pragma once
#include <string>

#include "store/sqlite/sqlite_db.hpp"

namespace shipgate::orchestration {

// Checks the file (PRAGMA quick_check); returns why it cannot be used, empty when it can.
std::string quick_check(Db& db);

// Applies the migrations this store has not run yet, each in its own transaction; returns why one
// failed (or the schema is newer than this program), empty on success.
std::string migrate(Db& db);

}  // namespace shipgate::orchestration
