#pragma once
#include <functional>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "orchestration/store.hpp"

namespace shipgate::orchestration {

struct SqliteStoreOptions {
  std::string path;
  std::size_t max_queued_writes = 10'000;  // beyond this, writes fail fast with StoreErrc::overloaded
  std::size_t max_batch = 512;             // writes sharing one commit
  std::function<void(double seconds)> on_commit;  // commit latency, called on the writer thread
};

// Opens (creating and migrating) the database. Takes an exclusive lock on PATH.lock so a second
// daemon cannot share the file; a restart after kill -9 gets the lock back at once.
Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteStoreOptions& options,
                                                 std::shared_ptr<const Clock> clock);

}  // namespace shipgate::orchestration
