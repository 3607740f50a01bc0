// SQLite store: the Store interface over one write connection, owned by the group-commit writer
// (sqlite_writer.hpp), and one read connection. Its schema is in sqlite_schema.cpp, its row mapping in
// sqlite_rows.cpp. WAL mode with synchronous=FULL: a commit is on disk when COMMIT returns.
#include "store/sqlite/sqlite_store.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <pthread.h>
#include <sched.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_reads.hpp"
#include "store/sqlite/sqlite_rows.hpp"
#include "store/sqlite/sqlite_schema.hpp"
#include "store/sqlite/sqlite_writer.hpp"
#include "store/sqlite/sqlite_writes.hpp"

namespace shipgate::orchestration {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

class SqliteStore final : public Store {
 public:
  SqliteStore(SqliteStoreOptions options, std::shared_ptr<const Clock> clock, int lock_fd)
      : options_(std::move(options)), clock_(std::move(clock)), lock_fd_(lock_fd) {}

  ~SqliteStore() override {
    close();
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  std::string open() {
    if (auto err = writer_db_.open(options_.path, false); !err.empty()) return err;
    // temp_store=MEMORY keeps the statement journal of each write's SAVEPOINT in memory: on disk it
    // cost a temporary-file write per changed page per write (most of the writer's system time).
    for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
                               "PRAGMA temp_store=MEMORY"})
      if (writer_db_.exec(pragma) != SQLITE_OK) return writer_db_.last_error();
    if (auto err = quick_check(writer_db_); !err.empty()) return err;
    if (auto err = migrate(writer_db_); !err.empty()) return err;
    if (auto err = reader_db_.open(options_.path, true); !err.empty()) return err;
    writer_.start();
    return {};
  }

  void close() override { writer_.close(); }

  // These are deliberately not coroutines: they hand the work to the writer and return its
  // awaitable. (GCC 12 double-destroys lambda captures created inside a co_await expression.)
  asio::awaitable<Result<IngestResult>> ingest(IngestRequest request) override {
    return writer_.submit<IngestResult>(
        [this, req = std::move(request)](Db& db) -> Result<IngestResult> { return writes_.do_ingest(db, req); });
  }

  asio::awaitable<Result<TransitionOutcome>> transition(TransitionRequest request) override {
    return writer_.submit<TransitionOutcome>(
        [this, req = std::move(request)](Db& db) -> Result<TransitionOutcome> { return writes_.do_transition(db, req); });
  }

  // One process alone holds every lane: the lane arguments change nothing here.
  asio::awaitable<Result<void>> record_result(std::int64_t id, json result, std::optional<LaneHold>) override {
    return writer_.submit<void>([this, id, r = std::move(result)](Db& db) -> Result<void> {
      auto st = db.prepare("UPDATE deployments SET result = ?, updated_at = ? WHERE id = ?");
      st.bind(1, r.dump()).bind(2, now_ms()).bind(3, id);
      if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      return {};
    });
  }

  asio::awaitable<Result<ApprovalOutcome>> approve(ApprovalRequest request) override {
    return writer_.submit<ApprovalOutcome>(
        [this, req = std::move(request)](Db& db) -> Result<ApprovalOutcome> { return writes_.do_approve(db, req); });
  }

  asio::awaitable<Result<std::vector<std::int64_t>>> expire_due(std::int64_t now) override {
    return writer_.submit<std::vector<std::int64_t>>(
        [this, now](Db& db) -> Result<std::vector<std::int64_t>> { return writes_.do_expire(db, now); });
  }

  asio::awaitable<Result<void>> set_waiting_reason(std::int64_t id, std::string reason) override {
    return writer_.submit<void>([this, id, reason = std::move(reason)](Db& db) -> Result<void> {
      auto st = db.prepare("UPDATE deployments SET waiting_reason = ?, updated_at = ? WHERE id = ? AND waiting_reason != ?");
      st.bind(1, reason).bind(2, now_ms()).bind(3, id).bind(4, reason);
      if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      return {};
    });
  }

