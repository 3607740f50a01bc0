#pragma once
#include <functional>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

struct SqliteStoreOptions {
  std::string path;
  std::size_t max_queued_writes = 10'000;  // beyond this, writes fail fast with StoreErrc::overloaded
  std::size_t max_batch = 512;             // writes sharing one commit
  std::function<void(double seconds)> on_commit;  // commit latency, called on the writer thread
  // A zero-length file at `path` is made a new store (shipgate serve --init). Otherwise it is refused:
  // an empty file where a store is expected usually means the store was truncated or replaced.
  bool init_empty = false;
};

// Opens (creating and migrating) the database. Takes an exclusive lock on PATH.lock so a second
// daemon cannot share the file; a restart after kill -9 gets the lock back at once. A new database
// file is created 0600 (SQLite gives its WAL and shared-memory files the same mode), and an existing
// one must pass SQLite's quick integrity check.
Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteStoreOptions& options,
                                                 std::shared_ptr<const Clock> clock);

}  // namespace shipgate::orchestration
