// The SQLite store's one writer: a thread that owns the write connection and commits queued writes in
// groups. Every write submitted while the previous commit was syncing shares the next commit (and its
// fsync). Each write runs inside its own SAVEPOINT, so one failing write never undoes another; if the
// commit fails, every write of the group hears so. Included only by the SQLite store.
#pragma once
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_db.hpp"
#include "store/store.hpp"

namespace shipgate::orchestration {

// One queued write: runs on the writer thread inside the group transaction, then completes on the
// submitter's executor after COMMIT.
class WriteOp {
 public:
  virtual ~WriteOp() = default;
  virtual void run(Db& db) = 0;
  virtual bool ok() const = 0;
  virtual void fail(boost::system::error_code ec) = 0;
  virtual void complete() = 0;
};

template <class T, class Fn, class Handler>
class WriteOpImpl final : public WriteOp {
 public:
  WriteOpImpl(Fn fn, Handler h) : fn_(std::move(fn)), handler_(std::move(h)) {}
  void run(Db& db) override { result_.emplace(fn_(db)); }
  bool ok() const override { return result_ && result_->has_value(); }
  void fail(boost::system::error_code ec) override { result_.emplace(boost::system::in_place_error, ec); }
  void complete() override {
    auto ex = boost::asio::get_associated_executor(handler_);
    boost::asio::post(ex, [h = std::move(handler_), r = std::move(*result_)]() mutable { std::move(h)(std::move(r)); });
  }

 private:
  Fn fn_;
  Handler handler_;
  std::optional<Result<T>> result_;
};

class GroupCommitWriter {
 public:
  struct Options {
    std::size_t max_queued = 10'000;  // beyond this, writes fail at once with StoreErrc::overloaded
    std::size_t max_batch = 512;      // writes sharing one commit
    std::function<void(double seconds)> on_commit;  // commit latency, on the writer thread
  };
  GroupCommitWriter(Db& db, Options options) : db_(db), options_(std::move(options)) {}
  ~GroupCommitWriter() { close(); }

  void start();
  // Stops after committing what was already submitted; later writes fail with StoreErrc::closed.
  void close();

  // Runs `fn(Db&) -> Result<T>` on the writer thread inside a group transaction and completes on the
  // caller's executor once the group committed (or failed).
  template <class T, class Fn>
  boost::asio::awaitable<Result<T>> submit(Fn fn) {
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(Result<T>)>(
        [this](auto handler, Fn fn) {
          using Op = WriteOpImpl<T, Fn, decltype(handler)>;
          auto op = std::make_unique<Op>(std::move(fn), std::move(handler));
          std::unique_lock lock(mutex_);
          if (closed_ || queue_.size() >= options_.max_queued) {
            const bool was_closed = closed_;
            lock.unlock();
            op->fail(make_error_code(was_closed ? StoreErrc::closed : StoreErrc::overloaded));
            op->complete();
            return;
          }
          queue_.push_back(std::move(op));
          lock.unlock();
          cv_.notify_one();
        },
        boost::asio::use_awaitable, std::move(fn));
  }

 private:
  void loop();
  void commit_batch(std::vector<std::unique_ptr<WriteOp>>& batch);

  Db& db_;
  Options options_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<WriteOp>> queue_;
  bool closed_ = false;
  std::thread thread_;
};

}  // namespace shipgate::orchestration