  asio::awaitable<Result<void>> record_audit(AuditEntry entry) override {
    return writer_.submit<void>([this, e = std::move(entry)](Db& db) -> Result<void> { return writes_.add_audit(db, e); });
  }

  asio::awaitable<Result<bool>> claim_schedule_run(ScheduleRun run, std::optional<std::int64_t> seen) override {
    return writer_.submit<bool>(
        [this, r = std::move(run), seen](Db& db) -> Result<bool> { return writes_.claim_schedule_run(db, r, seen); });
  }

  asio::awaitable<Result<void>> finish_schedule_run(ScheduleRun run, AuditEntry audit) override {
    return writer_.submit<void>([this, r = std::move(run), a = std::move(audit)](Db& db) -> Result<void> {
      return writes_.finish_schedule_run(db, r, a);
    });
  }

  asio::awaitable<Result<std::vector<ScheduleRun>>> schedule_runs() override { co_return reads_.schedule_runs(); }

  asio::awaitable<Result<void>> record_drift(DriftRecord record) override {
    return writer_.submit<void>([this, r = std::move(record)](Db& db) -> Result<void> { return writes_.record_drift(db, r); });
  }

  asio::awaitable<Result<std::vector<DriftState>>> drift_states() override { co_return reads_.drift_states(); }

