// Real SQLite failing a statement part-way: a progress handler that interrupts the Nth virtual-machine
// step on a connection, once. Sweeping N over a call reaches every point at which SQLite can fail it.
//
// SqliteFile: a migrated store file on disk with the store's writes on its writer connection, for tests
// that call the SQLite store's parts directly.
#pragma once
#include <sqlite3.h>

#include <atomic>
#include <memory>
#include <stdexcept>

#include "common/clock.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_schema.hpp"
#include "store/sqlite/sqlite_writes.hpp"
#include "tests/support/daemon.hpp"

namespace shipgate::testing {

class SqliteInterruption {
 public:
  SqliteInterruption(sqlite3* db, int at_step) : db_(db), at_step_(at_step) {
    sqlite3_progress_handler(db_, 1, &SqliteInterruption::on_step, this);
  }
  ~SqliteInterruption() { sqlite3_progress_handler(db_, 0, nullptr, nullptr); }
  SqliteInterruption(const SqliteInterruption&) = delete;
  SqliteInterruption& operator=(const SqliteInterruption&) = delete;

  // Whether the call ran as far as the chosen step (false: it finished first, the sweep is done).
  bool fired() const { return steps_ >= at_step_; }

 private:
  static int on_step(void* self) {
    auto* me = static_cast<SqliteInterruption*>(self);
    return ++me->steps_ == me->at_step_ ? 1 : 0;
  }

  sqlite3* db_;
  int at_step_;
  int steps_ = 0;
};

struct SqliteFile {
  SqliteFile() {
    if (!writer.open(dir.file("store.db"), false).empty() || !orchestration::migrate(writer).empty())
      throw std::runtime_error("cannot make a store file: " + writer.last_error());
  }
  TempDir dir;
  orchestration::Db writer;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>(from_epoch_ms(1'800'000'000'000));
  std::atomic<bool> record_events{true};
  orchestration::SqliteWrites writes{clock, record_events};
};

}  // namespace shipgate::testing
