#include "store/sqlite/sqlite_writer.hpp"

#include <pthread.h>
#include <sched.h>

#include <chrono>

#include <spdlog/spdlog.h>

namespace shipgate::orchestration {

void GroupCommitWriter::start() { thread_ = std::thread([this] { loop(); }); }

void GroupCommitWriter::close() {
  {
    std::lock_guard lock(mutex_);
    if (closed_ && !thread_.joinable()) return;
    closed_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void GroupCommitWriter::loop() {
  // SCHED_BATCH: waking the writer does not preempt the thread that submitted the write. When both
  // share a core, the HTTP thread finishes the requests it has already read (and submits them
  // too) before the writer runs: half the context switches, and fuller commits. On an idle core
  // the writer runs at once as before. Needs no privilege; if refused, the default policy stays.
  sched_param normal{};
  if (pthread_setschedparam(pthread_self(), SCHED_BATCH, &normal) != 0)
    spdlog::debug("store: the writer thread keeps the default scheduling policy");
  std::vector<std::unique_ptr<WriteOp>> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return closed_ || !queue_.empty(); });
      // Woken by the first write of a burst: give the threads submitting the rest of it a turn
      // before taking the batch, so they share this commit instead of waiting for the next one.
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
      if (queue_.empty()) return;  // closed and drained
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    commit_batch(batch);
    for (auto& op : batch) op->complete();
    batch.clear();
  }
}

void GroupCommitWriter::commit_batch(std::vector<std::unique_ptr<WriteOp>>& batch) {
  if (db_.exec("BEGIN IMMEDIATE") != SQLITE_OK) {
    spdlog::error("store: cannot begin transaction: {}", db_.last_error());
    for (auto& op : batch) op->fail(make_error_code(StoreErrc::io_error));
    return;
  }
  // A savepoint that cannot be taken, undone or released leaves the transaction in an unknown state:
  // then nothing of the batch is committed.
  bool intact = true;
  for (auto& op : batch) {
    // Cached statements: parsing them for every write cost more than running them.
    if (db_.prepare("SAVEPOINT op").step() != SQLITE_DONE) {
      intact = false;
      break;
    }
    op->run(db_);
    if (!op->ok() && db_.prepare("ROLLBACK TO op").step() != SQLITE_DONE) intact = false;
    if (db_.prepare("RELEASE op").step() != SQLITE_DONE) intact = false;
    if (!intact) break;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const bool committed = intact && db_.exec("COMMIT") == SQLITE_OK;
  if (committed && options_.on_commit)
    options_.on_commit(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  if (!committed) {
    // Nothing of this batch is durable: every submitter hears so and answers accordingly.
    spdlog::error("store: commit failed: {}", db_.last_error());
    db_.exec("ROLLBACK");
    for (auto& op : batch) op->fail(make_error_code(StoreErrc::io_error));
  }
}

}  // namespace shipgate::orchestration