  asio::awaitable<Result<void>> open_session(WebSession session) override {
    return writer_.submit<void>([s = std::move(session)](Db& db) -> Result<void> {
      auto expired = db.prepare("DELETE FROM web_sessions WHERE expires_at <= ?");
      expired.bind(1, s.created_ms);
      if (expired.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      auto st = db.prepare("INSERT INTO web_sessions (id_sha256, reviewer, token_sha256, created_at, expires_at) "
                           "VALUES (?, ?, ?, ?, ?)");
      st.bind(1, s.id_sha256).bind(2, s.reviewer).bind(3, s.token_sha256).bind(4, s.created_ms).bind(5, s.expires_ms);
      if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      return {};
    });
  }
  asio::awaitable<Result<std::optional<WebSession>>> find_session(std::string id_sha256, std::int64_t now_ms) override {
    co_return reads_.find_session(id_sha256, now_ms);
  }
  asio::awaitable<Result<void>> close_session(std::string id_sha256) override {
    return writer_.submit<void>([id = std::move(id_sha256)](Db& db) -> Result<void> {
      auto st = db.prepare("DELETE FROM web_sessions WHERE id_sha256 = ?");
      st.bind(1, id);
      if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      return {};
    });
  }

  asio::awaitable<Result<std::optional<Deployment>>> deployment(std::int64_t id, bool with_history) override {
    co_return reads_.deployment(id, with_history);
  }
  asio::awaitable<Result<std::vector<Deployment>>> deployments(DeploymentFilter filter) override {
    co_return reads_.deployments(filter);
  }
  asio::awaitable<Result<std::optional<Deployment>>> next_to_run(std::string project, std::string environment) override {
    co_return reads_.next_to_run(project, environment);
  }
  asio::awaitable<Result<std::vector<std::pair<std::string, std::string>>>> lanes_with_work() override {
    co_return reads_.lanes_with_work();
  }
  asio::awaitable<Result<std::vector<OutboxItem>>> outbox_due(std::int64_t now_ms, int limit) override {
    co_return reads_.outbox_due(now_ms, limit);
  }
  asio::awaitable<Result<std::set<std::string>>> unfinished_config_shas() override {
    co_return reads_.unfinished_config_shas();
  }
  asio::awaitable<Result<std::optional<Deployment>>> find_version(std::string project, std::string version) override {
    co_return reads_.find_version(project, version);
  }
  asio::awaitable<Result<std::vector<StateCount>>> state_counts() override { co_return reads_.state_counts(); }
  asio::awaitable<Result<std::vector<BadVersion>>> bad_versions(std::string project, std::string environment) override {
    co_return reads_.bad_versions(project, environment);
  }
  asio::awaitable<Result<std::vector<AuditEntry>>> audit(AuditFilter filter) override { co_return reads_.audit(filter); }
  asio::awaitable<Result<void>> ping() override { co_return reads_.ping(); }

  asio::awaitable<Result<std::optional<LaneHold>>> claim_lane(std::string project, std::string environment) override {
    co_return std::optional<LaneHold>(LaneHold{std::move(project), std::move(environment), 0});
  }
  asio::awaitable<Result<bool>> renew_lane(LaneHold) override { co_return true; }
  asio::awaitable<Result<void>> release_lane(LaneHold) override { co_return Result<void>(); }
  bool shared() const override { return false; }
  // One process: it loaded every config it runs, and no other replica asks.
  asio::awaitable<Result<void>> record_replica(ReplicaSeen) override { co_return Result<void>(); }
  asio::awaitable<Result<std::vector<ReplicaSeen>>> replicas() override { co_return std::vector<ReplicaSeen>(); }
  asio::awaitable<Result<void>> record_config(std::string, std::string) override { co_return Result<void>(); }
  asio::awaitable<Result<std::optional<std::string>>> config_source(std::string) override {
    co_return std::optional<std::string>();
  }
  void on_work(std::function<void(const std::string&, const std::string&)>) override {}

  void record_events(bool on) override { record_events_ = on; }

  asio::awaitable<Result<void>> outbox_expand(std::vector<std::int64_t> event_ids, std::vector<OutboxItem> deliveries) override {
    return writer_.submit<void>([this, event_ids = std::move(event_ids), deliveries = std::move(deliveries)](Db& db) -> Result<void> {
      const auto now = now_ms();
      for (const auto& d : deliveries) {
        auto ins = db.prepare(
            "INSERT INTO outbox (kind, destination, deployment_id, event, payload, next_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)");
        ins.bind(1, to_string(d.kind)).bind(2, d.destination).bind(3, d.deployment).bind(4, d.event).bind(5, d.payload.dump());
        ins.bind(6, now).bind(7, now);
        if (ins.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      }
      for (const auto event_id : event_ids) {
        auto up = db.prepare("UPDATE outbox SET done_at = ?, outcome = 'expanded' WHERE id = ?");
        up.bind(1, now).bind(2, event_id);
        if (up.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      }
      return {};
    });
  }

  asio::awaitable<Result<void>> outbox_record(OutboxAttempt attempt) override {
    return writer_.submit<void>([this, a = std::move(attempt)](Db& db) -> Result<void> {
      const auto now = now_ms();
      auto up = db.prepare(
          "UPDATE outbox SET attempts = attempts + 1, next_at = ?, done_at = ?, outcome = ?, last_error = ? WHERE id = ?");
      up.bind(1, a.next_ms);
      if (a.outcome == OutboxOutcome::pending) up.bind_null(2);
      else up.bind(2, now);
      up.bind(3, to_string(a.outcome)).bind(4, a.error).bind(5, a.id);
      if (up.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      if (a.github_id > 0) {
        auto g = db.prepare("UPDATE deployments SET github_id = ? WHERE id = ?");
        g.bind(1, a.github_id).bind(2, a.deployment);
        if (g.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      }
      return {};
    });
  }

  asio::awaitable<Result<std::int64_t>> outbox_prune(std::int64_t before_ms) override {
    // Most prunes find nothing old enough: a read says so without taking the write lock for a commit
    // (and its fsync), which would also stand in the way of the writes that matter.
    auto prunable = reads_.outbox_prunable(before_ms);
    if (!prunable) co_return prunable.error();
    if (!*prunable) co_return std::int64_t{0};
    co_return co_await delete_finished_outbox(before_ms);
  }
  asio::awaitable<Result<std::int64_t>> delete_finished_outbox(std::int64_t before_ms) {
    return writer_.submit<std::int64_t>([before_ms](Db& db) -> Result<std::int64_t> {
      auto st = db.prepare("DELETE FROM outbox WHERE done_at IS NOT NULL AND done_at < ?");
      st.bind(1, before_ms);
      if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      return static_cast<std::int64_t>(sqlite3_changes(db.handle()));
    });
  }

  asio::awaitable<Result<void>> check_writable() override {
    {
      std::lock_guard lock(probe_mutex_);
      if (std::chrono::steady_clock::now() - probed_at_ < std::chrono::seconds(1)) co_return probe_result_;
    }
    auto result = co_await writer_.submit<void>([this](Db& db) -> Result<void> {
      auto st = db.prepare("INSERT INTO health (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at");
      st.bind(1, now_ms());
      if (st.step() != SQLITE_DONE) return make_error_code(StoreErrc::io_error);
      return {};
    });
    std::lock_guard lock(probe_mutex_);
    probed_at_ = std::chrono::steady_clock::now();
    probe_result_ = result;
    co_return result;
  }

 private:
  std::int64_t now_ms() const { return epoch_ms(clock_->now()); }

  SqliteStoreOptions options_;
  std::shared_ptr<const Clock> clock_;
  int lock_fd_;
  Db writer_db_;
  Db reader_db_;
  SqliteReads reads_{reader_db_};
  GroupCommitWriter writer_{writer_db_, {options_.max_queued_writes, options_.max_batch, options_.on_commit}};
  std::atomic<bool> record_events_{true};
  SqliteWrites writes_{clock_, record_events_};
  std::mutex probe_mutex_;
  std::chrono::steady_clock::time_point probed_at_{};
  Result<void> probe_result_{};
};

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteStoreOptions& options, std::shared_ptr<const Clock> clock) {
  // SQLite's memory statistics take a process-wide mutex on every allocation, and nothing reads them.
  // (Only possible before SQLite initialises; later calls are refused harmlessly.)
  static std::once_flag configured;
  std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  std::error_code fs_ec;
  const auto parent = std::filesystem::path(options.path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, fs_ec);
  // A missing store is created here, 0600 whatever the umask; an empty one is refused unless asked for.
  std::error_code size_ec;
  const auto size = std::filesystem::file_size(options.path, size_ec);
  if (size_ec && size_ec != std::errc::no_such_file_or_directory) {
    spdlog::error("store: cannot read {}: {}", options.path, size_ec.message());
    return make_error_code(StoreErrc::io_error);
  }
  if (!size_ec && size == 0 && !options.init_empty) {
    spdlog::error("store: {} is empty (0 bytes). An empty file where the store should be usually means it was "
                  "truncated or replaced: restore it from a backup, or start once with --init to create a new "
                  "store in it", options.path);
    return make_error_code(StoreErrc::io_error);
  }
  if (size_ec) {
    const int created = ::open(options.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (created < 0 && errno != EEXIST) {
      spdlog::error("store: cannot create {}: {}", options.path, std::strerror(errno));
      return make_error_code(StoreErrc::io_error);
    }
    if (created >= 0) {
      ::fchmod(created, 0600);
      ::close(created);
    }
  }
  const std::string lock_path = options.path + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    spdlog::error("store: cannot open {}: {}", lock_path, std::strerror(errno));
    return make_error_code(StoreErrc::io_error);
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    spdlog::error("store: {} is locked by another shipgate process", options.path);
    ::close(fd);
    return make_error_code(StoreErrc::in_use);
  }
  auto store = std::make_unique<SqliteStore>(options, std::move(clock), fd);
  if (auto err = store->open(); !err.empty()) {
    spdlog::error("store: cannot open {}: {}", options.path, err);
    return make_error_code(StoreErrc::io_error);
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace shipgate::orchestration
